"""``results.json`` (schema ``auditor.results/1``, design §6): built from host results, validated, written.

The JSON Schema lives in ``auditor/schemas/results.schema.json``; every file we
write is validated against it first, so a consumer can rely on the shape.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import IO, Any

import jsonschema

from auditor import __version__
from auditor.model import HostResult, Verdict
from auditor.paths import schema_path
from auditor.scoring import FORMULA, WEIGHTS, breakdown, rollup, score

SCHEMA_ID = "auditor.results/1"


def host_plan_tasks(host: HostResult) -> dict[str, str]:
    by_task: dict[str, list[Verdict]] = defaultdict(list)
    for result in host.results:
        for task in result.check.plan:
            by_task[task].append(result.status)
    return {task: str(rollup(verdicts)) for task, verdicts in sorted(by_task.items())}


def host_to_dict(host: HostResult) -> dict[str, Any]:
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
        "results": [r.to_dict() for r in host.results],
    }


def build(run: dict[str, Any], hosts: list[HostResult], complete: bool = True) -> dict[str, Any]:
    host_dicts = [host_to_dict(h) for h in hosts]
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
        "hosts": host_dicts,
        "plan_tasks": {t: dict(c) for t, c in sorted(plan_tasks.items())},
        "controls": {ed: {cid: str(rollup(v)) for cid, v in sorted(ids.items())} for ed, ids in controls.items()},
        "scores": breakdown(host_dicts),
    }


@cache
def schema() -> dict[str, Any]:
    return json.loads(schema_path("results.schema.json").read_text(encoding="utf-8"))


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema()).validate(document)


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
