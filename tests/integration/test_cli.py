"""The run contract (exit codes, files written) end to end, through the real `auditor` command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jsonschema
import pytest

from auditor.paths import schema_path
from auditor.report.evidence import evidence_of
from tests.helpers import SilentServer, auditor

BASELINE_TASKS = {
    "PT-AUTH",
    "PT-AV",
    "PT-LOG",
    "PT-USB",
    "PT-FIREWALL",
    "PT-IDS",
    "PT-BACKUP",
    "PT-CONTINUITY",
    "PT-VULN",
    "PT-MONITORING",
    "PT-ASSESSMENT",
}


def validate(document: dict) -> None:
    schema = json.loads(schema_path("results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """`auditor run` with no arguments: this machine, baseline playbook, reports/<time>/."""
    cwd = tmp_path_factory.mktemp("cwd")
    proc = auditor("run", cwd=cwd)
    runs = list((cwd / "reports").iterdir())
    assert len(runs) == 1, proc.stderr
    return proc, runs[0]


def test_default_run_audits_this_machine(local_run):
    proc, out = local_run
    assert proc.returncode in (0, 1, 3), proc.stderr
    document = json.loads((out / "results.json").read_text())
    validate(document)
    assert document["schema"] == "auditor.results/2"
    assert document["run"]["playbook"] == "baseline" and document["run"]["complete"] is True
    (host,) = document["hosts"]
    assert host["status"] == "reachable"
    assert set(host["plan_tasks"]) == BASELINE_TASKS
    for result in host["results"]:
        assert result["reason"]
        if result["status"] != "not_applicable":
            assert result["evidence"], result["check"]
            assert all(e["command"] and e["at"] for e in evidence_of(document, result))
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not (out / "hosts.jsonl").exists()


def test_exit_code_follows_the_verdicts(local_run):
    proc, out = local_run
    document = json.loads((out / "results.json").read_text())
    statuses = {r["status"] for h in document["hosts"] for r in h["results"]}
    expected = 3 if "error" in statuses else (1 if "fail" in statuses else 0)
    assert proc.returncode == expected


def test_bad_inventory_exits_2_naming_file_and_line(tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nweb1 ansible_port=twenty-two\n")
    proc = auditor("run", "--inventory", str(inv), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert f"{inv}:2:" in proc.stderr and "ansible_port" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_bad_playbook_exits_2(tmp_path):
    book = tmp_path / "book.yaml"
    book.write_text("name: x\nplays:\n  - hosts: all\n    checks: [NOPE-*]\n")
    proc = auditor("validate", "--playbook", str(book))
    assert proc.returncode == 2
    assert f"{book}:4:" in proc.stderr and "matches no check" in proc.stderr


def test_validate_ok():
    proc = auditor("validate")
    assert proc.returncode == 0 and "ok" in proc.stdout


def test_facts_command_shows_what_a_verdict_rests_on():
    proc = auditor("facts", socket.gethostname())
    document = json.loads(proc.stdout)
    fw = document["facts"]["LNX-FIREWALL-EFFECTIVE"]["fw"]
    assert fw["type"] == "firewall" and fw["evidence"]["command"]
    assert (fw["value"] is None) != (fw["error"] is None)


def test_report_rerenders_a_stored_run(local_run, tmp_path):
    _, out = local_run
    target = tmp_path / "r.html"
    proc = auditor("report", str(out / "results.json"), "--lang", "en", "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert '<html lang="en">' in target.read_text()


def test_interrupted_run_keeps_what_finished(tmp_path):
    server = SilentServer()
    try:
        inv = tmp_path / "hosts.ini"
        inv.write_text(f"me ansible_connection=local\nhung ansible_host=127.0.0.1 ansible_port={server.port}\n")
        out = tmp_path / "out"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "run",
                "--inventory",
                str(inv),
                "--output",
                str(out),
                "--connect-timeout",
                "120",
                "--known-hosts",
                str(tmp_path / "kh"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        journal = out / "hosts.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (journal.exists() and journal.read_text().strip()):
            time.sleep(0.2)
        assert journal.read_text().strip(), "the local host should finish while the other one hangs"
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        server.close()
    assert proc.returncode == 3, stderr
    document = json.loads((out / "results.json").read_text())
    validate(document)
    assert document["run"]["complete"] is False and document["run"]["interrupted_by"] == "SIGINT"
    me, hung = document["hosts"]
    assert me["name"] == "me" and me["status"] == "reachable"
    # The host in flight is listed, aborted, every check `error` with the reason: not silently missing.
    assert hung["name"] == "hung" and hung["status"] == "aborted", hung
    assert "aborted" in hung["error"] and {r["status"] for r in hung["results"]} == {"error"}
    assert "INCOMPLETE" in stdout
    assert "Traceback" not in stderr
    assert "stopping: hosts in flight are aborted, finished ones written" in stderr  # said by the signal's handler
    assert not (out / "hosts.jsonl").exists()


def test_stalled_ssh_handshake_says_what_happened(tmp_path):
    """A server that accepts TCP and never answers: the reason names the stall, not paramiko's "No existing session"."""
    server = SilentServer()
    try:
        inv = tmp_path / "hosts.ini"
        inv.write_text(f"hung ansible_host=127.0.0.1 ansible_port={server.port}\n")
        proc = auditor("run", "--inventory", str(inv), "--output", str(tmp_path / "out"), "--connect-timeout", "2",
                       "--known-hosts", str(tmp_path / "kh"), "--no-network")  # fmt: skip
    finally:
        server.close()
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr  # paramiko's thread stays quiet
    (host,) = json.loads((tmp_path / "out" / "results.json").read_text())["hosts"]
    assert host["status"] == "unreachable"
    assert "SSH handshake did not complete within 2 s" in host["error"] and "sent no SSH banner" in host["error"]
    assert "No existing session" not in host["error"]
