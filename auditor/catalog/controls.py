"""Annex A indexes (2005, 2013, 2022) and the 2013 <-> 2022 crosswalk, validated as they load.

Structure by JSON Schema (unknown keys rejected), meaning by code: ids have their
edition's shape and occur once, the declared count matches, every document a
control asks for exists, and the crosswalk's two directions are each other's inverse.
Errors name file, line and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import CatalogError
from auditor.yamlsource import BILINGUAL_TEXT, YamlDoc, load_yaml, schema_errors

ID_PATTERNS = {
    "2005": re.compile(r"^A\.(5|6|7|8|9|10|11|12|13|14|15)\.\d+\.\d+$"),
    "2013": re.compile(r"^A\.(5|6|7|8|9|10|11|12|13|14|15|16|17|18)\.\d+\.\d+$"),
    "2022": re.compile(r"^[5-8]\.\d+$"),
}

_STR = {"type": "string", "minLength": 1}

MANUAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "documents": {"type": "array", "items": _STR, "minItems": 1, "uniqueItems": True},
        "max_age_days": {"type": "integer", "minimum": 1},
        "note": BILINGUAL_TEXT,
    },
    "required": ["documents"],
    "additionalProperties": False,
}

_TCVN = {
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "properties": {"standard": _STR, "ids": _STR},
            "required": ["standard", "ids"],
            "additionalProperties": False,
        },
    ]
}

_CONTROL = {
    "type": "object",
    "properties": {
        "id": _STR,
        "title": _STR,
        "title_vi": _STR,
        "title_vi_note": _STR,
        "new_in_2022": {"type": "boolean"},
        "description": BILINGUAL_TEXT,
        "manual": MANUAL_SCHEMA,
    },
    "required": ["id", "title", "title_vi"],
    "additionalProperties": False,
}

_CONTROL_2005 = {
    "type": "object",
    "properties": {"id": _STR, "title": _STR, "verified": {"type": "boolean"}, "source": _STR, "note": _STR},
    "required": ["id", "title", "verified", "source"],
    "additionalProperties": False,
}


def _annex_schema(control: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "edition": _STR,
            "tcvn": _TCVN,
            "national_adoption": _STR,
            "title_vi_source": _STR,
            "source": _STR,
            "sources": {"type": "object", "additionalProperties": _STR},
            "counts": counts,
            "controls": {"type": "array", "items": control, "minItems": 1},
        },
        "required": ["edition", "tcvn", "source", "counts", "controls"],
        "additionalProperties": False,
    }


ANNEX_SCHEMA = _annex_schema(
    _CONTROL,
    {
        "type": "object",
        "properties": {"controls": {"type": "integer", "minimum": 1}},
        "required": ["controls"],
        "additionalProperties": False,
    },
)
ANNEX_2005_SCHEMA = _annex_schema(
    _CONTROL_2005,
    {
        "type": "object",
        "properties": {n: {"type": "integer", "minimum": 0} for n in ("controls", "verified", "unverified")},
        "required": ["controls", "verified", "unverified"],
        "additionalProperties": False,
    },
)

_MAP = {"type": "object", "additionalProperties": {"type": "array", "items": _STR, "uniqueItems": True}}
CROSSWALK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": _STR,
        "source": _STR,
        "new_in_2022": {"type": "array", "items": _STR, "uniqueItems": True},
        "map_2013_to_2022": _MAP,
        "map_2022_to_2013": _MAP,
    },
    "required": ["source", "new_in_2022", "map_2013_to_2022", "map_2022_to_2013"],
    "additionalProperties": False,
}


@dataclass
class Annex:
    """One edition's index: header facts, and the controls by id (in the file's order)."""

    edition: str
    header: dict[str, Any]
    controls: dict[str, dict[str, Any]]
    where: dict[str, str] = field(default_factory=dict)  # control id -> "file:line"


@dataclass
class Crosswalk:
    to_2022: dict[str, list[str]]  # 2013 id -> 2022 ids
    to_2013: dict[str, list[str]]  # 2022 id -> 2013 ids
    new_in_2022: list[str]
    source: str


def load_annex(path: Path, display: str, edition: str, documents: set[str]) -> Annex:
    doc = load_yaml(path, CatalogError, display)
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogError, (), "an Annex A index is a mapping with 'controls:'")
    schema_errors(doc, ANNEX_2005_SCHEMA if edition == "2005" else ANNEX_SCHEMA, doc.data)
    controls: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for index, raw in enumerate(doc.data["controls"]):
        cid = raw["id"]
        if not ID_PATTERNS[edition].match(cid):
            raise doc.error(CatalogError, ("controls", index, "id"), f"{cid!r} is not an ISO/IEC 27001:{edition} id")
        if cid in controls:
            raise doc.error(CatalogError, ("controls", index, "id"), f"control {cid!r} is listed twice")
        if edition != "2022" and "new_in_2022" in raw:
            raise doc.error(CatalogError, ("controls", index, "new_in_2022"), "only 2022 controls can be new in 2022")
        for pos, name in enumerate(raw.get("manual", {}).get("documents", [])):
            if name not in documents:
                raise doc.error(
                    CatalogError,
                    ("controls", index, "manual", "documents", pos),
                    f"unknown document {name!r} (see controls/documents.yaml)",
                )
        controls[cid] = raw
        where[cid] = f"{display}:{doc.line_of(('controls', index))}"
    counts = doc.data["counts"]
    if counts["controls"] != len(controls):
        raise doc.error(
            CatalogError, ("counts", "controls"), f"says {counts['controls']} controls, the file lists {len(controls)}"
        )
    if edition == "2005":
        unverified = sum(1 for c in controls.values() if not c["verified"])
        if counts["unverified"] != unverified or counts["verified"] != len(controls) - unverified:
            raise doc.error(CatalogError, ("counts",), f"counts disagree with the entries ({unverified} unverified)")
    header = {k: v for k, v in doc.data.items() if k != "controls"}
    return Annex(edition, header, controls, where)


def load_crosswalk(path: Path, display: str, ids_2013: set[str], annex_2022: Annex) -> Crosswalk:
    doc = load_yaml(path, CatalogError, display)
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogError, (), "the crosswalk is a mapping")
    schema_errors(doc, CROSSWALK_SCHEMA, doc.data)
    data = doc.data
    ids_2022 = set(annex_2022.controls)
    _check_map(doc, "map_2013_to_2022", data["map_2013_to_2022"], ids_2013, ids_2022, "2013", "2022")
    _check_map(doc, "map_2022_to_2013", data["map_2022_to_2013"], ids_2022, ids_2013, "2022", "2013")
    new = data["new_in_2022"]
    for pos, cid in enumerate(new):
        if cid not in ids_2022:
            raise doc.error(CatalogError, ("new_in_2022", pos), f"{cid!r} is not a control of ISO/IEC 27001:2022")
        if data["map_2022_to_2013"][cid]:
            raise doc.error(CatalogError, ("map_2022_to_2013", cid), f"{cid} is new in 2022 but has 2013 predecessors")
    for cid, olds in data["map_2022_to_2013"].items():
        if not olds and cid not in new:
            raise doc.error(
                CatalogError, ("map_2022_to_2013", cid), f"{cid} has no 2013 predecessor but is not in new_in_2022"
            )
        flagged = bool(annex_2022.controls[cid].get("new_in_2022"))
        if flagged != (cid in new):
            raise doc.error(
                CatalogError,
                ("new_in_2022",),
                f"{cid}: annex-a-2022.yaml says new_in_2022={str(flagged).lower()}, the crosswalk disagrees",
            )
    for old, news in data["map_2013_to_2022"].items():
        if not news:
            raise doc.error(CatalogError, ("map_2013_to_2022", old), f"{old} maps to no 2022 control")
        for pos, cid in enumerate(news):
            if old not in data["map_2022_to_2013"][cid]:
                raise doc.error(
                    CatalogError,
                    ("map_2013_to_2022", old, pos),
                    f"{old} -> {cid}, but map_2022_to_2013 does not list {old} under {cid}",
                )
    for cid, olds in data["map_2022_to_2013"].items():
        for pos, old in enumerate(olds):
            if cid not in data["map_2013_to_2022"][old]:
                raise doc.error(
                    CatalogError,
                    ("map_2022_to_2013", cid, pos),
                    f"{cid} <- {old}, but map_2013_to_2022 does not list {cid} under {old}",
                )
    return Crosswalk(
        to_2022={k: list(v) for k, v in data["map_2013_to_2022"].items()},
        to_2013={k: list(v) for k, v in data["map_2022_to_2013"].items()},
        new_in_2022=list(new),
        source=data["source"],
    )


def _check_map(
    doc: YamlDoc, key: str, mapping: dict[str, list[str]], keys: set[str], values: set[str], ed_k: str, ed_v: str
) -> None:
    for cid in mapping:
        if cid not in keys:
            raise doc.error(CatalogError, (key, cid), f"{cid!r} is not a control of ISO/IEC 27001:{ed_k}")
    missing = sorted(keys - set(mapping))
    if missing:
        more = " …" if len(missing) > 5 else ""
        raise doc.error(CatalogError, (key,), f"no entry for {', '.join(missing[:5])}{more}")
    for cid, targets in mapping.items():
        for pos, target in enumerate(targets):
            if target not in values:
                raise doc.error(CatalogError, (key, cid, pos), f"{target!r} is not a control of ISO/IEC 27001:{ed_v}")
