"""``drill plan`` and ``drill run``: every act on every host of its scenario, cleanup always.

An act's verdict is ``pass`` only when the action's own observation saw the defence react;
anything that stops the drill from acting or observing (a host down, sudo refused, a timeout, a
bug) is ``error``. The cleanup runs after every act whatever happened, Ctrl-C and SIGTERM
included (they are held while a cleanup runs), and is retried on a new connection when the first
one is lost; the record says whether it succeeded.
"""

from __future__ import annotations

import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.drill import record as record_mod
from auditor.drill.actions import REGISTRY, ActContext, DrillError, Outcome
from auditor.drill.actions.base import HostShell, Step, now_iso
from auditor.drill.scenario import Scenario, ScenarioError, available, load
from auditor.drill.source import DrillSource
from auditor.errors import InputError
from auditor.inventory import Inventory, load_inventory
from auditor.model import Host
from auditor.output import OutputFolder
from auditor.run import EXIT_BAD_INPUT, EXIT_FAILURES, EXIT_INCOMPLETE, EXIT_OK, connect_options
from auditor.transports import ConnectOptions, HostError


@dataclass
class DrillOptions:
    inventory: str | None
    scenarios: list[str]
    output: Path | None = None
    officers: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    connect_timeout: float = 10.0
    lessons: str = ""
    lang: str = "vi"
    limit: list[str] = field(default_factory=list)  # only these inventory hosts or groups


@dataclass
class Prepared:
    inventory: Inventory
    scenarios: list[tuple[Scenario, list[Host]]]


def prepare(options: DrillOptions) -> Prepared:
    """Inventory and scenarios read and checked; no host contacted. InputError (exit 2) for bad input."""
    if not options.inventory:
        raise InputError("a drill acts on inventory hosts only: give --inventory")
    inventory = load_inventory(Path(options.inventory))
    for pattern in options.limit:
        if not inventory.names(pattern):
            raise InputError(f"--limit: no host or group {pattern!r} in {inventory.source}")
    limited = {h.name for h in inventory.select(options.limit)} if options.limit else set(inventory.hosts)
    names = list(dict.fromkeys(options.scenarios)) or available()
    chosen: list[tuple[Scenario, list[Host]]] = []
    for name in names:
        scenario = load(name)
        for pattern in scenario.hosts:
            if not inventory.names(pattern):
                raise ScenarioError(
                    f"no host or group {pattern!r} in {inventory.source}", file=scenario.file, field="hosts"
                )
        hosts = [h for h in inventory.select(scenario.hosts) if h.name in limited]
        chosen.append((scenario, hosts))
    return Prepared(inventory, chosen)


def act_params(act_with: dict[str, Any], host: Host, cli: dict[str, Any]) -> dict[str, Any]:
    return {**act_with, **host.vars, **cli}


def plan(options: DrillOptions) -> list[str]:
    """What each act will do to which host, as lines. Changes nothing and contacts nobody."""
    prepared = prepare(options)
    lines: list[str] = []
    for scenario, hosts in prepared.scenarios:
        lines.append(f"scenario {scenario.name}: {scenario.title}")
        for i, act in enumerate(scenario.acts, 1):
            action = REGISTRY[act.action]
            lines.append(
                f"  act {i}: {act.action} -> observe {act.observe} within {act.window:g} s -> cleanup {act.cleanup}"
            )
            for host in hosts:
                lines.append(f"    {host.name} ({host.address}):")
                params = act_params(act.params, host, options.params)
                lines.extend(f"      - {text}" for text in action.describe(host, params, act.window))
        if not hosts:
            lines.append("  (no host)")
    return lines


class _Signals:
    """Ctrl-C and SIGTERM stop the drill, but never in the middle of a cleanup: there they wait."""

    def __init__(self) -> None:
        self.shielded = False
        self.pending = False
        self.interrupted = False

    def handler(self, signum: int, frame: object) -> None:
        self.interrupted = True
        if self.shielded:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        old = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    @contextmanager
    def shield(self) -> Iterator[None]:
        self.shielded = True
        try:
            yield
        finally:
            self.shielded = False


@dataclass
class _Run:
    connect: ConnectOptions
    cli_params: dict[str, Any]
    signals: _Signals
    inventory_hosts: list[Host] = field(default_factory=list)
    sources: dict[str, DrillSource] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def source_for(self, params: dict[str, Any]) -> DrillSource:
        value = params.get("drill_source")
        if not value:
            raise DrillError("drill_source is not set (an address in the hosts' network, not the auditor's own)")
        parsed = DrillSource.parse(value)
        return self.sources.setdefault(parsed.address, parsed)


def _run_act(run: _Run, scenario: Scenario, index: int, host: Host) -> dict[str, Any]:
    act = scenario.acts[index]
    action = REGISTRY[act.action]
    steps: list[Step] = []
    events: list[dict[str, Any]] = []
    shell = HostShell(host, run.connect, steps, events)
    params = act_params(act.params, host, run.cli_params)
    ctx = ActContext(host=host, shell=shell, params=params, window=act.window, inventory_hosts=run.inventory_hosts)
    started = now_iso()
    interrupted = False
    try:
        shell.event("act", f"{scenario.name}: {act.action} on {host.name} ({host.address})")
        if host.os == "windows" or host.transport != "ssh":
            raise DrillError(f"{act.action} acts on Linux hosts over SSH only ({host.os}, {host.transport})")
        if action.needs_source:
            ctx.source = run.source_for(params)
            ctx.source.up(host.address)
        action.act(ctx)
        outcome = action.observe(ctx)
        shell.event("observe", f"verdict {outcome.status}: {outcome.reason}")
    except DrillError as exc:
        outcome = Outcome("error", str(exc))
    except HostError as exc:
        outcome = Outcome("error", exc.reason)
    except KeyboardInterrupt:
        interrupted = True
        outcome = Outcome("error", "interrupted (Ctrl-C or SIGTERM) before the observation ended")
    except Exception as exc:  # a bug of ours: never a pass, and the cleanup still runs
        outcome = Outcome("error", f"internal error: {type(exc).__name__}: {exc}")
    if outcome.status == "error":
        shell.event("observe", f"verdict error: {outcome.reason}")
    with run.signals.shield():
        try:
            cleaned, said = action.cleanup(ctx)
        except (HostError, DrillError) as exc:
            cleaned, said = False, f"cleanup failed: {getattr(exc, 'reason', None) or exc}"
        except Exception as exc:
            cleaned, said = False, f"cleanup failed: internal error: {type(exc).__name__}: {exc}"
        shell.event("cleanup", ("done: " if cleaned else "NOT DONE: ") + said)
        shell.close()
    for event in events:
        event["scenario"] = scenario.name
    run.timeline.extend(events)
    return {
        "act": index + 1,
        "action": act.action,
        "observe": act.observe,
        "window_seconds": act.window,
        "cleanup_kind": act.cleanup,
        "host": host.name,
        "address": host.address,
        "started": started,
        "finished": now_iso(),
        "status": outcome.status,
        "reason": outcome.reason,
        "details": outcome.details,
        "cleanup": {"ok": cleaned, "detail": said},
        "evidence": [s.as_dict() for s in steps],
        "interrupted": interrupted,
    }


def run(options: DrillOptions, confirm: bool) -> tuple[dict[str, Any], Path, int]:
    """Run the drill; (drill.json document, output folder, exit code)."""
    if not confirm:
        raise InputError("drill run changes the hosts (test file, failed logins, listener...): add --confirm")
    prepared = prepare(options)
    drill_id = "drill-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    out_dir = options.output or Path("reports") / drill_id
    folder = OutputFolder.take(out_dir, drill_id)
    signals = _Signals()
    state = _Run(
        connect_options(options.known_hosts, options.trust_on_first_use, options.connect_timeout),
        options.params,
        signals,
        list(prepared.inventory.hosts.values()),
    )
    started = now_iso()
    results: list[dict[str, Any]] = []
    try:
        # Installed until the record is written: a signal after the last act waits for the drill source's
        # removal and the record instead of cutting them short.
        with signals.installed():
            for scenario, hosts in prepared.scenarios:
                acts: list[dict[str, Any]] = []
                results.append({"scenario": scenario, "acts": acts})
                for index in range(len(scenario.acts)):
                    for host in hosts:
                        if signals.interrupted:
                            break
                        acts.append(_run_act(state, scenario, index, host))
            with signals.shield():
                source_log = []
                for source in state.sources.values():
                    ok, _ = source.down()
                    source_log.append(
                        {"address": source.address, "device": source.device, "removed": ok, "log": source.log}
                    )
                document = record_mod.document(
                    drill_id=drill_id,
                    started=started,
                    finished=now_iso(),
                    inventory=prepared.inventory.source,
                    officers=options.officers,
                    lessons=options.lessons,
                    results=results,
                    timeline=state.timeline,
                    sources=source_log,
                    interrupted=signals.interrupted,
                )
                record_mod.write(folder, document, options.lang)
    finally:
        for source in state.sources.values():  # an exception above: never leave the address up
            if source.added:
                source.down()
        folder.release()
    return document, out_dir, exit_code(document)


def exit_code(document: dict[str, Any]) -> int:
    if document["interrupted"] or document["outcome"] == "error" or not document["cleanup_ok"]:
        return EXIT_INCOMPLETE
    return EXIT_FAILURES if document["outcome"] == "fail" else EXIT_OK


__all__ = ["EXIT_BAD_INPUT", "DrillOptions", "plan", "prepare", "run"]
