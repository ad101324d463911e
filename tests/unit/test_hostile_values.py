"""Every registered fact type, given hostile parameter values, either refuses the value before any host
is contacted, or builds a snippet that real /bin/sh (dash) runs without any command reading the value
as an option and without running anything the value names.

The commands a snippet calls are stubs on PATH that record their argv (the shell, its builtins, its
quoting and globbing are the real thing); run as root, each snippet also sees ``/run/systemd/system``
(in a private mount namespace) so that its systemd branch runs too. The log server's ``find`` is run
for real (the reproduction: ``log_marker_paths='-exec,touch,PWN,;'``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.catalog import load_catalog
from auditor.catalog.hostvalues import path_list
from auditor.catalog.playbook import load_playbook
from auditor.evaluate import render
from auditor.facts import REGISTRY
from auditor.facts.base import UnsafeValue, strict_schema
from auditor.network import logmarker

TOKEN = "HOSTILE"
HOSTILE = [
    f"-{TOKEN}",
    f"--{TOKEN}=1",
    f"-exec,touch,{TOKEN}-PWN,;",
    f"{TOKEN} -x --y",
    f"{TOKEN}'\"q",
    f"{TOKEN}\n-x",
    f"\n-{TOKEN}",
    f"$(touch {TOKEN}-PWN)",
    f"`touch {TOKEN}-PWN`",
    f"{TOKEN};touch {TOKEN}-PWN",
    f"*{TOKEN}",
    "-*",
    "*",
    f"./-{TOKEN}",
    f"~/-{TOKEN}",
    f"{TOKEN}/../-x",
    f"/{TOKEN}/-x",
    f"/{TOKEN}\n-x",
    f"/{TOKEN} $(touch {TOKEN}-PWN) *",
]
# Commands snippets may call: each a stub recording its argv. A set without the first choices makes
# snippets take their other branches (rpm, iptables-save, /proc instead of ps).
COMMANDS = [
    "apt-get", "awk", "base64", "cat", "date", "dpkg-query", "find", "grep", "head", "id", "ip6tables-save",
    "iptables-legacy-save", "iptables-save", "logger", "logrotate", "ls", "mktemp", "modprobe", "nft", "ps",
    "rm", "rpm", "sed", "sleep", "sort", "sshd", "stat", "sysctl", "systemctl", "tar", "touch", "xargs",
]  # fmt: skip
SECOND_CHOICES = {"dpkg-query", "nft", "ps"}
# Options that take the next argument as their value (a value may be anything: it is not an option).
VALUE_OPTIONS = {"-e", "-f", "-c", "-o", "-C", "--qf", "-t", "-p", "-d"}
# Parameters the catalog never sets, so they get a valid value here before each is made hostile.
OPTIONAL = {"clamav_db": {"database": "daily"}}
# Catalog-authored shell text (reviewed like code): no parameter can reach it, which is what is tested.
CODE = {("command", "run")}

STUB = """#!/bin/sh
{ printf '%s' "${0##*/}"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036'; } >> "$STUBLOG"
case ${0##*/} in date) echo 1700000000;; mktemp) echo /nonexistent;; esac
exit 0
"""


def baseline() -> dict[str, dict[str, Any]]:
    """One valid parameter set per fact type: the catalog's first, rendered with the playbooks' defaults."""
    catalog = load_catalog()
    defaults = {**load_playbook("agency", catalog).params, **load_playbook("baseline", catalog).params}
    defaults["windows_allowed_admins"] = ["Administrator"]
    found: dict[str, dict[str, Any]] = {}
    for check in catalog.checks.values():
        for spec in check.facts.values():
            if spec.type in REGISTRY and spec.type not in found:
                found[spec.type] = render(spec.params, defaults)
    found.setdefault("service", {"units": ["ssh"], "processes": ["sshd"]})
    # Types the catalog no longer uses but playbooks and checks of one's own still may.
    found.setdefault("file", {"paths": ["/etc/ssh/sshd_config"]})
    found.setdefault("config_grep", {"paths": ["/etc/login.defs"], "pattern": "^PASS_MAX_DAYS"})
    for name, extra in OPTIONAL.items():
        found[name] = {**extra, **found.get(name, {})}
    return found


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the string leaves of a parameter set."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path] if isinstance(value, str) else []


def replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    return [replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


def takes_strings(schema: dict[str, Any]) -> bool:
    return '"string"' in json.dumps(schema)


def positions(type_name: str) -> list[tuple[Any, ...]]:
    """Every string leaf of the baseline, and every parameter that accepts a string set to a number there."""
    params = BASELINE[type_name]
    declared = REGISTRY[type_name].params_schema.get("properties", {})
    extra = [(k,) for k, s in declared.items() if takes_strings(s) and not isinstance(params.get(k), str | list)]
    return leaves(params) + extra


BASELINE = baseline()
CASES = [
    (type_name, path, value)
    for type_name in sorted(BASELINE)
    for path in positions(type_name)
    if (type_name, path[0]) not in CODE
    for value in HOSTILE
]


def test_every_fact_type_and_every_string_parameter_is_walked() -> None:
    """A new fact type, or a new parameter, is walked here as soon as it is registered."""
    assert set(BASELINE) == set(REGISTRY)
    for type_name, fact_type in REGISTRY.items():
        walked = {path[0] for path in positions(type_name)} | {p for t, p in CODE if t == type_name}
        strings = {k for k, s in fact_type.params_schema.get("properties", {}).items() if takes_strings(s)}
        assert strings <= walked, f"{type_name}: parameters not walked: {strings - walked}"


def test_catalog_code_takes_no_parameter() -> None:
    schema = REGISTRY["command"].params_schema
    assert not jsonschema.Draft202012Validator(schema).is_valid({"run": "ls {{ backup_paths }}"})


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stubs")
    sets = {}
    for name, skip in (("first", set()), ("second", SECOND_CHOICES)):
        bin_dir = root / name
        bin_dir.mkdir()
        for command in COMMANDS:
            if command not in skip:
                (bin_dir / command).write_text(STUB)
                (bin_dir / command).chmod(0o755)
        sets[name] = bin_dir
    return sets


def _private_run() -> list[str]:
    """As root: a mount namespace where /run/systemd/system exists, so systemd branches run too."""
    tools = [shutil.which(t) for t in ("unshare", "mount", "mkdir")]
    if os.geteuid() != 0 or None in tools:
        return []
    unshare, mount, mkdir = tools
    return [unshare, "--mount", "/bin/sh", "-c",  # type: ignore[list-item]
            f'{mount} -t tmpfs none /run && {mkdir} -p /run/systemd/system && exec /bin/sh -c "$1"', "sh"]  # fmt: skip


PRIVATE = _private_run()


def run_snippet(snippet: str, bin_dir: Path, work: Path) -> list[list[str]]:
    """The argv of every command the snippet ran (dash, PATH = stubs, cwd = a folder of bait files)."""
    log = work / "argv.log"
    log.write_bytes(b"")
    for bait in (f"-{TOKEN}-file", "--help", "-exec"):
        (work / bait).write_text("")
    env = {"PATH": str(bin_dir), "STUBLOG": str(log), "HOME": str(work)}
    proc = subprocess.run([*PRIVATE, snippet] if PRIVATE else ["/bin/sh", "-c", snippet],
                          cwd=work, env=env, capture_output=True, timeout=30)  # fmt: skip
    assert proc.returncode != 2 or b"Syntax error" not in proc.stderr, proc.stderr
    return [rec.split("\x1f") for rec in log.read_text(errors="replace").split("\x1e") if rec]


def option_injections(argvs: list[list[str]]) -> list[str]:
    """Arguments carrying the hostile value that their command would read as an option."""
    bad = []
    for argv in argvs:
        if argv[0] == "touch":
            bad.append("touch ran: " + " ".join(argv[1:]))
        operands = False
        for i, arg in enumerate(argv[1:], 1):
            if arg == "--":
                operands = True
            elif TOKEN in arg and arg.startswith("-") and not operands and argv[i - 1] not in VALUE_OPTIONS:
                bad.append(f"{argv[0]} got {arg!r} as an option: {argv}")
    return bad


def refused(type_name: str, params: dict[str, Any]) -> bool:
    return not jsonschema.Draft202012Validator(strict_schema(REGISTRY[type_name].params_schema)).is_valid(params)


@pytest.mark.parametrize(("type_name", "path", "value"), CASES, ids=[f"{t}.{p}:{v!r}" for t, p, v in CASES])
def test_hostile_value_is_refused_or_harmless(type_name, path, value, stubs, tmp_path) -> None:
    fact_type = REGISTRY[type_name]
    params = replaced(BASELINE[type_name], path, value)
    was_refused = refused(type_name, params)
    try:
        snippets = fact_type.snippets(params)
    except UnsafeValue:
        assert was_refused, "the snippet builder refuses what validation let through"
        return
    if "windows" in fact_type.os:  # PowerShell is not run here: no parameter may reach its text at all
        assert not any(TOKEN in s for s in snippets)
        return
    files = fact_type.files(params)
    assert not any(TOKEN in f for f in files), "a parameter reached the file archive's paths"
    for bin_dir in stubs.values():
        for snippet in snippets:
            argvs = run_snippet(snippet, bin_dir, tmp_path)
            assert option_injections(argvs) == []
            assert not list(tmp_path.glob(f"*{TOKEN}-PWN*")), "a command named by the value ran"


def test_the_walk_reaches_commands() -> None:
    """The hostile values do reach argv where they are allowed (else the walk would prove nothing)."""
    accepted = [(t, p, v) for t, p, v in CASES if not refused(t, replaced(BASELINE[t], p, v))]
    assert any(t == "file_age" and v.startswith("/") for t, _, v in accepted)
    assert all(v.startswith("/") for _, p, v in accepted if p[0] in ("paths", "logs", "directory"))
    refused_names = {(t, v) for t, p, v in CASES if refused(t, replaced(BASELINE[t], p, v))}
    for type_name in ("package", "process", "service", "kernel_module"):
        assert (type_name, f"-{TOKEN}") in refused_names


@pytest.mark.parametrize(
    ("type_name", "params", "command"),
    [
        ("package", {"names": [f"{TOKEN}-pkg"]}, "dpkg-query"),
        ("service", {"units": [f"{TOKEN}.service"], "processes": ["x"]}, "systemctl"),
        ("kernel_module", {"name": f"{TOKEN}_mod"}, "modprobe"),
        ("file_age", {"paths": [f"/{TOKEN}/*"]}, None),
    ],
)
def test_the_stubs_see_the_values(type_name, params, command, stubs, tmp_path) -> None:
    """The runs above are not vacuous: the value reaches the stub's argv (or the shell's loop), as one word."""
    if command == "systemctl" and not PRIVATE:
        pytest.skip("the systemd branch needs a private /run (root, unshare)")
    snippets = REGISTRY[type_name].snippets(params)
    argvs = run_snippet(snippets[0], stubs["first"], tmp_path)
    value = str(next(iter(params.values()))[0] if isinstance(next(iter(params.values())), list) else params["name"])
    if command is None:  # a pattern matching nothing: the shell's loop sees it, no command runs with it
        assert not any(TOKEN in a for argv in argvs for a in argv)
        return
    assert [argv for argv in argvs if argv[0] == command and value in argv[1:]]


# --- the log server's find -------------------------------------------------------------------------


REAL_PATH = "/usr/bin:/bin"


def test_log_marker_paths_cannot_be_find_expressions(tmp_path) -> None:
    """``find`` has no ``--`` for its starting points: a value it could read as an expression is refused."""
    pwn = tmp_path / "PWN"
    value = f"-exec,touch,{pwn},;"
    with pytest.raises(UnsafeValue):
        logmarker.search_script(["auditor-marker-x"], path_list(value))
    # What the old quoting (shlex.quote alone) gave the log server: the file appears.
    old = "find " + " ".join(f"'{p}'" if p != ";" else "';'" for p in path_list(value)) + " -type f 2>/dev/null"
    subprocess.run(["/bin/sh", "-c", old], cwd=tmp_path, env={"PATH": REAL_PATH}, check=False)
    assert pwn.exists()


def test_log_marker_search_runs_with_awkward_absolute_paths(tmp_path) -> None:
    odd = tmp_path / "-exec touch $(id) ;"
    odd.mkdir()
    (odd / "syslog").write_text("x auditor-marker-run-h1-00ff y\n")
    script = logmarker.search_script(["auditor-marker-run-h1-00ff"], [str(odd)])
    out = subprocess.run(["/bin/sh", "-c", script], cwd=tmp_path, env={"PATH": REAL_PATH}, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert logmarker.parse_found(out) == {"auditor-marker-run-h1-00ff": f"{odd}/syslog"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [odd.name]
