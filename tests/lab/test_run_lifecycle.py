"""A run against real hosts, stopped or starved: Ctrl-C (SIGINT to the real process) writes what
finished and lists the host in flight as aborted, a second Ctrl-C stops waiting; a run-wide output
budget cuts hosts' output and the facts it cut say so instead of a misleading parse."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from auditor.engine import RunOptions, collect
from auditor.network.plans import split as split_network
from auditor.paths import schema_path
from auditor.run import prepare
from auditor.transports import ConnectOptions, OutputBudget
from tests.helpers import SilentServer
from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_writes_what_finished_and_lists_the_host_in_flight_as_aborted(lab: Lab, tmp_path: Path) -> None:
    server = SilentServer()  # accepts and never speaks: in flight until the run is stopped
    inventory = lab.write_inventory(tmp_path / "inventory.ini")
    inventory.write_text(f"[stalled]\nstalled1 ansible_host=127.0.0.1 ansible_port={server.port}\n\n"
                         + inventory.read_text())  # fmt: skip
    out = tmp_path / "out"
    # With the network phase: it may still be scanning when the first Ctrl-C comes.
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditor", "run", "--inventory", str(inventory), "--known-hosts", str(lab.known_hosts),
         "--output", str(out), "--connect-timeout", "300"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        journal = out / "hosts.jsonl"
        deadline = time.monotonic() + 120
        # nosudo1 ends first, in a host error of its own: wait for a host audited to the end as well.
        while time.monotonic() < deadline and not _audited_one(journal):
            time.sleep(0.1)
        assert _audited_one(journal), "no host finished"
        proc.send_signal(signal.SIGINT)
        first = time.monotonic()
        try:
            proc.wait(timeout=2)
            seconds = 0
        except subprocess.TimeoutExpired:  # still waiting for the network probes: the second Ctrl-C
            proc.send_signal(signal.SIGINT)
            seconds = 2
        stdout, stderr = proc.communicate(timeout=20)
        elapsed = time.monotonic() - first
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert elapsed < 20, f"the run took {elapsed:.1f} s to stop (second Ctrl-C after {seconds} s)"
    assert proc.returncode == 3, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    document = json.loads((out / "results.json").read_text())
    jsonschema.Draft202012Validator(json.loads(schema_path("results.schema.json").read_text())).validate(document)
    assert document["run"]["complete"] is False and document["run"]["interrupted_by"] == "SIGINT"
    hosts = {h["name"]: h for h in document["hosts"]}
    stalled = hosts["stalled1"]
    assert stalled["status"] == "aborted" and stalled["error"].startswith("aborted:"), stalled
    assert {r["status"] for r in stalled["results"]} == {"error"}
    finished = [h for h in document["hosts"] if h["status"] != "aborted"]
    assert finished, "the hosts that finished before Ctrl-C are in results.json"
    for h in finished:  # audited to the end (nosudo1 ends in a host error of its own)
        assert h["results"] and not (h["error"] or "").startswith("aborted"), h["name"]
    assert any(h["status"] == "reachable" for h in finished)
    assert not (out / "hosts.jsonl").exists() and (out / "report.html").exists()
    assert "INCOMPLETE" in stdout


def _audited_one(journal: Path) -> bool:
    """Whether the journal holds a host reached and audited (its lines are whole: written at once)."""
    if not journal.exists():
        return False
    lines = [line for line in journal.read_text().splitlines() if line.endswith("}")]
    return any(json.loads(line)["status"] == "reachable" for line in lines)


def _plan(lab: Lab, name: str):
    _, _, _, plans = prepare(str(lab.inventory), "baseline", {})
    host_plans, _ = split_network(plans)
    return next(p for p in host_plans if p.host.name == name)


def test_output_beyond_the_run_budget_is_cut_and_the_facts_say_so(lab: Lab) -> None:
    plan = _plan(lab, host_name("compliant"))
    connect = ConnectOptions(known_hosts=lab.known_hosts)
    whole = collect(plan, RunOptions(connect=connect))
    assert whole.error is None

    starved = OutputBudget(1)  # not one chunk: the host's output is cut before anything arrives
    nothing = collect(plan, RunOptions(connect=connect, budget=starved))
    assert nothing.error is not None and nothing.error.startswith("output cut at "), nothing.error

    budget = OutputBudget(8 * 1024)  # a part of the ~57 KB a baseline host sends (the last 41 KB: one archive)
    part = collect(plan, RunOptions(connect=connect, budget=budget))
    facts = {f"{cid}.{name}": f for cid, fs in part.facts.items() for name, f in fs.items()}
    cut = {k: f.error for k, f in facts.items() if f.error and f.error.startswith("output cut at 0.0078125 MB")}
    read = {k for k, f in facts.items() if f.error is None}
    assert cut and read, (len(cut), len(read))
    for key in cut:  # what a cut fact would have said had its empty output been parsed
        whole_fact = whole.facts[key.split(".")[0]][key.split(".", 1)[1]]
        assert whole_fact.error is None or "output cut" not in whole_fact.error
    assert budget._used == 0 and starved._used == 0  # given back once the host's facts are read
