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
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

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

    def __init__(self, hosts: list[HostResult]):
        uses = Counter(_key(e.command) for h in hosts for r in h.results for e in r.evidence if e.source is None)
        self._repeated = {k for k, n in uses.items() if n > 1 and len(str(k)) >= SHARE_MIN_CHARS}
        self._ids: dict[Any, str] = {}  # command key, or id() of a source Evidence -> record id
        self._sources: list[Evidence] = []  # kept alive while their id() is a key
        self.section: dict[str, dict[str, Any]] = {}

    def _ref(self, key: Any, record: Callable[[], dict[str, Any]]) -> str:
        ref = self._ids.get(key)
        if ref is None:
            ref = self._ids[key] = f"e{len(self._ids) + 1}"
            self.section[ref] = record()
        return ref

    def item(self, e: Evidence) -> dict[str, Any]:
        """The evidence item as results.json holds it: its command by reference when shared."""
        source = e.source
        if source is not None:
            if ("source", id(source)) not in self._ids:
                self._sources.append(source)
            ref = self._ref(("source", id(source)), source.to_dict)
        else:
            key = _key(e.command)
            if key not in self._repeated:
                return e.to_dict()
            ref = self._ids.get(key) or self._ref(key, lambda: {"command": e.command})
        d = e.to_dict()
        del d["command"]
        return {"shared": ref, **d}


def host_plan_tasks(host: HostResult) -> dict[str, str]:
    by_task: dict[str, list[Verdict]] = defaultdict(list)
    for result in host.results:
        for task in result.check.plan:
            by_task[task].append(result.status)
    return {task: str(rollup(verdicts)) for task, verdicts in sorted(by_task.items())}


def host_to_dict(host: HostResult, shared: SharedEvidence | None = None) -> dict[str, Any]:
    """One host's part of results.json; without ``shared`` every evidence item is complete (the
    journal, hosts.jsonl, keeps each line readable on its own)."""
    s = score((r.status, r.check.severity) for r in host.results)
    return {
        "name": host.host.name,
        "address": host.host.address,
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


def build(run: dict[str, Any], hosts: list[HostResult], complete: bool = True) -> dict[str, Any]:
    shared = SharedEvidence(hosts)
    host_dicts = [host_to_dict(h, shared) for h in hosts]
    plan_tasks: dict[str, Counter[str]] = defaultdict(Counter)
    for h in host_dicts:
        for task, verdict in h["plan_tasks"].items():
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
        "hosts": host_dicts,
        "plan_tasks": {t: dict(c) for t, c in sorted(plan_tasks.items())},
        "controls": {ed: {cid: str(rollup(v)) for cid, v in sorted(ids.items())} for ed, ids in controls.items()},
        "scores": breakdown(host_dicts),
    }


@cache
def schema(schema_id: str = SCHEMA_ID) -> dict[str, Any]:
    return json.loads(schema_path(SCHEMA_FILES[schema_id]).read_text(encoding="utf-8"))


def validate(document: dict[str, Any]) -> None:
    """Against the schema the document names (this version or an older one we still read), then
    what a schema cannot say: every ``shared`` reference names a record of ``shared_evidence``."""
    name = document.get("schema") if isinstance(document, dict) else None
    if name not in SCHEMA_FILES:
        raise jsonschema.ValidationError(f"schema {name!r} is none of {', '.join(sorted(SCHEMA_FILES))}")
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
