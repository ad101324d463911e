"""Load and validate check declarations (controls/iso27001/checks/*.yaml).

Structure is checked by a JSON Schema (unknown keys are rejected); meaning by
code: plan-task ids and ISO ids must exist, fact types must be registered and
their parameters valid, expectations must use known operators on declared facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.errors import CatalogError
from auditor.evaluate import COMBINATORS, OPERATORS, leaf_operator
from auditor.facts import REGISTRY
from auditor.model import Check, FactSpec, Severity
from auditor.network.probes import REGISTRY as PROBES
from auditor.platforms import PLATFORMS
from auditor.yamlsource import BILINGUAL_TEXT, YamlDoc, load_yaml, schema_errors

_IDS = {"type": "array", "items": {"type": "string"}, "minItems": 1}


def iso_ids_schema(min_items: int = 1) -> dict[str, Any]:
    """``{"2013": [...], "2022": [...]}``: Annex A ids of both editions."""
    ids = {"type": "array", "items": {"type": "string"}, "minItems": min_items}
    return {
        "type": "object",
        "properties": {"2013": ids, "2022": ids},
        "required": ["2013", "2022"],
        "additionalProperties": False,
    }


CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"},
        "title": BILINGUAL_TEXT,
        "description": BILINGUAL_TEXT,
        "iso27001": iso_ids_schema(),
        "plan": _IDS,
        "severity": {"enum": [s.value for s in Severity]},
        "applies": {
            "type": "object",
            "properties": {
                "os": {"enum": list(PLATFORMS)},
                "params_set": {"type": "array", "items": {"type": "string"}},
                "params_unset": {"type": "array", "items": {"type": "string"}},
                # Network checks run on the auditor (auditor/network/), for inventory hosts in these groups.
                "probe": {"const": "network"},
                "groups": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
            "if": {"required": ["probe"]},
            "then": {"not": {"required": ["os"]}},
            "else": {"required": ["os"], "not": {"required": ["groups"]}},
            "additionalProperties": False,
        },
        "facts": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": {"type": "object", "minProperties": 1, "maxProperties": 1},
        },
        "when": {"type": "object"},
        "expect": {"type": "object"},
        "remediation": BILINGUAL_TEXT,
    },
    "required": ["id", "title", "iso27001", "plan", "severity", "applies", "facts", "expect", "remediation"],
    "additionalProperties": False,
}

_FILE_SCHEMA = {"type": "array", "items": CHECK_SCHEMA}


def validate_iso_ids(
    doc: YamlDoc, path: tuple[Any, ...], mapping: dict[str, list[str]], iso_ids: dict[str, set[str]]
) -> None:
    """Every id in ``{"2013": [...], "2022": [...]}`` is a control of that edition's Annex A."""
    for edition, ids in mapping.items():
        for pos, cid in enumerate(ids):
            if cid not in iso_ids[edition]:
                raise doc.error(
                    CatalogError, (*path, edition, pos), f"{cid!r} is not a control of ISO/IEC 27001:{edition} Annex A"
                )


def validate_expectation(doc: YamlDoc, path: tuple[Any, ...], expect: Any, fact_names: set[str]) -> None:
    if not isinstance(expect, dict) or not expect:
        raise doc.error(CatalogError, path, "an expectation must be a mapping")
    combinators = [k for k in expect if k in COMBINATORS]
    if combinators:
        if len(expect) != 1:
            raise doc.error(CatalogError, path, f"{combinators[0]!r} must stand alone in its mapping")
        key = combinators[0]
        inner = expect[key]
        if key == "not":
            validate_expectation(doc, (*path, "not"), inner, fact_names)
            return
        if not isinstance(inner, list) or not inner:
            raise doc.error(CatalogError, (*path, key), f"{key!r} takes a non-empty list")
        for i, item in enumerate(inner):
            validate_expectation(doc, (*path, key, i), item, fact_names)
        return
    if "fact" not in expect:
        raise doc.error(CatalogError, path, "a leaf needs 'fact' and one operator, or use all/any/not")
    fact = expect["fact"]
    if not isinstance(fact, str) or fact.split(".", 1)[0] not in fact_names:
        raise doc.error(
            CatalogError,
            (*path, "fact"),
            f"{fact!r} does not name a declared fact (declared: {', '.join(sorted(fact_names))})",
        )
    for key in expect:
        if key not in OPERATORS and key not in ("fact", "label", "detail"):
            raise doc.error(
                CatalogError,
                (*path, key),
                f"unknown operator {key!r} (known: {', '.join(sorted(OPERATORS))})",
            )
    if "detail" in expect and str(expect["detail"]).split(".", 1)[0] not in fact_names:
        raise doc.error(CatalogError, (*path, "detail"), f"{expect['detail']!r} does not name a declared fact")
    if leaf_operator(expect) is None:
        raise doc.error(CatalogError, path, f"exactly one operator needed (known: {', '.join(sorted(OPERATORS))})")


def load_check_file(path: Path, display: str, plan_tasks: set[str], iso_ids: dict[str, set[str]]) -> list[Check]:
    doc = load_yaml(path, CatalogError, display)
    if doc.data is None:
        return []
    schema_errors(doc, _FILE_SCHEMA, doc.data, ())
    checks = []
    for index, raw in enumerate(doc.data):
        here: tuple[Any, ...] = (index,)
        for pos, task in enumerate(raw["plan"]):
            if task not in plan_tasks:
                raise doc.error(
                    CatalogError,
                    (*here, "plan", pos),
                    f"unknown plan task {task!r} (see controls/plan-tasks.yaml)",
                )
        validate_iso_ids(doc, (*here, "iso27001"), raw["iso27001"], iso_ids)
        facts: dict[str, FactSpec] = {}
        for name, decl in raw["facts"].items():
            ((type_name, params),) = decl.items()
            params = {} if params is None else params
            if raw["applies"].get("probe") == "network":
                if type_name not in PROBES:
                    raise doc.error(
                        CatalogError,
                        (*here, "facts", name, type_name),
                        f"unknown network fact type {type_name!r} (known: {', '.join(sorted(PROBES))})",
                    )
                schema_errors(doc, PROBES[type_name].params_schema, params, (*here, "facts", name, type_name))
                facts[name] = FactSpec(type_name, params)
                continue
            fact_type = REGISTRY.get(type_name)
            if fact_type is None:
                raise doc.error(
                    CatalogError,
                    (*here, "facts", name, type_name),
                    f"unknown fact type {type_name!r} (known: {', '.join(sorted(REGISTRY))})",
                )
            if raw["applies"]["os"] not in fact_type.os:
                raise doc.error(
                    CatalogError,
                    (*here, "facts", name, type_name),
                    f"fact type {type_name!r} does not support os {raw['applies']['os']!r}",
                )
            schema_errors(doc, fact_type.params_schema, params, (*here, "facts", name, type_name))
            facts[name] = FactSpec(type_name, params)
        validate_expectation(doc, (*here, "expect"), raw["expect"], set(facts))
        if "when" in raw:
            validate_expectation(doc, (*here, "when"), raw["when"], set(facts))
        checks.append(
            Check(
                id=raw["id"],
                title=raw["title"],
                iso27001=raw["iso27001"],
                plan=raw["plan"],
                severity=Severity(raw["severity"]),
                applies=raw["applies"],
                facts=facts,
                expect=raw["expect"],
                remediation=raw["remediation"],
                description=raw.get("description", {}),
                when=raw.get("when"),
                source=f"{display}:{doc.line_of((index,))}",
            )
        )
    return checks
