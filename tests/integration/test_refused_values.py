"""Values a command on a host could read as an option are refused by `validate` and by `run` before any
host is contacted: exit 2, naming the parameter, the host and where the value was set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def auditor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)  # fmt: skip


def inventory(tmp_path: Path, group_vars: str) -> Path:
    # Port 1 of loopback: should the value get through, nothing listens there and no other address is touched.
    path = tmp_path / "hosts.ini"
    path.write_text(f"[logs]\nlogsrv ansible_host=127.0.0.1 ansible_port=1\n\n[logs:vars]\n{group_vars}\n")
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
def test_log_marker_paths_option_is_refused(tmp_path: Path, command: str) -> None:
    inv = inventory(tmp_path, "log_server=logsrv\nlog_marker_paths='-exec,touch,/var/tmp/PWN,;'")
    extra = ["-o", str(tmp_path / "out")] if command == "run" else []
    proc = auditor(command, "-i", str(inv), *extra)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = proc.stderr.strip()
    assert line.count("\n") == 0 and "Traceback" not in line
    assert str(inv) in line and "log_marker_paths" in line and "logsrv" in line and "logs" in line
    assert "'-exec' is not an absolute path" in line
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-exec", "'-exec'"), ("backup/*", "'backup/*'"), ('"/srv/b\\n-x"', "'/srv/b\\n-x'")],
)
def test_backup_paths_from_param_must_be_absolute(value: str, shown: str) -> None:
    proc = auditor("validate", "--param", f"backup_paths={value}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: --param backup_paths: ") and shown in proc.stderr


def test_absolute_paths_with_odd_characters_are_accepted(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "log_server=logsrv\nlog_marker_paths=/var/log/remote dir,/srv/-logs\n"
                              "backup_paths=/srv/back up/*.tar")  # fmt: skip
    proc = auditor("validate", "-i", str(inv))
    assert proc.returncode == 0, proc.stderr
