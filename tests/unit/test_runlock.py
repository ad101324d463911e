"""The named run lock: held by a live run (exit 4 naming it), taken over from a run killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from auditor import runlock
from auditor.errors import InputError
from auditor.output import FolderBusy, OutputError

REPO = Path(__file__).resolve().parents[2]


def holder(folder: Path, name: str) -> subprocess.Popen[str]:
    """Another process that takes the lock, says so, and sleeps."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from auditor import runlock
        runlock.take({name!r}, "run-of-the-holder", Path({str(folder)!r}))
        print("held", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_taker_is_told_who_since_when_then_takes_over_after_kill_9(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    proc = holder(folder, "nightly")
    try:
        with pytest.raises(FolderBusy) as info:
            runlock.take("nightly", "second", folder)
        message = str(info.value)
        assert f"pid {proc.pid} on {os.uname().nodename}" in message
        assert "run run-of-the-holder, since 20" in message and "run lock 'nightly'" in message
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up code of the holder runs
        proc.wait()
        lock = runlock.take("nightly", "third", folder)  # the kernel dropped the dead holder's flock
        assert '"run": "third"' in (folder / "nightly.lock").read_text()
        lock.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_names_are_strict() -> None:
    for bad in ("", "a/b", "../x", "x.y", "-x", "x\n", "a" * 49):
        with pytest.raises(InputError):
            runlock.check_name(bad)


def test_a_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    with pytest.raises(OutputError, match="not this user's alone"):
        runlock.take("x", "r", folder)


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_folder_above_that_others_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    """They could rename the lock folder away while a run holds it: the next run would lock a fresh one."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    shared.chmod(mode)
    with pytest.raises(OutputError, match="may be written by others"):
        runlock.take("x", "r", shared / "auditor" / "locks")
    shared.chmod(mode | stat.S_ISVTX)  # sticky, as /tmp: only an entry's owner may rename it
    runlock.take("x", "r", shared / "auditor" / "locks").release()


@pytest.mark.skipif(os.geteuid() != 0, reason="gives a folder to another user")
def test_a_folder_above_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(OutputError, match="belongs to another user"):
        runlock.take("x", "r", theirs / "locks")


def test_a_symlinked_lock_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    (folder / "x.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="symbolic link"):
        runlock.take("x", "r", folder)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the run command's lock folder for root is /run/auditor/locks")
def test_run_exits_4_while_its_lock_is_held(tmp_path: Path) -> None:
    name = f"unit-{os.getpid()}-{int(time.time())}"
    proc = holder(runlock.lock_dir(), name)
    try:
        inventory = tmp_path / "hosts.ini"
        inventory.write_text("h1 ansible_host=127.0.0.1\n")
        run = subprocess.run(
            [sys.executable, "-m", "auditor", "run", "--inventory", str(inventory), "--lock", name,
             "--output-root", str(tmp_path / "runs"), "--no-network"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 4, run.stderr
        assert f"run lock '{name}' is in use by another run (pid {proc.pid}" in run.stderr
        assert not (tmp_path / "runs").exists()  # refused before any folder was made or host contacted
    finally:
        proc.kill()
        proc.wait()
        (runlock.lock_dir() / f"{name}.lock").unlink(missing_ok=True)
