"""Input files through the real `auditor` command: one line naming the file, exit 2 or 3, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import doc_block

ROOT = Path(__file__).parents[2]


def auditor(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def _one_error_line(proc: subprocess.CompletedProcess[str], path: Path | str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], proc.stderr
    return lines[0]


# Root reads any file; without these capabilities it is refused like any other user (EACCES).
NO_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search")


def _unreadable(path: Path) -> tuple[str, ...]:
    path.chmod(0)
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
    return NO_DAC


def test_the_documented_example_validates(tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(doc_block("docs/inventories-and-playbooks.md", "Ansible INI inventories", "ini"))
    proc = auditor("validate", "--inventory", str(inv))
    assert proc.returncode == 0, proc.stderr
    assert "5 host(s)" in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no host in this inventory"),
        (bytes(range(256)) * 4, "not UTF-8"),
        (b"[s]\nh1\n[s:vars]\nlog_server=10.0.0.50   ; central\n", "comment included"),
        (b"[s]\nweb[01:03\n", "unclosed host range"),
        (b"[s]\nh1 log_marker_wait=abc\n", "log_marker_wait: expected a number"),
    ],
)
def test_bad_inventories_exit_2_before_anything_runs(tmp_path, content, message):
    inv = tmp_path / "hosts.ini"
    inv.write_bytes(content)
    for command in ("validate", "run"):
        extra = ("--output", str(tmp_path / "out")) if command == "run" else ()
        proc = auditor(command, "--inventory", str(inv), *extra)
        assert proc.returncode == 2, proc.stderr
        assert message in _one_error_line(proc, inv)
    assert not (tmp_path / "out").exists()


def test_a_play_naming_no_group_of_the_inventory_exits_2(tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text("[servers]\nweb1 ansible_connection=local\n")
    proc = auditor("validate", "--inventory", str(inv), "--playbook", "agency")
    assert proc.returncode == 2
    assert "agency.yaml:" in _one_error_line(proc, "plays[0].hosts[1]") and "'portals'" in proc.stderr


def test_an_unreadable_inventory_exits_3(tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text("[s]\nh1\n")
    proc = auditor("validate", "--inventory", str(inv), prefix=_unreadable(inv))
    assert proc.returncode == 3, proc.stderr
    assert "Permission denied" in _one_error_line(proc, inv)


def test_an_unreadable_playbook_exits_3(tmp_path):
    book = tmp_path / "book.yaml"
    book.write_text("name: x\nplays:\n  - hosts: all\n    checks: [LNX-*]\n")
    proc = auditor("validate", "--playbook", str(book), prefix=_unreadable(book))
    assert proc.returncode == 3, proc.stderr
    _one_error_line(proc, book)


def test_report_of_unreadable_or_binary_results(tmp_path):
    results = tmp_path / "results.json"
    results.write_bytes(b"\xff\xfe" * 10)
    proc = auditor("report", str(results), "--output", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "not UTF-8" in _one_error_line(proc, results)
    results.write_text(json.dumps({"schema": "x"}))
    proc = auditor("report", str(results), "--output", str(tmp_path / "r.html"), prefix=_unreadable(results))
    assert proc.returncode == 3 and "Permission denied" in _one_error_line(proc, results)


def test_bad_param_values_exit_2(tmp_path):
    for value in ("log_marker_wait=abc", "av_max_signature_age_days=2026-02-30", "smtp_port=0"):
        proc = auditor("validate", "--param", value)
        assert proc.returncode == 2, proc.stderr
        assert "--param " + value.partition("=")[0] in _one_error_line(proc, "--param")
