"""What `auditor run` and `auditor report` write, through the real command: no symlink followed, one
run per output folder, and a full or read-only disk as one line and exit 3, nothing half-written."""

from __future__ import annotations

import contextlib
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

from tests.helpers import SilentServer, auditor

VICTIM_TEXT = "precious: must not be overwritten\n"


def _victims(tmp_path: Path, names: list[str]) -> dict[str, Path]:
    victims = {}
    for name in names:
        victim = tmp_path / f"victim-{name}"
        victim.write_text(VICTIM_TEXT)
        victims[name] = victim
    return victims


def test_symlinks_in_the_output_folder_are_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victims = _victims(tmp_path, ["results.json", "report.html", "hosts.jsonl"])
    for name, victim in victims.items():
        (out / name).symlink_to(victim)
    refused = auditor("run", "--no-network", "--output", str(out))
    assert refused.returncode == 3, refused.stderr
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    proc = auditor("run", "--no-network", "--output", str(out), "--force")
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert "Traceback" not in proc.stderr
    for name, victim in victims.items():
        assert victim.read_text() == VICTIM_TEXT, f"{name} was written through its symlink"
    for name in ("results.json", "report.html"):
        assert (out / name).is_file() and not (out / name).is_symlink()
    assert json.loads((out / "results.json").read_text())["run"]["complete"] is True
    assert not (out / "hosts.jsonl").exists()  # the planted link was removed, not followed
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_report_output_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert auditor("run", "--no-network", "--output", str(out)).returncode in (0, 1, 3)
    (victim,) = _victims(tmp_path, ["csv"]).values()
    link = tmp_path / "report.csv"
    link.symlink_to(victim)
    proc = auditor("report", str(out / "results.json"), "--format", "csv", "--output", str(link))
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == VICTIM_TEXT
    assert link.is_file() and not link.is_symlink() and "LNX-" in link.read_text(encoding="utf-8-sig")


def test_output_folder_of_another_user_or_a_symlink_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a folder to another user")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    proc = auditor("run", "--no-network", "--output", str(theirs))
    assert proc.returncode == 3 and "belongs to uid 65534" in proc.stderr, proc.stderr
    assert list(theirs.iterdir()) == []
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    proc = auditor("run", "--no-network", "--output", str(link))
    assert proc.returncode == 3 and "symbolic link" in proc.stderr, proc.stderr
    assert list(real.iterdir()) == []


def test_second_run_into_a_busy_folder_fails_and_force_clears_stale_results(tmp_path: Path) -> None:
    """Run A (a hung host keeps it going) holds the folder; run B into it exits 4 naming A. A was
    started with --force over an old complete results.json, which must be gone while A runs."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"run": {"complete": true}}\n')
    (out / "report.html").write_text("old report\n")
    server = SilentServer()
    inv = tmp_path / "hosts.ini"
    inv.write_text(f"me ansible_connection=local\nhung ansible_host=127.0.0.1 ansible_port={server.port}\n")
    first = subprocess.Popen(
        [sys.executable, "-m", "auditor", "run", "--inventory", str(inv), "--output", str(out), "--force",
         "--connect-timeout", "120", "--known-hosts", str(tmp_path / "kh")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        journal = out / "hosts.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (journal.exists() and journal.read_text().strip()):
            time.sleep(0.2)
        assert journal.read_text().strip(), "the local host should finish while the other one hangs"
        assert not (out / "results.json").exists(), "the previous run's results.json stands beside the new journal"
        assert not (out / "report.html").exists()
        second = auditor("run", "--no-network", "--output", str(out), "--force")
        assert second.returncode == 4, second.stderr
        assert f"pid {first.pid}" in second.stderr and "in use by another run" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert journal.read_text().count("\n") == 1  # run B wrote nothing into A's folder
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
        server.close()
    assert first.returncode == 3
    names = [h["name"] for h in json.loads((out / "results.json").read_text())["hosts"]]
    assert names == ["me", "hung"]


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill the tmpfs, then free ``leave`` bytes."""
    with open(disk / "filler", "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    if leave:
        size = (disk / "filler").stat().st_size
        os.truncate(disk / "filler", max(0, size - leave))


@pytest.mark.parametrize("leave", [0, 160 * 1024], ids=["full", "room-for-the-journal-only"])
def test_full_disk_is_one_line_exit_3_and_nothing_half_written(tmp_path: Path, leave: int) -> None:
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        _fill(disk, leave)
        out = disk / "out"
        proc = auditor("run", "--no-network", "--output", str(out))
        assert proc.returncode == 3, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "No space left on device" in lines[0], lines
        assert not (out / "results.json").exists()
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
        journal = out / "hosts.jsonl"
        if journal.exists():  # whole lines only: each one a host
            for line in journal.read_text().splitlines(keepends=True):
                assert line.endswith("\n")
                json.loads(line)


@pytest.mark.parametrize("made", [False, True], ids=["folder-to-create", "empty-folder"])
def test_read_only_output_is_one_line_exit_3(tmp_path: Path, made: bool) -> None:
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        if made:
            (disk / "out").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        proc = auditor("run", "--no-network", "--output", str(disk / "out"))
        assert proc.returncode == 3, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Read-only file system" in lines[0], lines
        assert "Traceback" not in proc.stderr


def test_an_output_that_is_a_file_or_empty_is_refused_before_any_host(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text(VICTIM_TEXT)
    proc = auditor("run", "--no-network", "--output", str(taken))
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1, proc.stderr  # the environment, one line
    assert "is not a folder" in proc.stderr and taken.read_text() == VICTIM_TEXT
    proc = auditor("run", "--no-network", "--output", "", cwd=tmp_path)
    assert proc.returncode == 2 and "--output" in proc.stderr, proc.stderr  # not the default folder, silently
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
