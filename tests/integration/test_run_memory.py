"""A run's memory is bounded: what it keeps of a finished host is small whatever the host's evidence, and
what follows the host phase (results.json, the history, report.html) reads one host at a time.

Through the real run (``run.audit``: journal, results.json, report.html, the history in SQLite) of a
synthetic host phase (``Hooks.run_hosts``, as a distributed run plugs in its workers): each host of
the baseline playbook answers every check with a few KB of output, about what a lab host's results
weigh (~120 KB of JSON). tracemalloc measures Python's own allocations, not the process's RSS.
"""

from __future__ import annotations

import random
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.engine import RunOptions
from auditor.evidence import now
from auditor.model import CheckResult, Evidence, HostPlan, HostResult, Verdict
from auditor.run import AuditOptions, Hooks, audit

SMALL, LARGE = 50, 400
RETAINED_PER_HOST = 10_000  # bytes a finished host may keep alive until the run's files are written
# What each more host may add to the run's peak: what it keeps, its row and name in the report's
# tables, never its evidence (some 120 KB a host here; a few KB a host were measured).
PEAK_PER_HOST = 20_000
OUTPUT_LINES = 40  # lines of ~60 characters per evidence item: ~2.5 KB a check
VERDICTS = [Verdict.PASS] * 14 + [Verdict.FAIL] * 4 + [Verdict.ERROR, Verdict.NOT_APPLICABLE]


def inventory(folder: Path, hosts: int) -> Path:
    # Loopback addresses that are never contacted: the host phase below answers for them.
    lines = [f"h{i:05d} ansible_host=127.1.{i // 250}.{i % 250 + 1}" for i in range(hosts)]
    path = folder / f"hosts-{hosts}.ini"
    path.write_text("[desktops]\n" + "\n".join(lines) + "\n")
    return path


def synthetic_host(plan: HostPlan) -> HostResult:
    rng = random.Random(plan.host.name)
    at = now()
    results = []
    for check in plan.checks:
        verdict = rng.choice(VERDICTS)
        output = "\n".join(
            f"{plan.host.name} {check.id} line {k}: {rng.getrandbits(128):032x}" for k in range(OUTPUT_LINES)
        )
        reason = "ok" if verdict == Verdict.PASS else f"{verdict} on {check.id}: {rng.randint(1, 3)}"
        evidence = (
            [] if verdict == Verdict.NOT_APPLICABLE else [Evidence(f"/bin/sh -s: probe {check.id}", 0, output, at)]
        )
        results.append(CheckResult(check, verdict, reason, evidence))
    return HostResult(plan.host, "reachable", None, results, at, at)


def synthetic_phase(measured: dict[str, int]) -> Callable[..., list[HostResult]]:
    def run_hosts(
        plans: list[HostPlan],
        options: RunOptions,
        on_done: Callable[[HostResult], HostResult | None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[HostResult]:
        # From here: what reading the inputs allocated for a moment (a file read's buffer) is no part of it.
        before = measured["base"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        finished = []
        for plan in plans:
            result = synthetic_host(plan)
            kept = on_done(result) if on_done else None
            finished.append(result if kept is None else kept)
            del result, kept
        measured["retained"] = tracemalloc.get_traced_memory()[0] - before
        return finished

    return run_hosts


def audited(folder: Path, hosts: int) -> dict[str, int]:
    measured: dict[str, int] = {}  # from the host phase on: what it retains, the peak until the run returns
    options = AuditOptions(
        output=folder / f"out-{hosts}", no_network=True, lang="en", history=f"sqlite:///{folder}/history.db"
    )
    hooks = Hooks(run_hosts=synthetic_phase(measured))
    tracemalloc.start()
    try:
        outcome = audit(str(inventory(folder, hosts)), "baseline", {}, options, hooks)
        measured["peak"] = tracemalloc.get_traced_memory()[1] - measured["base"]
    finally:
        tracemalloc.stop()
    assert outcome.exit_code == 3 and outcome.history_problem is None  # errors among the verdicts
    assert len(outcome.document["hosts"]) == hosts
    assert (folder / f"out-{hosts}" / "report.html").is_file()
    assert not (folder / f"out-{hosts}" / "hosts.jsonl").exists()
    return measured


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, int]]:
    folder = tmp_path_factory.mktemp("memory")
    audited(folder, 5)  # what the first run of a process loads once (templates, the store's tables) counts in neither
    return {n: audited(folder, n) for n in (SMALL, LARGE)}


def test_a_finished_host_keeps_little_of_itself_until_the_files_are_written(runs: dict[int, dict[str, int]]):
    per_host = runs[LARGE]["retained"] / LARGE
    assert per_host <= RETAINED_PER_HOST, f"{per_host:,.0f} bytes kept per finished host"


def test_the_peak_grows_with_the_hosts_by_far_less_than_their_evidence(runs: dict[int, dict[str, int]]):
    growth = (runs[LARGE]["peak"] - runs[SMALL]["peak"]) / (LARGE - SMALL)
    assert growth <= PEAK_PER_HOST, f"peak grows by {growth:,.0f} bytes a host ({runs})"
