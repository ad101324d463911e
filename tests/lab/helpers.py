"""Helpers the lab test modules share: a lab of a module's own, the real ``auditor run`` over a lab (with what
the run left in the auth log of one host, so a test can prove no login happened) and the check of a profile's
expected verdicts."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import get

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 600
MODULE_SUBNETS = (".128/26", ".192/26")  # of lab network N's /24; the session lab has its .0/25
WRONG_KEY_HOST = host_name("compliant")  # runs rsyslog, so sshd logins land in auth.log


@dataclass
class AuditRun:
    rc: int
    results: dict[str, Any] | None
    stdout: str
    stderr: str
    auth_log: str  # what WRONG_KEY_HOST's /var/log/auth.log gained during the run

    def host(self, name: str) -> dict[str, Any]:
        assert self.results is not None, f"no results.json (rc={self.rc})\n{self.stderr[-3000:]}"
        for h in self.results["hosts"]:
            if h["name"] == name:
                return h
        pytest.fail(f"host {name} missing from results.json")


def require_auditor() -> None:
    if importlib.util.find_spec("auditor") is None or importlib.util.find_spec("auditor.cli") is None:
        from tests.conftest import skip_or_fail

        skip_or_fail("the auditor package is not importable")


def audit_cli(lab: Lab, inventory: Path, known_hosts: Path, out: Path, *extra: str) -> AuditRun:
    """``auditor run --no-network`` over INVENTORY: these runs are about the host phase (the NET-* checks are
    tests/lab/test_network.py's)."""
    require_auditor()
    auth = lab.host(WRONG_KEY_HOST).root / "var/log/auth.log"
    offset = auth.stat().st_size
    cmd = [sys.executable, "-m", "auditor", "run", "--inventory", str(inventory),
           "--known-hosts", str(known_hosts), "--output", str(out), "--no-network", *extra]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    time.sleep(1.0)  # let rsyslog write what sshd told it
    results_file = out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else None
    gained = auth.read_bytes()[offset:].decode(errors="replace")
    return AuditRun(proc.returncode, results, proc.stdout, proc.stderr, gained)


@contextlib.contextmanager
def module_lab(profiles: Sequence[str], suffix: str, subnet: str) -> Iterator[Lab]:
    """A started lab of a test module's own, on bridge ``audlabN<suffix>`` (a suffix no other module uses) and
    SUBNET, one of ``MODULE_SUBNETS`` of lab network N; stopped afterwards."""
    from tests.conftest import running_lab

    assert subnet in MODULE_SUBNETS, f"{subnet}: a module lab uses one of {MODULE_SUBNETS}"
    bridge, network = lab_network()
    with running_lab(profiles, f"{bridge}{suffix}", network.replace(".0/24", subnet)) as the_lab:
        yield the_lab


def assert_expected_checks(results: dict[str, dict[str, Any]], name: str) -> None:
    """Host NAME got, for every check in its profile's ``EXPECTED_CHECKS``, that verdict (``results``: each
    host's results by check id, as ``tests.conftest.results_by_host`` gives them)."""
    profile = get(name.rstrip("0123456789"))
    assert profile.EXPECTED_CHECKS, f"{name}: profile {profile.NAME} expects no check verdicts"
    for check, verdict in profile.EXPECTED_CHECKS.items():
        r = results[name][check]
        assert r["status"] == verdict, f"{name} {check}: {r['status']}: {r['reason']}"
