"""The audit as a library: ``auditor.run.audit`` called in this process, without click, on lab hosts.

The same hosts get the same verdicts as through the ``auditor run`` command; a stop requested through the
run's ``Cancel`` (no signal involved) ends the run with the host in flight listed as aborted; the hooks are
called (the number of hosts once, each finished host after its journal line is written)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from auditor.run import AuditOptions, Cancel, Hooks, Interrupted, RunResult, audit
from tests.helpers import SilentServer, auditor
from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

HOSTS = [host_name(p) for p in ("compliant", "noncompliant", "nosudo")]
EXIT_INCOMPLETE = 3


def _inventory(lab: Lab, path: Path) -> Path:
    return lab.write_inventory(path, [lab.host(n) for n in HOSTS])


def _options(lab: Lab, out: Path, **changes: Any) -> AuditOptions:
    return AuditOptions(known_hosts=str(lab.known_hosts), output=out, no_network=True, **changes)


def _verdicts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        h["name"]: {
            "status": h["status"],
            "plan_tasks": h["plan_tasks"],
            "checks": {r["check"]: r["status"] for r in h["results"]},
        }
        for h in document["hosts"]
    }


@pytest.fixture(scope="module")
def in_process(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, list[Any], list[str]]:
    """One run through ``audit``; what its hooks saw: the start count, and per finished host its name and
    whether its line was already in the journal when the hook ran."""
    d = tmp_path_factory.mktemp("inprocess")
    out = d / "out"
    seen: list[Any] = []
    journal_had: list[str] = []

    def on_host(result: Any) -> None:
        seen.append(result.host.name)
        lines = (out / "hosts.jsonl").read_text(encoding="utf-8").splitlines()
        if any(json.loads(line)["name"] == result.host.name for line in lines):
            journal_had.append(result.host.name)

    hooks = Hooks(Cancel(), on_start=lambda total: seen.append(("start", total)), on_host=on_host)
    outcome = audit(str(_inventory(lab, d / "inventory.ini")), "baseline", {}, _options(lab, out), hooks)
    return outcome, seen, journal_had


def test_the_function_returns_what_it_wrote(in_process: tuple[RunResult, list[Any], list[str]]) -> None:
    outcome, _, _ = in_process
    written = json.loads((outcome.out_dir / "results.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(outcome.document, default=list))  # its hosts are made as read
    assert (outcome.out_dir / "report.html").is_file()
    assert not (outcome.out_dir / "hosts.jsonl").exists()  # results.json holds every host the journal had
    assert outcome.document["run"]["complete"] is True
    assert sorted(h["name"] for h in outcome.document["hosts"]) == sorted(HOSTS)
    assert outcome.exit_code == EXIT_INCOMPLETE  # nosudo1 cannot be audited: a host in error
    assert outcome.stopped is False and outcome.problem is None


def test_verdicts_equal_the_commands(
    lab: Lab, in_process: tuple[RunResult, list[Any], list[str]], tmp_path: Path
) -> None:
    outcome, _, _ = in_process
    out = tmp_path / "cli"
    proc = auditor(
        "run", "--inventory", str(_inventory(lab, tmp_path / "inventory.ini")),
        "--known-hosts", str(lab.known_hosts), "--output", str(out), "--no-network", timeout=600,
    )  # fmt: skip
    assert (out / "results.json").exists(), proc.stderr[-3000:]
    cli = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert proc.returncode == outcome.exit_code
    assert _verdicts(cli) == _verdicts(outcome.document)
    assert cli["score"] == outcome.document["score"]


def test_hooks_are_called(in_process: tuple[RunResult, list[Any], list[str]]) -> None:
    _, seen, journal_had = in_process
    assert seen[0] == ("start", len(HOSTS))
    assert sorted(seen[1:]) == sorted(HOSTS)  # every finished host, once
    assert sorted(journal_had) == sorted(HOSTS)  # each after its line was in hosts.jsonl


def test_a_stop_request_aborts_the_host_in_flight(lab: Lab, tmp_path: Path) -> None:
    """A cancel token, not a signal: once a real host is done, stop; the host that never answers is aborted."""
    server = SilentServer()  # accepts and never speaks SSH: in flight until the run is stopped
    try:
        inventory = _inventory(lab, tmp_path / "inventory.ini")
        inventory.write_text(
            f"[stalled]\nstalled1 ansible_host=127.0.0.1 ansible_port={server.port}\n\n" + inventory.read_text()
        )
        cancel = Cancel()
        finished: list[str] = []

        def on_host(result: Any) -> None:
            finished.append(result.host.name)
            if result.host.name == host_name("compliant"):
                cancel.request("stopped by the test")

        timer = threading.Timer(120, cancel.request, ["the test's deadline"])  # never hang the suite
        timer.start()
        try:
            outcome = audit(
                str(inventory), "baseline", {}, _options(lab, tmp_path / "out", connect_timeout=300),
                Hooks(cancel, on_host=on_host),
            )  # fmt: skip
        finally:
            timer.cancel()
    finally:
        server.close()
    run = outcome.document["run"]
    assert run["interrupted_by"] == "stopped by the test"
    assert run["complete"] is False and outcome.stopped is True
    assert outcome.exit_code == EXIT_INCOMPLETE
    hosts = {h["name"]: h for h in outcome.document["hosts"]}
    assert hosts["stalled1"]["status"] == "aborted", hosts["stalled1"]
    assert all(r["status"] == "error" and r["reason"].startswith("aborted") for r in hosts["stalled1"]["results"])
    assert hosts[host_name("compliant")]["status"] == "reachable"
    assert set(finished) <= set(hosts)  # every host a hook saw finish is in the results
    assert json.loads((outcome.out_dir / "results.json").read_text(encoding="utf-8"))["run"]["complete"] is False


def test_a_stop_before_any_host_writes_nothing(lab: Lab, tmp_path: Path) -> None:
    cancel = Cancel()
    cancel.request("stopped before the start")
    with pytest.raises(Interrupted):
        audit(str(_inventory(lab, tmp_path / "inventory.ini")), "baseline", {}, _options(lab, tmp_path / "out"),
              Hooks(cancel))  # fmt: skip
    assert not (tmp_path / "out").exists()
