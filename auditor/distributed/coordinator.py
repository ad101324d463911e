"""``auditor run --distributed``: the host phase handed to workers, one queue per segment.

``dispatcher(...)`` returns a function with engine.run_plans' contract, so the run function
writes the journal, results.json and report.html exactly as for a local run. Each host is
delivered once: results are keyed by host, and a shard delivered again (its worker killed)
replaces nothing already merged. A segment whose queue has no live worker for
``segment_timeout`` seconds ends with its hosts in ``error`` saying so. Each host's NET-* checks
go to its worker with its host checks (probed from inside the segment), with the inventory hosts
those probes look up (a log server); a shard's nmap record comes back once, as shared evidence.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.catalog.playbook import HostPlan, resolve_playbook_path
from auditor.distributed import definitions
from auditor.distributed import shards as shards_mod
from auditor.distributed.app import CLOSED_KEY, TASK_NAME, deadline, make_app
from auditor.distributed.credentials import shown
from auditor.engine import RunOptions, now
from auditor.errors import InputError
from auditor.inventory import load_inventory
from auditor.model import Host, HostResult
from auditor.network.plans import split as split_network

Progress = Callable[[dict[str, tuple[int, int]]], None]  # segment -> (hosts done, hosts)


class BrokerError(OSError):
    """The broker cannot be reached: an environment error (exit 3), said before any host is contacted."""


@dataclass
class DistributedOptions:
    broker: str
    shard_size: int = 100
    segment_timeout: float = 300.0
    visibility_timeout: float = 3600.0
    poll_s: float = 0.2


def check_broker(options: DistributedOptions) -> None:
    app = make_app(options.broker, options.visibility_timeout)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
        memory = app.backend.client.info("memory")
    except Exception as exc:  # kombu and redis raise many kinds; all mean the same here
        raise BrokerError(f"the broker {shown(options.broker)} cannot be used: {first_line(exc)}") from None
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if int(memory.get("maxmemory", 0) or 0) and policy != "noeviction":
        raise BrokerError(
            f"the broker {shown(options.broker)} may evict keys when full (maxmemory-policy {policy}): shards and "
            "results would vanish unseen; set maxmemory-policy noeviction"
        )


def _other_definitions(value: dict[str, Any]) -> str:
    return (
        f"the worker {value.get('worker')} judges with other definitions than this machine (another auditor "
        "version, catalog or copy of the playbook): its verdicts are not merged"
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def dispatcher(
    options: DistributedOptions,
    inventory: str | None,
    playbook: str,
    params: dict[str, Any],
    connect_timeout: float,
    fact_timeout: int,
    progress: Progress | None = None,
) -> Callable[..., list[HostResult]]:
    if inventory is None:
        raise InputError(
            "a distributed run needs an inventory (-i): this machine is audited by a local run", field="--inventory"
        )
    inv = load_inventory(Path(inventory))
    shards_mod.check_inventory(inv)
    shards_mod.check_params(params)
    book = shards_mod.playbook_payload(playbook)
    meaning = definitions.digest(resolve_playbook_path(playbook).read_text(encoding="utf-8"))
    check_broker(options)

    def run_hosts(
        plans: list[HostPlan],
        run_options: RunOptions,
        on_done: Callable[[HostResult], HostResult | None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[HostResult]:
        settings = {
            "connect_timeout": connect_timeout,
            "fact_timeout": fact_timeout,
            "deadline_s": deadline(options.visibility_timeout),
        }
        hosts = list(inv.hosts.values())
        return _Dispatch(options, book, params, settings, progress, hosts, meaning).run(
            plans, on_done, stop or threading.Event()
        )

    return run_hosts


class _Dispatch:
    def __init__(
        self,
        options: DistributedOptions,
        book: dict[str, str],
        params: dict[str, Any],
        settings: dict[str, Any],
        progress: Progress | None,
        inventory_hosts: list[Host],
        meaning: str,
    ):
        self.options = options
        self.inventory_hosts = inventory_hosts
        self.meaning = meaning  # the digest of this machine's definitions: a worker's verdicts must share it
        self.app = make_app(options.broker, options.visibility_timeout)
        self.book, self.params, self.settings, self.progress = book, params, settings, progress
        self.run_id = secrets.token_hex(8)
        self.results: dict[str, HostResult] = {}
        self.unsent: dict[str, tuple[float, str]] = {}  # shards the broker did not take: since when, why
        self.broker_id = ""

    def run(
        self, plans: list[HostPlan], on_done: Callable[[HostResult], HostResult | None] | None, stop: threading.Event
    ) -> list[HostResult]:
        shards = shards_mod.split(plans, self.options.shard_size)
        totals: dict[str, int] = {}
        segment_of: dict[str, str] = {}
        for s in shards:
            totals[s.segment] = totals.get(s.segment, 0) + len(s.plans)
            segment_of.update(dict.fromkeys((p.host.name for p in s.plans), s.segment))
        done = dict.fromkeys(totals, 0)
        pending = {f"auditor-{self.run_id}-{s.number}": s for s in shards}

        def deliver(plan: HostPlan, result: HostResult) -> None:
            if plan.host.name in self.results:  # a shard delivered twice: its hosts count once
                return
            kept = on_done(result) if on_done else None
            self.results[plan.host.name] = result if kept is None else kept
            done[segment_of[plan.host.name]] += 1

        self.broker_id = self._broker_id()
        for task_id, s in pending.items():
            self._try_send(task_id, s)
        next_check = time.monotonic() + self._check_interval()

        started = time.monotonic()
        last_live = dict.fromkeys(totals, started)
        lock = threading.Lock()
        finished = threading.Event()

        def watch_workers() -> None:  # a ping waits for answers: not in the loop that collects results
            interval = min(5.0, max(1.0, self.options.segment_timeout / 4))
            while not finished.wait(interval):
                live = self._live_queues()
                with lock:
                    for segment in last_live:
                        if shards_mod.queue_of(segment) in live:
                            last_live[segment] = time.monotonic()

        watcher = threading.Thread(target=watch_workers, name="auditor-liveness", daemon=True)
        watcher.start()
        shown_progress: dict[str, tuple[int, int]] = {}
        broker_lost: float | None = None  # since when the broker has not answered
        given_up: list[str] = []  # shards of segments without a live worker
        try:
            while pending and not stop.is_set():
                for task_id, shard in list(pending.items()):
                    try:
                        merged = self._collect(task_id, shard)
                        broker_lost = None
                    except Exception as exc:  # the broker went away: wait for it, as long as for a worker
                        broker_lost = broker_lost or time.monotonic()
                        if time.monotonic() - broker_lost <= self.options.segment_timeout:
                            break
                        reason = (
                            f"the broker could not be reached for {self.options.segment_timeout:g} s: {first_line(exc)}"
                        )
                        merged = [(p, shards_mod.error_result(p, reason, now())) for p in shard.plans]
                    if merged is not None:
                        for plan, result in merged:
                            deliver(plan, result)
                        del pending[task_id]
                        with lock:  # a result is a sign of life too
                            last_live[shard.segment] = time.monotonic()
                waiting = {s.segment for s in pending.values()}
                for segment in waiting:
                    with lock:
                        silent = time.monotonic() - last_live[segment]
                    if silent > self.options.segment_timeout:
                        reason = (
                            f"no live worker consumed the queue of segment {segment!r} for "
                            f"{self.options.segment_timeout:g} s: its hosts were not audited"
                        )
                        at = now()
                        for task_id, shard in list(pending.items()):
                            if shard.segment == segment:
                                why = self._refused(task_id) if task_id in self.unsent else reason
                                for plan in shard.plans:
                                    deliver(plan, shards_mod.error_result(plan, why, at))
                                given_up.append(task_id)
                                del pending[task_id]
                if pending and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self._check_interval()
                    self._send_lost_again(pending)
                for task_id, (since, _) in list(self.unsent.items()):
                    if time.monotonic() - since > self.options.segment_timeout and task_id in pending:
                        at, reason = now(), self._refused(task_id)
                        for plan in pending.pop(task_id).plans:
                            deliver(plan, shards_mod.error_result(plan, reason, at))
                counts = {segment: (done[segment], n) for segment, n in totals.items()}
                if self.progress and counts != shown_progress:
                    self.progress(counts)
                    shown_progress = counts
                if pending:
                    time.sleep(self.options.poll_s)
        finally:
            finished.set()
            self._close([*given_up, *pending])
        return [self.results[p.host.name] for p in plans if p.host.name in self.results]

    def _network_hosts(self, shard: shards_mod.Shard) -> list[Host]:
        if not shards_mod.probes_network(shard):
            return []
        from auditor.network import phase  # the probes' modules only for a run that probes

        return phase.inventory_contacts(split_network(shard.plans)[1], self.inventory_hosts)

    def _check_interval(self) -> float:
        return min(5.0, max(1.0, self.options.segment_timeout / 4))

    def _send(self, task_id: str, shard: shards_mod.Shard) -> None:
        payload = shards_mod.task_payload(
            self.run_id, shard, self.book, self.params, self.settings, self._network_hosts(shard)
        )
        self.app.send_task(TASK_NAME, args=[payload], queue=shards_mod.queue_of(shard.segment), task_id=task_id)

    def _try_send(self, task_id: str, shard: shards_mod.Shard) -> bool:
        """Sent, or kept in ``unsent`` (since when, why) to be tried again: a broker restarting or full
        for a moment loses no host; one that refuses longer than the segment timeout gives its reason."""
        try:
            self._send(task_id, shard)
        except Exception as exc:  # kombu and redis raise many kinds; all mean the broker did not take it
            self.unsent[task_id] = (self.unsent.get(task_id, (time.monotonic(), ""))[0], first_line(exc))
            return False
        self.unsent.pop(task_id, None)
        return True

    def _refused(self, task_id: str) -> str:
        why = self.unsent.pop(task_id)[1]
        return f"the broker did not take this host's shard for {self.options.segment_timeout:g} s: {why}"

    def _broker_id(self) -> str:
        """The broker's server run id: Redis draws a new one each time it starts."""
        try:
            return str(self.app.backend.client.info("server").get("run_id", ""))
        except Exception:  # away: the next check asks again
            return self.broker_id

    def _send_lost_again(self, pending: dict[str, shards_mod.Shard]) -> None:
        """After the broker restarted, every shard without a result is sent again: it may have come
        back without them (no persistence, an older snapshot), and their live worker would be waited
        for forever. A shard sent twice is harmless: each host is kept once. Shards the broker
        refused are tried again."""
        current = self._broker_id()
        restarted = current != self.broker_id
        self.broker_id = current
        for task_id, shard in pending.items():
            if task_id in self.unsent or restarted:
                try:
                    if self.app.AsyncResult(task_id).ready():
                        continue
                except Exception:  # away again: the next check sends it
                    self.broker_id = ""
                    return
                self._try_send(task_id, shard)

    def _close(self, unfinished: list[str]) -> None:
        """Shards still queued (a stopped run, a segment given up) are dropped by the worker that gets them."""
        try:
            self.app.backend.client.set(CLOSED_KEY.format(run=self.run_id), 1, ex=7 * 86400)
            if unfinished:
                self.app.control.revoke(unfinished)
        except Exception:  # the broker is gone: nothing more can be said to it; the run's files come first
            pass

    def _collect(self, task_id: str, shard: shards_mod.Shard) -> list[tuple[HostPlan, HostResult]] | None:
        result = self.app.AsyncResult(task_id)
        if not result.ready():
            return None
        at = now()
        value = result.get(propagate=False, disable_sync_subtasks=False)
        if result.failed() or not isinstance(value, dict):
            reason = (
                f"the shard failed on its worker: {first_line(value) if isinstance(value, BaseException) else value!r}"
            )
            merged = [(p, shards_mod.error_result(p, reason, at)) for p in shard.plans]
        else:
            lines = {str(h.get("name")): h for h in value.get("hosts", []) if isinstance(h, dict)}
            sources = shards_mod.evidence_sources(value)
            errors = value.get("errors") or {}
            other = value.get("definitions") != self.meaning
            merged = []
            for plan in shard.plans:
                name = plan.host.name
                if name in lines and other:
                    merged.append((plan, shards_mod.error_result(plan, _other_definitions(value), at)))
                elif name in lines:
                    merged.append((plan, shards_mod.host_result(plan, lines[name], at, sources)))
                else:
                    why = errors.get(name) or f"the worker {value.get('worker')} returned nothing for this host"
                    merged.append((plan, shards_mod.error_result(plan, str(why), at)))
        result.forget()
        return merged

    def _live_queues(self) -> set[str]:
        """The queues some worker consumes now (a worker answers between and during its shards)."""
        try:
            replies = self.app.control.inspect(timeout=2.0).active_queues() or {}
        except Exception:  # no answer is no live worker
            return set()
        return {q["name"] for queues in replies.values() for q in queues or [] if isinstance(q, dict) and "name" in q}
