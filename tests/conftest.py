"""Shared pytest setup.  The `lab` fixture starts the namespace test lab (tests/lab/).

Lab tests need root, network namespaces, overlayfs and debootstrap.  Without them
they are skipped with the reason, unless AUDITOR_LAB_REQUIRED=1 (CI), which turns
the skip into a hard failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # makes `tests.lab` importable
# Every `python -m auditor` a test starts runs this checkout, whatever its working folder: never a copy
# installed earlier in site-packages.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))

LAB_TOOLS = ("debootstrap", "ip", "unshare", "chroot", "mount", "umount", "ssh-keygen")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lab: needs the namespace test lab (root, netns, overlayfs)")
    # Runs started outside a test function (module fixtures) record here, never into the machine's history.
    os.environ["AUDITOR_DB"] = f"sqlite:///{_SESSION_HISTORY.name}/history.db"


_SESSION_HISTORY = tempfile.TemporaryDirectory(prefix="auditor-test-history-")


@pytest.fixture(scope="session")
def example_evidence_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example evidence/ folder with its attestation dates moved to today (tests.helpers.example_evidence):
    tests that expect its documents to pass keep passing whatever the date. Read it, do not edit it."""
    from tests.helpers import example_evidence

    return example_evidence(tmp_path_factory.mktemp("example-evidence") / "evidence")


def lab_required() -> bool:
    return os.environ.get("AUDITOR_LAB_REQUIRED") == "1"


def lab_unavailable_reason() -> str | None:
    """Why the lab cannot run on this machine, or None when it can."""
    if sys.platform != "linux":
        return "the lab needs Linux"
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, mounts, chroot)"
    missing = [t for t in LAB_TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install debootstrap iproute2 openssh-client)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "overlayfs not available in this kernel"
    try:
        import paramiko  # noqa: F401
    except ImportError:
        return "paramiko not installed"
    probe = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "true"], capture_output=True)
    if probe.returncode != 0:
        return f"cannot create namespaces: {probe.stderr.decode().strip()}"
    return None


def skip_or_fail(reason: str) -> None:
    if lab_required():
        pytest.fail(f"AUDITOR_LAB_REQUIRED=1 but the lab cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lab() -> Iterator[object]:
    """One host per profile (compliant1, noncompliant1, tricky1, minimal1, logsrv1,
    nosudo1), started once per session.  Yields a ``tests.lab.lab.Lab``:

    - ``lab.hosts``: Host objects with ``name``, ``profile`` (module; ``.NAME``),
      ``address``, ``expected`` (the profile's EXPECTED), ``root`` (its filesystem
      as seen from here);
    - ``lab.inventory`` (Ansible INI), ``lab.known_hosts``, ``lab.key``, ``lab.log_server``;
    - ``lab.write_variant(dir, hosts=None, wrong_key_for=("compliant1",))`` -> (inventory
      with an added down host ``down1``, known_hosts with a wrong key for those hosts).
    """
    from tests.lab.lab import lab_network
    from tests.lab.profiles import LAB_PROFILES

    # The session lab uses the lower half of its /24 (AUDITOR_LAB_NET, default 10.77.0.0/24); the
    # upper half is left for the small labs that tests start and stop themselves.
    bridge, subnet = lab_network()
    with running_lab(LAB_PROFILES, bridge, subnet.replace(".0/24", ".0/25")) as the_lab:
        yield the_lab


@contextlib.contextmanager
def running_lab(profiles: Sequence[str], bridge: str, subnet: str) -> Iterator[Any]:
    """A started lab of these profiles, stopped afterwards; skips (or fails in CI) where a lab cannot run."""
    reason = lab_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    from tests.lab import rootfs
    from tests.lab.lab import Lab

    try:
        rootfs.ensure_base()
    except Exception as exc:  # no mirror reachable, debootstrap broken, ...
        skip_or_fail(f"cannot build the lab base rootfs: {exc}")
    the_lab = Lab(profiles, bridge=bridge, subnet=subnet, keep=os.environ.get("AUDITOR_LAB_KEEP") == "1")
    the_lab.start()
    try:
        yield the_lab
    finally:
        problems = the_lab.stop()
        if problems:
            raise RuntimeError(f"lab teardown ({bridge}) left: " + "; ".join(problems))


def results_by_host(lab: Any, out: Path) -> dict[str, dict[str, Any]]:
    """``auditor run`` (the real command, no network probes) on a lab: each host's results by check id."""
    cmd = [sys.executable, "-m", "auditor", "run", "--inventory", str(lab.inventory),
           "--known-hosts", str(lab.known_hosts), "--output", str(out / "run"), "--no-network"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert (out / "run/results.json").exists(), proc.stderr[-3000:]
    document = json.loads((out / "run/results.json").read_text())
    return {h["name"]: {r["check"]: r for r in h["results"]} for h in document["hosts"]}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL 15 server for the session (tests/postgres.py); skipped only where its binaries are
    missing and AUDITOR_LAB_REQUIRED is unset (CI installs them)."""
    from tests.postgres import running_postgres, unavailable_reason

    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history store, SQLite then PostgreSQL: the store tests run against both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return str(request.getfixturevalue("postgres_server").new_database())


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `auditor run` of a test records into a store of its own, never the machine's history."""
    monkeypatch.setenv("AUDITOR_DB", f"sqlite:///{tmp_path_factory.mktemp('history') / 'history.db'}")
