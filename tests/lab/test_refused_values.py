"""A group variable that ``find`` on the log server would read as an expression (``-exec``) is refused
before any host is contacted: exit 2 naming the parameter and its inventory line, no file on the log server, no
login anywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
PWN = "var/tmp/PWN"


def test_log_marker_paths_option_is_refused_and_nothing_runs(lab: Lab, tmp_path: Path) -> None:
    logsrv = lab.host(host_name("logserver"))
    inventory = lab.write_inventory(tmp_path / "inventory.ini", [lab.host(host_name("compliant")), logsrv])
    hostile = "[logserver:vars]\nlog_marker_paths='-exec,touch,/var/tmp/PWN,;'\n\n[all:vars]\n"
    inventory.write_text(inventory.read_text().replace("[all:vars]\n", hostile))
    auth = [h.root / "var/log/auth.log" for h in (logsrv, lab.host(host_name("compliant")))]
    sizes = [p.stat().st_size if p.exists() else 0 for p in auth]
    (logsrv.root / PWN).unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "auditor", "run", "--inventory", str(inventory), "--known-hosts",
                           str(lab.known_hosts), "--output", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert not (logsrv.root / PWN).exists(), "find ran -exec on the log server"
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    message = proc.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert re.match(rf"error: {re.escape(str(inventory))}:\d+: log_marker_paths: ", message), message  # file:line:field
    assert message.endswith(f"(host {logsrv.name})"), message
    assert "'-exec' is not an absolute path" in message
    assert not (tmp_path / "out" / "results.json").exists()
    for path, size in zip(auth, sizes, strict=True):  # no login happened: refused before any host is contacted
        gained = path.read_bytes()[size:].decode(errors="replace") if path.exists() else ""
        assert "Accepted publickey for auditor" not in gained, gained
