"""Without become, a daemon that runs only in another network namespace of the host (a container's)
does not make PT-IDS pass: the auditing user cannot read root's namespace links, so the auditor tells
namespaces apart by what any user can read, and never counts a process it cannot place as the host's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
DAEMON = "suricata"  # an IDS name of LNX-IDS-RUNNING; a renamed sleep, as root, in a netns of its own


def _pids_in(root: Path, comm: str) -> list[int]:
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() == comm and os.readlink(proc / "root") == str(root):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def contained_ids(lab: Lab) -> Iterator[Path]:
    """``suricata`` running as root on the noncompliant host (which runs no IDS), in a nested netns."""
    host = lab.host(host_name("noncompliant"))
    assert host.init_pid is not None
    link = host.root / "usr/local/bin" / DAEMON
    link.unlink(missing_ok=True)
    link.symlink_to("/bin/sleep")
    enter = [shutil.which("nsenter") or "nsenter", "-t", str(host.init_pid), "-m", "-u", "-i", "-n", "-p", "-r", "-w"]
    nsenter = subprocess.Popen([*enter, "unshare", "--net", f"/usr/local/bin/{DAEMON}", "300"])
    deadline = time.monotonic() + 10
    while not _pids_in(host.root, DAEMON) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _pids_in(host.root, DAEMON), "the contained daemon did not start"
    yield host.root
    for pid in _pids_in(host.root, DAEMON):
        os.kill(pid, signal.SIGKILL)
    nsenter.wait(timeout=10)
    link.unlink(missing_ok=True)


def test_ids_in_another_namespace_does_not_pass_without_become(lab: Lab, contained_ids: Path, tmp_path: Path) -> None:
    host = lab.host(host_name("noncompliant"))
    inventory = lab.write_inventory(tmp_path / "inventory.ini", [host], become=False)
    proc = subprocess.run([sys.executable, "-m", "auditor", "run", "--inventory", str(inventory), "--known-hosts",
                           str(lab.known_hosts), "--output", str(tmp_path / "out"), "--no-network"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)  # fmt: skip
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    (audited,) = results["hosts"]
    assert audited["status"] == "reachable", audited["error"]
    ids = next(r for r in audited["results"] if r["check"] == "LNX-IDS-RUNNING")
    listing = "\n".join(e["output"] for e in ids["evidence"])
    # The run was unprivileged: ps could not read the daemon's namespace (the case that passed before).
    assert any(line.split()[1:3] == ["-", DAEMON] for line in listing.splitlines() if len(line.split()) > 2), listing
    assert audited["plan_tasks"]["PT-IDS"] != "pass", (ids, proc.stderr[-2000:])
    assert ids["status"] == "fail" and "other network namespaces" in ids["reason"], ids
