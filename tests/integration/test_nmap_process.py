"""The nmap child against loopback only: it is given an argv list (targets after ``--``), it stops
promptly when the run's stop event is set, it dies with the auditor (SIGKILL included), and its
scratch folder does not outlive the run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from auditor.network import scan

pytestmark = pytest.mark.skipif(shutil.which("nmap") is None, reason="nmap is not installed")

REPO = Path(__file__).resolve().parents[2]
# Slow on purpose (one probe a second over every port): only a stop or a kill ends it early.
SLOW = ["-n", "-sT", "-Pn", "-p", "1-65535", "--scan-delay", "1s", "--max-retries", "0"]


def _nmaps_with(text: str) -> list[int]:
    """Pids of running nmap processes whose command line holds ``text``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"nmap") and any(text.encode() in a for a in argv):
            pids.append(int(entry.name))
    return pids


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_argv_is_a_list_with_targets_after_double_dash() -> None:
    argv = scan.command_line(["-n", "-sT"], ["10.0.0.5", "web.lab"], "/tmp/x.xml")
    assert argv == ["nmap", "-oX", "/tmp/x.xml", "-n", "-sT", "--", "10.0.0.5", "web.lab"]


def test_stop_event_ends_nmap_within_seconds(tmp_path: Path) -> None:
    stop = threading.Event()
    out: list[scan.ScanRun] = []
    worker = threading.Thread(target=lambda: out.append(scan.run_nmap(["127.0.0.1"], SLOW, 600, stop, str(tmp_path))))
    worker.start()
    assert _wait(lambda: _nmaps_with(str(tmp_path)), 10), "nmap did not start"
    started = time.monotonic()
    stop.set()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - started < 5
    assert out and out[0].error and "interrupted" in out[0].error
    assert out[0].command.startswith("nmap -oX ") and " -- 127.0.0.1" in out[0].command
    assert not _nmaps_with(str(tmp_path))


def test_nmap_dies_with_a_killed_auditor_and_its_folder_is_swept() -> None:
    code = f"import sys; from auditor.network import scan; scan.run_nmap(['127.0.0.1'], {SLOW!r}, 600)"
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    try:
        scratch = f"{scan.SCRATCH_PREFIX}{parent.pid}-"
        assert _wait(lambda: _nmaps_with(scratch), 15), "nmap did not start"
        (nmap_pid,) = _nmaps_with(scratch)
        folders = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(f"{scratch}*")]
        assert folders
        os.kill(parent.pid, signal.SIGKILL)  # no finally, no handler runs in the auditor
        parent.wait(10)
        assert _wait(
            lambda: (
                not Path(f"/proc/{nmap_pid}").exists() or Path(f"/proc/{nmap_pid}/stat").read_text().split()[2] == "Z"
            ),
            5,
        ), "nmap outlived the auditor"
        assert all(f.exists() for f in folders)  # left behind by the kill...
        removed = scan.sweep_stale()
        assert all(not f.exists() for f in folders) and {str(f) for f in folders} <= set(removed)  # ...swept next run
    finally:
        if parent.poll() is None:
            parent.kill()
