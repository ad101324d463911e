"""README's two commands: the first, verbatim, as root in a fresh Debian 12; the second, verbatim, in CI.

The fresh machine is ``debootstrap --variant=minbase bookworm`` with nothing added (no python3, no pip),
copied anew from a cached pristine base for each run (``tests/fresh/base.py``, ``chroot.py``). The test
reads the command from README.md, so the README cannot drift from what is proven. It needs root,
debootstrap and Debian's mirror; without them it skips, unless AUDITOR_LAB_REQUIRED=1 (CI): then it fails.

Ubuntu 24.04 is not proven here: debootstrapping noble needs Ubuntu's archive, which CI cannot reach.
install.sh uses only what both distributions share (apt-get, python3-venv, /usr/bin/python3).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKOUT = "/root/auditor"
AUDIT_EXIT_CODES = (0, 1, 3)  # docs/reference.md "Exit codes": everything but 2 (bad input) is a finished audit
TOOLS = ("debootstrap", "unshare", "chroot", "mount", "umount")


def readme_commands() -> list[str]:
    """The command lines of the first ``sh`` block under README's "Two commands"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, 'README.md: no ```sh block under "## Two commands"'
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_gives_two_commands_and_ci_runs_the_second_as_written() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    install_and_audit, tests = commands
    assert "sh install.sh" in install_and_audit and "auditor run" in install_and_audit
    assert "python3 -m pytest" in tests
    ci = (REPO / ".ci/run").read_text(encoding="utf-8")
    assert any(line.strip() == tests for line in ci.splitlines()), f".ci/run does not run {tests!r} as written"
    # CI must not depend on a python3 or pip this image happens to have: only /opt/auditor's, made by install.sh.
    for line in ci.splitlines():
        words = line.split("#", 1)[0].split()
        assert not any(w in ("python", "python3", "pip", "pip3") for w in words), f".ci/run: {line.strip()}"


def unavailable() -> str | None:
    if sys.platform != "linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (debootstrap, chroot, mounts)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install debootstrap util-linux mount)"
    return None


@pytest.mark.fresh
def test_first_command_verbatim_on_a_fresh_debian_12() -> None:
    from tests.conftest import skip_or_fail
    from tests.fresh.base import ensure_base
    from tests.fresh.chroot import fresh_root

    reason = unavailable()
    if reason:
        skip_or_fail(reason)
    try:
        base = ensure_base()
    except Exception as exc:  # no mirror reachable, debootstrap broken, ...
        skip_or_fail(f"cannot build the fresh Debian base: {exc}")
    first = readme_commands()[0]
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    schema = json.loads((REPO / "auditor/schemas/results.schema.json").read_text())

    with fresh_root(base, REPO, CHECKOUT) as box:
        for absent in ("/usr/bin/python3", "/usr/bin/pip", "/usr/bin/pip3", "/usr/local/bin/auditor"):
            assert not box.path(absent).exists(), f"the base is not fresh: {absent} exists"

        done = box.run(first, cwd=CHECKOUT)
        out = f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
        assert done.returncode in AUDIT_EXIT_CODES, f"{first!r} exited {done.returncode}\n{out}"

        (report,) = box.path(f"{CHECKOUT}/reports").iterdir()
        document = json.loads((report / "results.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(document)
        assert document["run"]["complete"] is True, out
        assert len(document["hosts"]) == 1 and document["hosts"][0]["results"], out
        html = (report / "report.html").read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html") and html.rstrip().endswith("</html>")

        assert os.readlink(box.path("/usr/local/bin/auditor")) == "/opt/auditor/bin/auditor"
        cfg = box.path("/opt/auditor/pyvenv.cfg").read_text()
        assert re.search(r"^home = /usr/bin$", cfg, re.M), cfg  # the distribution's python3, nothing else
        shown = box.run("/usr/local/bin/auditor --version")
        assert shown.returncode == 0 and version in shown.stdout, shown.stdout + shown.stderr

        # Again, after a change in the checkout: the installer upgrades in place.
        marker = "# changed after the first install"
        with box.path(f"{CHECKOUT}/auditor/__init__.py").open("a") as f:
            f.write(f"\n{marker}\n")
        again = box.run(first, cwd=CHECKOUT)
        assert again.returncode in AUDIT_EXIT_CODES, f"second run exited {again.returncode}\n{again.stderr[-6000:]}"
        (installed,) = box.path("/opt/auditor/lib").glob("python3.*/site-packages/auditor/__init__.py")
        assert marker in installed.read_text()
        assert len(list(box.path(f"{CHECKOUT}/reports").iterdir())) == 2
