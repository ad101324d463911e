"""Parameter types: every parameter a run uses is checked before any host is contacted.

A parameter's type comes from where it is used: a check that compares it as a number (``lte: "{{ p }}"``,
or a fact parameter whose schema takes a number), or the code that reads it directly (``KNOWN`` below).
A bad value (``log_marker_wait=abc``) is bad input, named with where it came from, never a traceback or a
verdict computed from a value nobody meant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from auditor.evaluate import leaf_operator
from auditor.facts import REGISTRY
from auditor.model import Check
from auditor.network.probes import REGISTRY as PROBES

# A type is a function: the problem with a value, or None when it is fine.
ParamType = Callable[[Any], str | None]


def number(value: Any, low: float | None = None, high: float | None = None, whole: bool = False) -> str | None:
    """A finite number; numeric text ("7") is accepted, as the checks compare it as a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"expected a number, got {value!r}"
    try:
        x = float(value)
    except ValueError:
        return f"expected a number, got {value!r}"
    if not math.isfinite(x):
        return f"expected a finite number, got {value!r}"
    if whole and x != int(x):
        return f"expected a whole number, got {value!r}"
    if (low is not None and x < low) or (high is not None and x > high):
        return f"must be between {low:g} and {high:g}, got {value!r}"
    return None


def _any_number(value: Any) -> str | None:
    return number(value)


def text(value: Any) -> str | None:
    """One word or name: text or a number, not a list, mapping or yes/no."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"expected text, got {value!r}"
    return None


def texts(value: Any) -> str | None:
    """Text, or a list of them (``log_server``: one server or several)."""
    if isinstance(value, list):
        bad = next((problem for item in value if (problem := text(item))), None)
        return None if bad is None else f"in the list: {bad}"
    return text(value)


# Parameters the code reads itself (network probes, documents), not through a check's template.
KNOWN: dict[str, ParamType] = {
    "log_marker_wait": lambda v: number(v, 1, 3600),  # seconds the log server is searched for the marker
    "scan_probe_wait_ms": lambda v: number(v, 1, 60_000, whole=True),  # as the network phase takes it
    "smtp_port": lambda v: number(v, 1, 65535, whole=True),
    "log_marker_paths": texts,
    "backup_paths": texts,
    "log_server": texts,
    "windows_allowed_admins": texts,
    "allowed_ports": text,
    "scan_ports": text,
    "portal_url": text,
    "smtp_hostname": text,
    "tls_ca_file": text,
    "file_server": text,
    "file_server_key": text,
    "evidence_dir": text,
    "waiver_warn_days": lambda v: number(v, 0, 3650, whole=True),  # expiring waivers are listed this early
    "waiver_max_days": lambda v: number(v, 1, 3650, whole=True),  # the longest a waiver may last
}

_COMPARISONS = {"lt", "lte", "gt", "gte"}
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")  # as evaluate.render reads a whole value


def _whole_template(value: Any) -> str | None:
    match = _WHOLE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _leaves(expectation: Any) -> Iterable[dict[str, Any]]:
    if isinstance(expectation, dict):
        if leaf_operator(expectation) is not None:
            yield expectation
        for value in expectation.values():
            yield from _leaves(value)
    elif isinstance(expectation, list):
        for item in expectation:
            yield from _leaves(item)


def _schema_takes_number(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return "number" in kinds or "integer" in kinds


def types_of(checks: Iterable[Check]) -> dict[str, ParamType]:
    """The type of every parameter these checks (and the code) read; parameters with none are free text."""
    found: dict[str, ParamType] = dict(KNOWN)
    for check in checks:
        for expectation in (check.expect, check.when):
            for leaf in _leaves(expectation):
                for op in _COMPARISONS & set(leaf):
                    name = _whole_template(leaf[op])
                    if name and name not in KNOWN:
                        found[name] = _any_number
        for spec in check.facts.values():
            fact = REGISTRY.get(spec.type) or PROBES.get(spec.type)
            schema = fact.params_schema if fact is not None else {}
            for key, value in (spec.params or {}).items():
                name = _whole_template(value)
                if name and name not in KNOWN and _schema_takes_number(schema.get("properties", {}).get(key, {})):
                    found[name] = _any_number
    return found


def problems(params: dict[str, Any], types: dict[str, ParamType]) -> Iterable[tuple[str, str]]:
    """(parameter, problem) for each set parameter whose value its type refuses; unset (null) ones are skipped."""
    for name, value in params.items():
        kind = types.get(name)
        if kind is not None and value is not None:
            problem = kind(value)
            if problem:
                yield name, problem
