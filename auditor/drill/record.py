"""drill.json (schema ``auditor.drill/1``, auditor/schemas/drill.schema.json) and the files of a drill folder."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from auditor import __version__
from auditor.output import OutputError, OutputFolder
from auditor.paths import schema_path

SCHEMA = "auditor.drill/1"
SCHEMA_FILE = "drill.schema.json"


def worst(statuses: list[str]) -> str:
    """fail if any act failed, else error if any could not be decided, else pass (nothing run: error)."""
    if "fail" in statuses:
        return "fail"
    if "error" in statuses or not statuses:
        return "error"
    return "pass"


def document(
    *,
    drill_id: str,
    started: str,
    finished: str,
    inventory: str,
    officers: list[str],
    lessons: str,
    results: list[dict[str, Any]],
    timeline: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    interrupted: bool,
) -> dict[str, Any]:
    scenarios = []
    for entry in results:
        scenario, acts = entry["scenario"], entry["acts"]
        scenarios.append(
            {
                "name": scenario.name,
                "title": scenario.title,
                "title_vi": scenario.title_vi,
                "proves": scenario.proves,
                "proves_vi": scenario.proves_vi,
                "hosts": sorted({a["host"] for a in acts}),
                "outcome": worst([a["status"] for a in acts]),
                "acts": acts,
            }
        )
    all_acts = [a for s in scenarios for a in s["acts"]]
    return {
        "schema": SCHEMA,
        "id": drill_id,
        "generator": {"name": "auditor", "version": __version__},
        "started": started,
        "finished": finished,
        "inventory": inventory,
        "officers": officers,
        "hosts": sorted({a["host"] for a in all_acts}),
        "outcome": worst([s["outcome"] for s in scenarios]),
        "cleanup_ok": all(a["cleanup"]["ok"] for a in all_acts) and all(s["removed"] for s in sources),
        "interrupted": interrupted,
        "drill_sources": sources,
        "scenarios": scenarios,
        "timeline": sorted(timeline, key=lambda e: e["at"]),
        "lessons_learned": lessons,
    }


def schema() -> dict[str, Any]:
    with open(schema_path(SCHEMA_FILE), encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def validate(doc: dict[str, Any]) -> None:
    jsonschema.validate(doc, schema())


def write(folder: OutputFolder, doc: dict[str, Any], lang: str) -> None:
    from auditor.drill.minutes import render_minutes

    # Written first, checked after: a record that does not match its schema (a bug) is still kept to be read.
    folder.write_text("drill.json", json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    folder.write_text("drill.html", render_minutes(doc, lang))
    try:
        validate(doc)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise OutputError(f"drill.json does not match {SCHEMA_FILE} at {where or 'top'}: {exc.message}") from None
