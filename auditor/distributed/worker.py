"""``auditor worker``: audits the shards of its segments' queues with the same engine as a local run.

The worker's own SSH key and known_hosts are used (read here, never sent); every host outside
its ``--allow-net`` networks is refused (``error`` with the reason) before anything connects.
The shard's NET-* probes run here too, inside the segment, as a local run there would: every
address a probe would contact (its target, the portal, file or log server a parameter names)
is held to ``--allow-net`` the same way, and a probe reaching outside is ``error``, not run.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from auditor.catalog import load_catalog
from auditor.distributed import allow, definitions
from auditor.distributed.app import CLOSED_KEY, DEADLINE_MARGIN_S, TASK_NAME, deadline, make_app
from auditor.distributed.shards import host_lines, queue_of
from auditor.errors import InputError
from auditor.inventory import load_inventory
from auditor.model import Host, HostResult
from auditor.output import OutputError
from auditor.paths import playbooks_dir
from auditor.run import AuditOptions, Hooks, Interrupted, audit


@dataclass
class WorkerSettings:
    allow: list[allow.Network]
    identity: Path  # this worker's SSH private key
    known_hosts: Path
    jobs: int
    name: str = ""
    visibility_timeout: float = 3600.0  # this worker's broker setting: its shards end before it


# Variables a task may not set: how and as whom to connect is this worker's (a task that said
# ansible_connection=local would audit the worker itself; a key file, another key of this machine).
_BUILT_IN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CONNECTION = re.compile(r"(ansible_.*|os|level|security_level)", re.IGNORECASE)
MAX_SHARD_HOSTS = 10_000  # the coordinator's largest --shard-size: a task with more comes from elsewhere


def _inventory(hosts: list[dict[str, Any]], identity: Path) -> dict[str, Any]:
    """The shard's hosts as an inventory this worker writes: its own key, no connection setting from the task."""
    entries = {}
    for h in hosts:
        entry = {
            "address": h["address"],
            "port": h["port"],
            "become": bool(h["become"]),
            "os": h["os"],
            "key_file": str(identity),
            "groups": list(h["groups"]),
            "vars": {k: v for k, v in dict(h["vars"]).items() if not _CONNECTION.fullmatch(str(k))},
        }
        if h.get("user"):
            entry["user"] = h["user"]
        if h.get("level") is not None:
            entry["level"] = h["level"]
        entries[h["name"]] = entry
    return {"hosts": entries}


def audit_shard(payload: dict[str, Any], settings: WorkerSettings) -> dict[str, Any]:
    """Audit one shard; returns ``{"hosts": [journal lines], "errors": {host: reason}}``.

    Never raises for a host's or the shard's trouble: a task that failed would be retried or
    lost, while an ``error`` with its reason is a verdict the report shows.
    """
    if len(payload["hosts"]) > MAX_SHARD_HOSTS:
        dropped = f"a task of {len(payload['hosts'])} hosts is no shard (at most {MAX_SHARD_HOSTS})"
        return {"worker": settings.name, "hosts": [], "errors": {}, "dropped": dropped}
    opts = payload["settings"]
    # Stopped before the broker's visibility timeout, resolving names included: never delivered twice while
    # it runs. The task's numbers are held within this worker's bounds (NaN, infinity, text: the bound).
    limit = _bounded(opts["deadline_s"], 1.0, deadline(settings.visibility_timeout))
    ends = time.monotonic() + limit
    over = f"the shard reached its time limit ({limit:g} s)"
    errors: dict[str, str] = {}
    allowed: list[dict[str, Any]] = []
    for h in payload["hosts"]:
        if time.monotonic() > ends:
            why = f"the worker {settings.name} stopped the shard before this host: {over}"
        else:
            why = allow.refusal(str(h["address"]), settings.allow)
        if why:
            errors[h["name"]] = why
        else:
            allowed.append(h)
    if not allowed:
        return {"worker": settings.name, "hosts": [], "errors": errors}
    found: list[HostResult] = []
    hooks = Hooks(on_merged=found.extend)
    # The second request, half the margin later, stops waiting for network probes still winding down.
    left = max(0.0, ends - time.monotonic())
    timers = [threading.Timer(at, hooks.cancel.request, [over]) for at in (left, left + DEADLINE_MARGIN_S / 2)]
    with tempfile.TemporaryDirectory(prefix="auditor-shard-") as tmp:
        inventory = Path(tmp) / "inventory.yaml"
        inventory.write_text(yaml.safe_dump(_inventory(allowed, settings.identity)), encoding="utf-8")
        book = _playbook(payload["playbook"], Path(tmp))
        meaning = definitions.digest(_playbook_text(payload["playbook"], book)) if book is not None else None
        options = AuditOptions(
            known_hosts=str(settings.known_hosts),
            connect_timeout=_bounded(opts["connect_timeout"], 0.1, limit),
            fact_timeout=int(_bounded(opts["fact_timeout"], 1, limit)),
            jobs=settings.jobs,
            output=Path(tmp) / "out",
            # The coordinator vetted the targets' width; here every address is held to --allow-net.
            allow_wide_scan=True,
            no_network=not opts.get("network"),
            refuse_address=functools.partial(allow.refusal, networks=settings.allow),  # every probe's addresses
        )
        for timer in timers:
            timer.start()
        try:
            if book is None:
                raise InputError(f"no built-in playbook named {str(payload['playbook'].get('name'))[:80]!r}")
            options.network_hosts = _network_hosts(payload.get("network_hosts") or [], settings.identity, Path(tmp))
            audit(str(inventory), book, _task_params(payload["params"]), options, hooks)
        except (InputError, OutputError, Interrupted, OSError) as exc:
            reason = f"the worker {settings.name} could not audit this shard: {exc}"
            return {
                "worker": settings.name,
                "hosts": [],
                "errors": {**errors, **dict.fromkeys(_names(allowed), reason)},
            }
        finally:
            for timer in timers:
                timer.cancel()
    done = {r.host.name for r in found}
    for name in _names(allowed):
        if name not in done:
            errors[name] = f"the worker {settings.name} stopped the shard before this host: {hooks.cancel.reason}"
    lines, sources = host_lines(found)
    return {"worker": settings.name, "hosts": lines, "errors": errors, "sources": sources, "definitions": meaning}


def _network_hosts(hosts: list[dict[str, Any]], identity: Path, folder: Path) -> list[Host]:
    """The inventory hosts the shard's probes look up (a log server), read as this worker's inventory would:
    its own key, no connection setting from the task. Their addresses meet --allow-net when contacted."""
    if not hosts:
        return []
    path = folder / "network-hosts.yaml"
    path.write_text(yaml.safe_dump(_inventory(hosts, identity)), encoding="utf-8")
    return list(load_inventory(path).hosts.values())


def _bounded(value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return high
    return min(max(number, low), high) if math.isfinite(number) else high


def _playbook(playbook: dict[str, Any], folder: Path) -> str | None:
    """A built-in playbook by its name, or the text the coordinator sent written under a fixed name:
    a task names no file of this machine."""
    if "text" in playbook:
        path = folder / "playbook.yaml"
        path.write_text(_without_waivers(str(playbook["text"])), encoding="utf-8")
        return str(path)
    name = str(playbook.get("name", ""))
    if _BUILT_IN.fullmatch(name) and (playbooks_dir() / f"{name}.yaml").is_file():
        return name
    return None


# Waivers are the coordinator's, applied once to the merged verdicts as in a local run: a worker that
# applied them too would send back ``waived`` where a local run has the finding, and a waivers file
# (playbook ``waivers: <file>``, ``evidence_dir``) named by a task would be a file of this machine.
_RUN_LEVEL_PARAMS = ("evidence_dir",)


def _without_waivers(text: str) -> str:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # refused by the run with its line
    if not isinstance(data, dict):
        return text
    params = data.get("params")
    if "waivers" not in data and not (isinstance(params, dict) and set(params) & set(_RUN_LEVEL_PARAMS)):
        return text
    data.pop("waivers", None)
    if isinstance(params, dict):
        data["params"] = {k: v for k, v in params.items() if k not in _RUN_LEVEL_PARAMS}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _task_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dict(params).items() if k not in _RUN_LEVEL_PARAMS}


def _playbook_text(playbook: dict[str, Any], book: str) -> str:
    """The text the definitions digest is of: as the coordinator sent it, or this machine's built-in."""
    if "text" in playbook:
        return str(playbook["text"])
    return (playbooks_dir() / f"{book}.yaml").read_text(encoding="utf-8")


def _names(hosts: list[dict[str, Any]]) -> list[str]:
    return [str(h["name"]) for h in hosts]


def serve(
    broker_url: str, queues: list[str], settings: WorkerSettings, visibility_timeout: float, name: str | None = None
) -> None:
    """Consume the segments' queues until stopped (SIGTERM/Ctrl-C: the shard in hand is given back)."""
    for path, what in ((settings.identity, "--identity"), (settings.known_hosts, "--known-hosts")):
        if not path.is_file():
            raise OSError(2, f"{what}: no such file", str(path))
    settings.visibility_timeout = visibility_timeout
    settings.name = name or f"auditor@{socket.gethostname()}-{os.getpid()}"
    load_catalog()  # read once, now: the first shard does not wait for it
    # Celery gives the root logger a handler: paramiko's traceback of each failed handshake would reach
    # this worker's log, while the reason is already the host's error.
    logging.getLogger("paramiko").propagate = False
    app = make_app(broker_url, visibility_timeout)
    # A result stored while the broker restarts is stored once it is back, not lost. The worker's side
    # only: the coordinator must see a broker that is gone at once, to wait for it no longer than it says.
    app.conf.update(result_backend_always_retry=True, result_backend_max_retries=30)

    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def audit_shard_task(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            closed = app.backend.client.exists(CLOSED_KEY.format(run=payload["run"]))
        except Exception:  # the broker restarting: audit it, the coordinator keeps each host once
            closed = False
        if closed:
            return {"worker": settings.name, "hosts": [], "errors": {}, "dropped": "the run was over"}
        result = audit_shard(payload, settings)
        print(
            f"{settings.name}: shard {payload['shard']} of segment {payload['segment']}: "
            f"{len(result['hosts'])} audited, {len(result['errors'])} in error",
            file=sys.stderr,
            flush=True,
        )
        return result

    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queue_of(q) for q in queues),
            "--pool",
            "threads",  # the main thread answers the coordinator's liveness pings while a shard runs
            "--concurrency",
            "1",
            "--hostname",
            settings.name,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ]
    )
