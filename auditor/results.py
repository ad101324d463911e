"""``results.json`` (schema ``auditor.results/2``): built from host results, validated, written.

The JSON Schema lives in ``auditor/schemas/results.schema.json``; every file we
write is validated against it first, so a consumer can rely on the shape. Version 2
stores evidence that many results share once, in ``shared_evidence`` (``SharedEvidence``):
without it, every host repeated the nmap command line that names every target, and the
file grew with the square of the hosts. Version 1 documents (every evidence item with its
own command; ``results.schema.v1.json``) are still validated and rendered.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import IO, Any, overload

import jsonschema

from auditor import __version__
from auditor.model import Evidence, HostResult, Verdict
from auditor.paths import schema_path
from auditor.scoring import FORMULA, WEIGHTS, breakdown, rollup, score

SCHEMA_ID = "auditor.results/2"
SCHEMA_FILES = {SCHEMA_ID: "results.schema.json", "auditor.results/1": "results.schema.v1.json"}
# A command shorter than this stays inline: a reference would save little and cost the reader a lookup.
SHARE_MIN_CHARS = 40


def _key(command: str | list[str]) -> str | tuple[str, ...]:
    return command if isinstance(command, str) else tuple(command)


class SharedEvidence:
    """The run-level ``shared_evidence`` section, and the evidence items that refer to it.

    Two things are stored once per document, whatever their text: every command that two or more
    evidence items ran (the same snippet on every host, the nmap command line naming every target),
    and every ``Evidence.source`` (one run whose whole output several items take their own lines
    from: the nmap scan). Each item keeps its own output, rc and time.
    """

    def __init__(self, hosts: Iterable[HostResult]):
        """``hosts`` is read once: each item's command (one object for equal ones) or source is noted in
        order, so the records are numbered as the hosts list them after the commands are counted (the
        section precedes the hosts in results.json, which may be made one at a time when it is written)."""
        uses: Counter[Any] = Counter()
        same: dict[Any, Any] = {}
        order: list[Any] = []  # a command key, or a source Evidence
        for h in hosts:
            for r in h.results:
                for e in r.evidence:
                    if e.source is not None:
                        order.append(e.source)
                    else:
                        key = same.setdefault(_key(e.command), _key(e.command))
                        uses[key] += 1
                        order.append(key)
        repeated = {k for k, n in uses.items() if n > 1 and len(str(k)) >= SHARE_MIN_CHARS}
        del uses, same
        self._ids: dict[Any, str] = {}  # command key, or id() of a source Evidence -> record id
        self._sources: list[Evidence] = []  # kept alive while their id() is a key
        self.section: dict[str, dict[str, Any]] = {}
        for entry in order:
            if isinstance(entry, Evidence):
                if ("source", id(entry)) not in self._ids:
                    self._sources.append(entry)
                    self._ref(("source", id(entry)), entry.to_dict)
            elif entry in repeated and entry not in self._ids:
                command = list(entry) if isinstance(entry, tuple) else entry  # an argument vector as it was given
                self._ref(entry, lambda command=command: {"command": command})

    def _ref(self, key: Any, record: Callable[[], dict[str, Any]]) -> str:
        ref = self._ids.get(key)
        if ref is None:
            ref = self._ids[key] = f"e{len(self._ids) + 1}"
            self.section[ref] = record()
        return ref

    def item(self, e: Evidence) -> dict[str, Any]:
        """The evidence item as results.json holds it: its command by reference when shared."""
        source = e.source
        ref = self._ids[("source", id(source))] if source is not None else self._ids.get(_key(e.command))
        if ref is None:
            return e.to_dict()
        d = e.to_dict()
        del d["command"]
        return {"shared": ref, **d}


def host_plan_tasks(host: HostResult) -> dict[str, str]:
    by_task: dict[str, list[Verdict]] = defaultdict(list)
    for result in host.results:
        for task in result.check.plan:
            by_task[task].append(result.status)
    return {task: str(rollup(verdicts)) for task, verdicts in sorted(by_task.items())}


def host_to_dict(host: HostResult, shared: SharedEvidence | None = None, host_key: str | None = None) -> dict[str, Any]:
    """One host's part of results.json; without ``shared`` every evidence item is complete (the
    journal, hosts.jsonl, keeps each line readable on its own). ``host_key``: the SSH key it presented."""
    s = score((r.status, r.check.severity) for r in host.results)
    return {
        "name": host.host.name,
        "address": host.host.address,
        **({"host_key": host_key} if host_key else {}),
        "status": host.status,
        "error": host.error,
        "groups": host.host.groups,
        "os": host.host.os,
        "level": host.host.level,
        "started": host.started,
        "finished": host.finished,
        "score": s.value,
        "coverage": s.coverage,
        "plan_tasks": host_plan_tasks(host),
        "results": [r.to_dict(shared.item) if shared else r.to_dict() for r in host.results],
    }


class HostDicts(Sequence[dict[str, Any]]):
    """``document["hosts"]`` of a run: each host's part of results.json made when it is read.

    A host's evidence is most of its size (tens of KB): a run keeps each finished host small
    (``hydrate`` brings its evidence back from disk), and whoever reads the hosts (the writer of
    results.json, the history store, the report) gets one host at a time, as often as it asks.
    """

    def __init__(
        self,
        hosts: list[HostResult],
        shared: SharedEvidence,
        host_keys: Callable[[HostResult], str | None] | None,
        hydrate: Callable[[HostResult], HostResult],
    ):
        self._hosts, self._shared, self._host_keys, self._hydrate = hosts, shared, host_keys, hydrate

    def _dict(self, host: HostResult) -> dict[str, Any]:
        return host_to_dict(self._hydrate(host), self._shared, self._host_keys(host) if self._host_keys else None)

    def __len__(self) -> int:
        return len(self._hosts)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._dict(h) for h in self._hosts[index]]
        return self._dict(self._hosts[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for host in self._hosts:
            yield self._dict(host)

    def outlines(self) -> Iterator[dict[str, Any]]:
        """Each host's part as ``__iter__`` gives it, but for its results' evidence (left empty, and not
        read back): what tables and counts read, at a fraction of the cost."""
        for host in self._hosts:
            yield host_to_dict(host, self._shared, self._host_keys(host) if self._host_keys else None)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HostDicts | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} hosts of results.json>"


class _Outline:
    """The hosts as the score roll-ups read them (level, and each result's check and verdict), without
    their evidence, reasons or texts: re-iterable, one small dict at a time."""

    def __init__(self, hosts: list[HostResult]):
        self._hosts = hosts

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for h in self._hosts:
            yield {
                "level": h.host.level,
                "results": [
                    {
                        "check": r.check.id,
                        "status": str(r.status),
                        "severity": str(r.check.severity),
                        "iso27001": r.check.iso27001,
                        "plan": r.check.plan,
                    }
                    for r in h.results
                ],
            }


def build(
    run: dict[str, Any],
    hosts: list[HostResult],
    complete: bool = True,
    host_keys: Callable[[HostResult], str | None] | None = None,
    hydrate: Callable[[HostResult], HostResult] | None = None,
) -> dict[str, Any]:
    """The document. Scores and roll-ups need only each result's check and verdict, which ``hosts`` keep.

    ``hydrate`` gives a host its reasons and evidence back (a run keeps them on disk): then
    ``document["hosts"]`` is a ``HostDicts``, each host made when read (once here for
    ``shared_evidence``, then by each reader). Without it, ``hosts`` are whole and the document is
    plain data (a list of hosts), as json.dumps takes it.
    """
    shared = SharedEvidence(map(hydrate, hosts) if hydrate else hosts)
    plan_tasks: dict[str, Counter[str]] = defaultdict(Counter)
    for h in hosts:
        for task, verdict in host_plan_tasks(h).items():
            plan_tasks[task][verdict] += 1
            plan_tasks[task]["total"] += 1
    controls: dict[str, dict[str, list[str]]] = {"2013": defaultdict(list), "2022": defaultdict(list)}
    for h in hosts:
        for r in h.results:
            for edition, ids in r.check.iso27001.items():
                for cid in ids:
                    controls[edition][cid].append(r.status)
    overall = score((r.status, r.check.severity) for h in hosts for r in h.results)
    return {
        "schema": SCHEMA_ID,
        "generator": {"name": "auditor", "version": __version__},
        "run": {**run, "complete": complete},
        "score": {**overall.to_dict(), "formula": FORMULA, "weights": dict(WEIGHTS)},
        "shared_evidence": shared.section,
        "hosts": HostDicts(hosts, shared, host_keys, hydrate) if hydrate else _host_dicts(hosts, shared, host_keys),
        "plan_tasks": {t: dict(c) for t, c in sorted(plan_tasks.items())},
        "controls": {ed: {cid: str(rollup(v)) for cid, v in sorted(ids.items())} for ed, ids in controls.items()},
        "scores": breakdown(_Outline(hosts)),
    }


def _host_dicts(
    hosts: list[HostResult], shared: SharedEvidence, host_keys: Callable[[HostResult], str | None] | None
) -> list[dict[str, Any]]:
    return [host_to_dict(h, shared, host_keys(h) if host_keys else None) for h in hosts]


@cache
def schema(schema_id: str = SCHEMA_ID) -> dict[str, Any]:
    return json.loads(schema_path(SCHEMA_FILES[schema_id]).read_text(encoding="utf-8"))


def validate(document: dict[str, Any]) -> None:
    """Against the schema the document names (this version or an older one we still read), then
    what a schema cannot say: every ``shared`` reference names a record of ``shared_evidence``."""
    name = document.get("schema") if isinstance(document, dict) else None
    if name not in SCHEMA_FILES:
        raise jsonschema.ValidationError(f"schema {name!r} is none of {', '.join(sorted(SCHEMA_FILES))}")
    hosts = document.get("hosts")
    if isinstance(hosts, HostDicts):  # a run's hosts, made one at a time: each checked on its own
        jsonschema.Draft202012Validator(schema(name)).validate({**document, "hosts": []})
        host_schema = {k: v for k, v in schema(name).items() if k not in ("type", "required", "properties")}
        each = jsonschema.Draft202012Validator({**host_schema, "$ref": "#/$defs/host"})
        for host in hosts:
            each.validate(host)
    else:
        jsonschema.Draft202012Validator(schema(name)).validate(document)
    records = document.get("shared_evidence", {})
    for host in document["hosts"]:
        for result in host["results"]:
            for e in result["evidence"]:
                if "shared" in e and e["shared"] not in records:
                    raise jsonschema.ValidationError(
                        f"host {host['name']!r}, check {result['check']}: evidence refers to shared_evidence "
                        f"{e['shared']!r}, which is not there"
                    )


def validate_shape(document: dict[str, Any]) -> None:
    """Validate the document with its first host only: every host is built by the same code, and
    validating thousands of them would cost seconds per run. Tests validate whole documents."""
    validate({**document, "hosts": document["hosts"][:1]})


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Atomic write (a reader, or a crash, never sees half a file; a symlink at ``path`` is replaced,
    never written through): see ``auditor.output``."""
    from auditor.output import write_file

    write_file(path, lambda fh: dump(document, fh))


def dump(document: dict[str, Any], fh: IO[str]) -> None:
    """The document streamed one host per line.

    Each host is encoded on its own by json's C encoder (``indent`` would switch to the pure-Python
    one and build the whole text in memory): fast, small in memory, and still readable with grep.
    """
    for n, (key, value) in enumerate(document.items()):
        fh.write(("{" if n == 0 else ",\n ") + json.dumps(key) + ": ")
        if key == "hosts":
            fh.write("[")
            for i, host in enumerate(value):
                fh.write(("\n  " if i == 0 else ",\n  ") + json.dumps(host, ensure_ascii=False))
            fh.write("\n ]")
        else:
            fh.write(json.dumps(value, ensure_ascii=False))
    fh.write("}\n")
