"""The coordinator's side of a distributed run, without Celery: shards, task payloads, results back.

A task payload carries what the worker needs to plan the same checks (host names, addresses,
users, groups, non-secret variables, the playbook and parameters) and nothing secret: no key
file, no password. The worker uses its own key and known_hosts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from auditor.catalog.playbook import HostPlan, resolve_playbook_path
from auditor.errors import InputError
from auditor.inventory import Inventory, is_secret_name, redact
from auditor.model import CheckResult, Evidence, Host, HostResult, Verdict
from auditor.network.plans import is_network
from auditor.paths import playbooks_dir
from auditor.results import host_to_dict
from auditor.spill import hydrate

SEGMENT_VAR = "segment"
DEFAULT_SEGMENT = "default"
# A segment names a broker queue: plain words only.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_IMPLICIT_GROUPS = {"all", "ungrouped"}
# A queue is a key of the broker: under a prefix of its own a segment named "unacked" or "celery" is no
# key of Celery's; lower case, so "Hanoi" in an inventory and "--queue hanoi" on a worker meet.
QUEUE_PREFIX = "auditor.segment."


@dataclass
class Shard:
    number: int
    segment: str
    plans: list[HostPlan]


def check_segment(text: str, where: str) -> str:
    if not _SEGMENT.fullmatch(text):
        raise InputError(f"{text!r} is no segment name (letters, digits, _ . -; at most 64)", field=where)
    return text


def queue_of(segment: str) -> str:
    return QUEUE_PREFIX + segment.lower()


def segment_of(plan: HostPlan) -> str:
    return check_segment(str(plan.host.vars.get(SEGMENT_VAR, DEFAULT_SEGMENT)), f"{plan.host.name}.{SEGMENT_VAR}")


def check_inventory(inventory: Inventory) -> None:
    """Before the output folder is taken: every host has a segment name and can go to a worker."""
    for host in inventory.hosts.values():
        value = str(host.vars.get(SEGMENT_VAR, DEFAULT_SEGMENT))
        if not _SEGMENT.fullmatch(value):
            raise InputError(
                f"{value!r} is no segment name (letters, digits, _ . -; at most 64)",
                file=inventory.source,
                line=inventory.origin(host, SEGMENT_VAR),
                field=f"{host.name}.{SEGMENT_VAR}",
            )
        if host.transport != "ssh":
            raise InputError(
                "a host audited over a local connection cannot go to a worker",
                file=inventory.source,
                line=inventory.origin(host, "ansible_connection"),
                field=f"{host.name}.ansible_connection",
            )


def split(plans: list[HostPlan], size: int) -> list[Shard]:
    """Shards of at most ``size`` hosts, each of one segment, in inventory order."""
    by_segment: dict[str, list[HostPlan]] = {}
    for plan in plans:
        if plan.host.transport != "ssh":
            raise InputError(
                "a host audited over a local connection cannot go to a worker",
                field=f"{plan.host.name}.ansible_connection",
            )
        by_segment.setdefault(segment_of(plan), []).append(plan)
    shards: list[Shard] = []
    for segment, members in by_segment.items():
        for start in range(0, len(members), size):
            shards.append(Shard(len(shards), segment, members[start : start + size]))
    return shards


def playbook_payload(playbook: str) -> dict[str, str]:
    """A built-in playbook by name; another by its text (the worker has no copy of the file)."""
    path = resolve_playbook_path(playbook)
    if path.parent.resolve() == playbooks_dir().resolve():
        return {"name": path.stem}
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("params"), dict):
        check_params(data["params"])
    return {"name": path.stem, "text": text}


def check_params(params: dict[str, Any]) -> None:
    for name in params:
        if is_secret_name(name):
            raise InputError("a secret parameter cannot be sent to workers (tasks carry no secret)", field=name)


def host_payload(host: Host) -> dict[str, Any]:
    """What a worker gets of a host: never its key file (the worker has its own)."""
    return {
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "user": host.user,
        "become": host.become,
        "os": host.os,
        "level": host.level,
        "groups": [g for g in host.groups if g not in _IMPLICIT_GROUPS],
        "vars": redact(host.vars),
    }


def probes_network(shard: Shard) -> bool:
    """The shard's plans hold NET-* checks: its worker probes them (none when the run has --no-network)."""
    return any(is_network(c) for p in shard.plans for c in p.checks)


def task_payload(
    dispatch: str,
    shard: Shard,
    playbook: dict[str, str],
    params: dict[str, Any],
    settings: dict[str, Any],
    network_hosts: list[Host] | None = None,
) -> dict[str, Any]:
    return {
        "run": dispatch,
        "shard": shard.number,
        "segment": shard.segment,
        "playbook": playbook,
        "params": params,
        "settings": {**settings, "network": probes_network(shard)},  # connect_timeout, fact_timeout, deadline_s
        "hosts": [host_payload(p.host) for p in shard.plans],
        # Inventory hosts outside the shard its NET-* probes look up (a log server), as the whole inventory has them.
        "network_hosts": [host_payload(h) for h in network_hosts or []],
    }


def error_result(plan: HostPlan, reason: str, at: str) -> HostResult:
    results = [CheckResult(c, Verdict.ERROR, reason, []) for c in plan.checks]
    return HostResult(plan.host, "error", reason, results, at, at)


def host_lines(hosts: list[HostResult]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """A worker's hosts as journal lines, and the records their evidence items are parts of (the shard's
    nmap run), each once by reference: ``"source": "s1"`` in an item, ``{"s1": {command, output, ...}}``."""
    refs: dict[int, str] = {}
    table: dict[str, dict[str, Any]] = {}
    lines = []
    for kept in hosts:
        host = hydrate(kept)  # the run kept it small: its evidence is read back, one host at a time
        line = host_to_dict(host)
        for result, result_line in zip(host.results, line["results"], strict=True):
            for e, item in zip(result.evidence, result_line["evidence"], strict=True):
                if e.source is not None:
                    ref = refs.get(id(e.source))
                    if ref is None:
                        ref = refs[id(e.source)] = f"s{len(refs) + 1}"
                        table[ref] = e.source.to_dict()
                    item["source"] = ref
        lines.append(line)
    return lines, table


def evidence_sources(value: dict[str, Any]) -> dict[str, Evidence]:
    """The records a shard's evidence items are parts of (its nmap run: command and whole output), by the
    reference the worker gave each; one object each, so results.json stores each once in shared_evidence."""
    table = value.get("sources") or {}
    if not isinstance(table, dict):
        return {}
    out = {}
    for ref, e in table.items():
        try:
            out[str(ref)] = _evidence(e, {})
        except (KeyError, TypeError, ValueError):
            continue  # an item referring to it is then unusable: its host is ``error``
    return out


def _evidence(e: dict[str, Any], sources: dict[str, Evidence]) -> Evidence:
    source = None
    if e.get("source") is not None:
        source = sources.get(str(e["source"]))
        if source is None:
            raise ValueError(f"evidence refers to a record the worker did not send: {str(e['source'])[:40]!r}")
    return Evidence(e["command"], e["rc"], e["output"], e["at"], e.get("stderr", ""), e.get("duration_ms"), source)


def host_result(
    plan: HostPlan, data: dict[str, Any], at: str, sources: dict[str, Evidence] | None = None
) -> HostResult:
    """A worker's journal line for ``plan``'s host, back into a HostResult with this machine's checks;
    ``sources``: the shard's shared evidence records (``evidence_sources``).

    A worker whose catalog disagrees with this one (another version) gives the host ``error``:
    its verdicts would be of other checks.
    """
    checks = {c.id: c for c in plan.checks}
    sources = sources or {}
    try:
        got = [r["check"] for r in data["results"]]
        if sorted(got) != sorted(checks):
            raise ValueError(f"the worker's checks differ from this machine's: {sorted(set(got) ^ set(checks))}")
        results = [
            CheckResult(
                checks[r["check"]],
                Verdict(r["status"]),
                str(r["reason"]),
                [_evidence(e, sources) for e in r["evidence"]],
            )
            for r in data["results"]
        ]
        return HostResult(plan.host, str(data["status"]), data["error"], results, data["started"], data["finished"])
    except (KeyError, TypeError, ValueError) as exc:
        return error_result(plan, f"the worker's result for this host is unusable: {exc}", at)
