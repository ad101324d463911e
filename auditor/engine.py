"""The engine: a plan -> one batched collection per host -> facts -> verdicts.

Hosts run in parallel on a bounded thread pool (paramiko releases the GIL on I/O).
A host that cannot be reached or logged in to gets ``status``/``error`` and every
one of its checks becomes ``error`` with that reason; the other hosts go on.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from auditor import clock
from auditor.evaluate import judge_rules, not_applicable_reason, parameter_evidence, render, rules_of
from auditor.evidence import now, redact, stored_excerpt
from auditor.facts import REGISTRY, FactUnreadable, RawOutput
from auditor.facts.base import files_snippet
from auditor.model import Check, CheckResult, Evidence, Fact, FactSpec, HostPlan, HostResult, Verdict
from auditor.platforms import platform_of
from auditor.transports import ConnectOptions, HostError, OutputBudget, Transport, open_transport, sudo_refusal


@dataclass
class RunOptions:
    connect: ConnectOptions
    jobs: int = 10
    fact_timeout: int = 30
    host_timeout: float = 300.0
    # Run a host's snippets concurrently on it: lower latency, a few more forks there. run_plans turns it
    # on when there are fewer hosts than jobs (a one-host audit waits on latency, not on the targets' CPU).
    parallel_snippets: bool = False
    # Transports in flight, so an interrupted run can abort them instead of waiting out their timeouts.
    active: set[Transport] = field(default_factory=set)
    # Host output held at once by the whole run (shared by copies made with dataclasses.replace).
    budget: OutputBudget = field(default_factory=OutputBudget)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, transport: Transport) -> None:
        with self._lock:
            if self.stopping.is_set():
                raise HostError("the run was interrupted")
            self.active.add(transport)

    def untrack(self, transport: Transport) -> None:
        with self._lock:
            self.active.discard(transport)

    def abort_all(self) -> None:
        with self._lock:
            self.stopping.set()
            in_flight = list(self.active)
        for transport in in_flight:
            transport.abort()


def rendered_facts(check: Check, params: dict[str, Any]) -> dict[str, FactSpec]:
    return {name: FactSpec(spec.type, render(spec.params, params)) for name, spec in check.facts.items()}


@dataclass
class Collection:
    """What was read from one host: per runnable check, its facts; plus why others do not apply."""

    status: str  # reachable | unreachable | error | aborted
    error: str | None
    facts: dict[str, dict[str, Fact]]  # check id -> local fact name -> fact
    not_applicable: dict[str, str]  # check id -> reason


@dataclass
class HostWork:
    """What one host must run: the deduplicated snippets, and which of them each fact reads."""

    runnable: list[tuple[Check, dict[str, FactSpec]]]
    rules: dict[str, tuple[Any, Any]]  # check id -> its when and expect, rendered (rules_of)
    not_applicable: dict[str, str]  # check id -> reason
    specs: dict[str, FactSpec]  # fact key -> spec
    snippets: list[str]  # each distinct snippet once
    spec_snippets: dict[str, list[int]]  # fact key -> indexes into snippets
    commands: dict[str, str]  # fact key -> the command its evidence shows


def plan_work(plan: HostPlan) -> HostWork:
    """Pure: the facts a host's applicable checks need and the distinct snippets that read them."""
    not_applicable: dict[str, str] = {}
    runnable: list[tuple[Check, dict[str, FactSpec]]] = []
    for check in plan.checks:
        why_not = not_applicable_reason(check, plan.params)
        if why_not:
            not_applicable[check.id] = f"not applicable: {why_not}"
        else:
            runnable.append((check, rendered_facts(check, plan.params)))
    specs = {spec.key: spec for _, facts in runnable for spec in facts.values()}
    # Facts of a type that can merge its parameters share one snippet (one dpkg-query for every package fact).
    collect_params = {key: spec.params for key, spec in specs.items()}
    for type_name in {spec.type for spec in specs.values()}:
        group = [key for key, spec in specs.items() if spec.type == type_name]
        merged = REGISTRY[type_name].merge_params([specs[k].params for k in group]) if len(group) > 1 else None
        if merged is not None:
            collect_params.update(dict.fromkeys(group, merged))
    snippet_ids: dict[str, int] = {}
    spec_snippets = {
        key: [snippet_ids.setdefault(s, len(snippet_ids)) for s in REGISTRY[spec.type].snippets(collect_params[key])]
        for key, spec in specs.items()
    }
    # Every fact that reads whole files gets them from one archive of the host (FactType.files).
    file_patterns = {key: REGISTRY[spec.type].files(spec.params) for key, spec in specs.items()}
    archived = list(dict.fromkeys(pattern for own in file_patterns.values() for pattern in own))
    if archived:
        archive = snippet_ids.setdefault(files_snippet(archived), len(snippet_ids))
        for key, own in file_patterns.items():
            if own:
                spec_snippets[key].append(archive)
    rules = {check.id: rules_of(check, plan.params) for check, _ in runnable}
    snippets = list(snippet_ids)
    commands = {
        key: REGISTRY[spec.type].evidence_command(spec.params, [snippets[i] for i in spec_snippets[key]])
        for key, spec in specs.items()
    }
    return HostWork(runnable, rules, not_applicable, specs, snippets, spec_snippets, commands)


_WORK: dict[str, tuple[list[Check], HostWork]] = {}


def _work_of(plan: HostPlan) -> HostWork:
    """plan_work, worked out once for all hosts with the same checks and parameters (most of a run's).
    A hit must hold the very same check objects: another catalog may reuse the ids."""
    key = json.dumps([[c.id for c in plan.checks], plan.params], sort_keys=True, default=repr)
    hit = _WORK.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], plan.checks, strict=True)):
        return hit[1]
    if len(_WORK) > 256:  # a long-lived process auditing ever new plans
        _WORK.clear()
    work = plan_work(plan)
    _WORK[key] = (list(plan.checks), work)
    return work


def collect(plan: HostPlan, options: RunOptions, work: HostWork | None = None) -> Collection:
    """One connection, one batched script: every fact the host's checks need, read once."""
    host = plan.host
    work = work or _work_of(plan)
    runnable, not_applicable, specs, spec_snippets = work.runnable, work.not_applicable, work.specs, work.spec_snippets
    platform = platform_of(host)
    script = platform.build(work.snippets, options.fact_timeout, options.parallel_snippets)

    status, error = "reachable", None
    outputs: dict[int, RawOutput] = {}
    at, shell = now(), platform.shell_command(host.become)
    missing: str | None = None  # why a snippet with no output of its own has none
    held = 0
    try:
        if runnable:
            try:
                transport = open_transport(host, options.connect)
                shell = transport.shell_command
                transport.budget = options.budget
                options.track(transport)
                try:
                    with transport:
                        at, sent = now(), time.time()
                        result = transport.run(script.script, options.host_timeout)
                        window = clock.Reference(sent, time.time(), clock.tolerance(plan.params))
                        held = result.held
                finally:
                    options.untrack(transport)
                refused = sudo_refusal(result)
                if refused:
                    raise HostError(refused)
                outputs = {
                    i: replace(raw, reference=window) for i, raw in platform.split(script, result.stdout).items()
                }
                if result.cut is not None:
                    missing = result.cut
                elif result.rc is None:
                    missing = f"no answer within {options.host_timeout:g} s: this fact's command did not finish"
                if result.rc is None and not outputs:
                    raise HostError(result.cut or f"no answer within {options.host_timeout:g} s")
                if not outputs and result.rc not in (0, None):
                    said = (result.stderr.strip() or "no output")[:300]
                    raise HostError(f"the audit script failed (exit {result.rc}): {said}")
            except HostError as exc:
                # A reason may quote what the host printed (sudo's complaint, the script's stderr).
                status, error = exc.status, redact(exc.reason)

        facts_by_key = {
            key: _read_fact(
                spec,
                [outputs.get(i, RawOutput("", "", None)) for i in spec_snippets[key]],
                work.commands[key],
                shell,
                at,
                error if error is not None else missing if any(i not in outputs for i in spec_snippets[key]) else None,
            )
            for key, spec in specs.items()
        }
    finally:
        options.budget.give_back(held)
    facts = {
        check.id: {name: facts_by_key[spec.key] for name, spec in specs_of_check.items()}
        for check, specs_of_check in runnable
    }
    return Collection(status, error, facts, not_applicable)


def _read_fact(
    spec: FactSpec, raws: list[RawOutput], command: str, shell: str, at: str, host_error: str | None
) -> Fact:
    failed = next((r.rc for r in raws if r.rc not in (0, None)), None)
    try:
        output = REGISTRY[spec.type].evidence(raws, spec.params)
    except Exception:  # the whole output, then: parse says what went wrong
        output = "\n".join(r.stdout for r in raws)
    evidence = Evidence(
        command=_shared(f"{shell}: {command}"),
        rc=failed if failed is not None else raws[0].rc,
        output=_shared(stored_excerpt(output)),
        stderr=_shared(stored_excerpt("\n".join(r.stderr for r in raws if r.stderr), 1000)),
        at=at,
    )
    if host_error is not None:
        return Fact(spec, None, host_error, evidence)
    try:
        return Fact(spec, REGISTRY[spec.type].parse(raws, spec.params), None, evidence)
    except FactUnreadable as exc:
        return Fact(spec, None, str(exc), evidence)
    except Exception as exc:  # a parser bug must never become a verdict
        return Fact(spec, None, f"internal error parsing {spec.type}: {exc!r}", evidence)


_SHARED: dict[str, str] = {}


def _shared(text: str) -> str:
    """One string object for evidence text many hosts repeat: the same snippet on 3,000 hosts, and
    the same output from hosts built from one image (a run of 500 hosts then holds it once)."""
    return _SHARED.setdefault(text, text)


def audit_host(plan: HostPlan, options: RunOptions) -> HostResult:
    started = now()
    work = _work_of(plan)
    collection = collect(plan, options, work)
    results: list[CheckResult] = []
    for check in plan.checks:
        if check.id in collection.not_applicable:
            results.append(
                CheckResult(
                    check,
                    Verdict.NOT_APPLICABLE,
                    collection.not_applicable[check.id],
                    [parameter_evidence(check, plan.params, started)],
                )
            )
            continue
        facts = collection.facts[check.id]
        evidence = [f.evidence for f in facts.values()]
        if collection.error is not None:
            results.append(CheckResult(check, Verdict.ERROR, collection.error, evidence))
            continue
        verdict, reason = judge_rules(work.rules[check.id], facts)
        results.append(CheckResult(check, verdict, reason, evidence))
    return HostResult(plan.host, collection.status, collection.error, results, started, now())


ABORTED = "aborted"  # a host's status when the run stopped while it was being audited


def run_plans(
    plans: list[HostPlan],
    options: RunOptions,
    on_done: Callable[[HostResult], HostResult | None] | None = None,
    stop: threading.Event | None = None,
) -> list[HostResult]:
    """Audit every host; results come back in plan order. What ``on_done`` returns for a finished host,
    if anything, is kept in its place (a run keeps a small copy, its evidence written to disk).

    ``stop`` ends the run early: no new host starts, hosts in flight are aborted (their transports
    closed) and listed with status ``aborted``; hosts never started are left out. It does not wait
    for the aborted hosts' threads, so an interrupted run ends now, not after their timeouts.
    """
    finished: dict[str, HostResult] = {}
    _SHARED.clear()  # a process that runs audit after audit keeps no text of an earlier run
    _WORK.clear()
    _tune_malloc()
    if len(plans) < options.jobs:
        options = replace(options, parallel_snippets=True)  # same in-flight registry: abort_all still reaches all
    done: queue.SimpleQueue[HostResult] = queue.SimpleQueue()  # O(1) per finished host, however many are pending
    in_flight: dict[str, tuple[HostPlan, str]] = {}
    lock = threading.Lock()

    def audit(plan: HostPlan) -> HostResult | None:
        with lock:
            if stop is not None and stop.is_set():
                return None
            in_flight[plan.host.name] = (plan, now())
        return _safe_audit(plan, options)

    def finish(result: HostResult) -> None:
        with lock:
            in_flight.pop(result.host.name, None)
        kept = on_done(result) if on_done else None
        finished[result.host.name] = result if kept is None else kept

    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="audit")
    stopped = False
    try:
        futures = [pool.submit(audit, p) for p in plans]
        for future in futures:
            future.add_done_callback(lambda f: f.cancelled() or f.result() is None or done.put(f.result()))
        while len(finished) < len(plans):
            with contextlib.suppress(queue.Empty):
                finish(done.get(timeout=0.2))
            if stop is not None and stop.is_set():
                stopped = True
                break
    finally:
        if stopped or len(finished) < len(plans):
            with lock:  # no host starts after this
                if stop is not None:
                    stop.set()
            while True:  # hosts that finished before the stop are results, not aborted
                try:
                    finish(done.get_nowait())
                except queue.Empty:
                    break
            with lock:
                aborted = [_aborted(plan, started) for plan, started in in_flight.values()]
                in_flight.clear()
            for result in aborted:
                finished[result.host.name] = result
            options.abort_all()
        pool.shutdown(wait=not stopped, cancel_futures=True)
    return [finished[p.host.name] for p in plans if p.host.name in finished]


def _aborted(plan: HostPlan, started: str) -> HostResult:
    reason = "aborted: the run was stopped while this host was being audited"
    return HostResult(
        plan.host, ABORTED, reason, [CheckResult(c, Verdict.ERROR, reason, []) for c in plan.checks], started, now()
    )


def _tune_malloc(arenas: int = 2, mmap_from: int = 64 * 1024) -> None:
    """glibc gives threads that allocate at once arenas of their own (up to eight a core) and keeps
    what is freed in each: with 50 worker threads and 50 SSH threads, megabytes of resident memory
    for nothing. A host's output (tens of KB, in several copies while it is read) goes to mmap, not
    into the heap between long-lived results, whose holes it would leave unreturned when hosts
    answer together (peak memory at 500 hosts: bench/README.md). Elsewhere than glibc, nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
        libc.mallopt(-3, mmap_from)  # M_MMAP_THRESHOLD


def _safe_audit(plan: HostPlan, options: RunOptions) -> HostResult:
    try:
        return audit_host(plan, options)
    except Exception as exc:  # one host's crash must not sink the run
        reason = f"internal error while auditing {plan.host.name}: {exc!r}"
        return HostResult(
            plan.host,
            "error",
            reason,
            [CheckResult(c, Verdict.ERROR, reason, []) for c in plan.checks],
            now(),
            now(),
        )
