"""Pure evaluation: facts + expectation -> verdict + reason. No I/O here.

An expectation is data::

    {all: [...]} | {any: [...]} | {not: {...}}
    {fact: "name.field", <op>: value}        op in OPERATORS

Logic is three-valued. A leaf whose fact could not be read is ``error``; a leaf
whose field is missing or of the wrong type is ``unknown``. ``all`` fails when any
part fails (a definite "no" stays definite), else is error/unknown when any part is,
else passes. ``any`` passes when any part passes, else error/unknown, else fails.
So an unreadable fact can never turn into ``pass``.

A check's verdict on a host (``judge``) is its ``when`` (a precondition: ``not_applicable`` when it
fails) and then its ``expect``, both with the host's parameters rendered in; a check whose
``applies.params_set``/``params_unset`` rule it out is not applicable before any fact is read
(``not_applicable_reason``), on the evidence of those parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.model import Check, Evidence, Fact, Verdict

COMBINATORS = ("all", "any", "not")


def _num(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("boolean is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


OPERATORS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "eq": ("=", lambda a, b: _norm(a) == _norm(b) if not isinstance(b, bool) else a is b),
    "ne": ("≠", lambda a, b: _norm(a) != _norm(b)),
    "lt": ("<", lambda a, b: _num(a) < _num(b)),
    "lte": ("≤", lambda a, b: _num(a) <= _num(b)),
    "gt": (">", lambda a, b: _num(a) > _num(b)),
    "gte": ("≥", lambda a, b: _num(a) >= _num(b)),
    "in": ("in", lambda a, b: _norm(a) in [_norm(x) for x in _as_list(b)]),
    "not_in": ("not in", lambda a, b: _norm(a) not in [_norm(x) for x in _as_list(b)]),
    "contains": (
        "contains",
        lambda a, b: _norm(b) in [_norm(x) for x in a] if isinstance(a, list) else str(b).lower() in str(a).lower(),
    ),
    "not_contains": ("does not contain", lambda a, b: not OPERATORS["contains"][1](a, b)),
    "contains_any": (
        "contains one of",
        lambda a, b: any(OPERATORS["contains"][1](a, x) for x in _as_list(b)),
    ),
    "matches": ("matches", lambda a, b: re.search(str(b), str(a)) is not None),
    "empty": ("is empty", lambda a, b: (len(a) == 0) is bool(b)),
}


@dataclass(frozen=True)
class Outcome:
    status: Verdict
    reason: str
    facts: frozenset[str] = frozenset()  # local fact names the outcome rests on


def leaf_operator(leaf: dict[str, Any]) -> str | None:
    ops = [k for k in leaf if k in OPERATORS]
    return ops[0] if len(ops) == 1 else None


def lookup(facts: dict[str, Fact], path: str) -> tuple[Any, str | None, Verdict | None]:
    """(value, problem, verdict-for-problem) for ``name.field.sub``."""
    name, _, rest = path.partition(".")
    fact = facts.get(name)
    if fact is None:
        return None, f"fact {name!r} was not collected", Verdict.ERROR
    if not fact.ok:
        return None, f"{name}: {fact.error}", Verdict.ERROR
    value: Any = fact.value
    for part in rest.split(".") if rest else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None, f"{path} is not available on this host", Verdict.UNKNOWN
    if value is None:
        return None, f"{path} has no value", Verdict.UNKNOWN
    return value, None, None


_ORDERED = ("lt", "lte", "gt", "gte")


def _range(value: Any) -> tuple[Any, Any] | None:
    """A value known only within bounds (an age read by a host clock that is off): (low, high)."""
    if isinstance(value, dict) and set(value) == {"at_least", "at_most"}:
        return value["at_least"], value["at_most"]
    return None


def _show(value: Any) -> str:
    bounds = _range(value)
    if bounds is not None:
        return f"between {_show(bounds[0])} and {_show(bounds[1])}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and not value:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    if isinstance(value, dict):
        return "{…}"
    return repr(value) if isinstance(value, str) else str(value)


def evaluate(expect: dict[str, Any], facts: dict[str, Fact]) -> Outcome:
    if "all" in expect:
        return _combine_all([evaluate(e, facts) for e in expect["all"]])
    if "any" in expect:
        return _combine_any([evaluate(e, facts) for e in expect["any"]])
    if "not" in expect:
        inner = evaluate(expect["not"], facts)
        flipped = {Verdict.PASS: Verdict.FAIL, Verdict.FAIL: Verdict.PASS}.get(inner.status, inner.status)
        return Outcome(flipped, f"not ({inner.reason})", inner.facts)
    return _leaf(expect, facts)


def _leaf(leaf: dict[str, Any], facts: dict[str, Fact]) -> Outcome:
    path = leaf["fact"]
    used = frozenset({path.split(".", 1)[0]})
    op = leaf_operator(leaf)
    assert op is not None, "catalog validation guarantees one operator"
    symbol, test = OPERATORS[op]
    expected = leaf[op]
    value, problem, verdict = lookup(facts, path)
    if problem is not None:
        return Outcome(verdict or Verdict.UNKNOWN, problem + _detail(leaf, facts), used)
    bounds = _range(value) if op in _ORDERED else None
    try:
        # A range passes only when all of it passes, fails only when all of it fails.
        ok = test(value, expected) if bounds is None else test(bounds[0], expected)
        if bounds is not None and test(bounds[1], expected) is not ok:
            text = f"{leaf.get('label') or path} = {_show(value)}: cannot tell whether {symbol} {_show(expected)}"
            return Outcome(Verdict.UNKNOWN, text + _detail(leaf, facts), used)
    except (TypeError, ValueError, re.error) as exc:
        return Outcome(Verdict.UNKNOWN, f"{path} = {_show(value)} cannot be compared ({exc})", used)
    label = leaf.get("label") or path
    if op == "empty":
        text = f"{label} is {'empty' if len(value) == 0 else _show(value)}"
    else:
        text = f"{label} = {_show(value)}" + ("" if ok else f", expected {symbol} {_show(expected)}")
    return Outcome(Verdict.PASS if ok else Verdict.FAIL, text + _detail(leaf, facts), used)


def _detail(leaf: dict[str, Any], facts: dict[str, Fact]) -> str:
    """The fact field named by ``detail`` (which file, which rule, why stale), as a suffix for the reason."""
    if "detail" not in leaf:
        return ""
    detail, _, _ = lookup(facts, leaf["detail"])
    if detail in (None, "", []):
        return ""
    return f" ({detail if isinstance(detail, str) else _show(detail)})"


def _join(outcomes: list[Outcome]) -> str:
    return "; ".join(o.reason for o in outcomes)


def _facts(outcomes: list[Outcome]) -> frozenset[str]:
    return frozenset().union(*(o.facts for o in outcomes)) if outcomes else frozenset()


def _undecided(outcomes: list[Outcome]) -> Outcome | None:
    errors = [o for o in outcomes if o.status == Verdict.ERROR]
    if errors:
        return Outcome(Verdict.ERROR, _join(errors), _facts(errors))
    unknown = [o for o in outcomes if o.status == Verdict.UNKNOWN]
    if unknown:
        return Outcome(Verdict.UNKNOWN, _join(unknown), _facts(unknown))
    return None


def _combine_all(outcomes: list[Outcome]) -> Outcome:
    failed = [o for o in outcomes if o.status == Verdict.FAIL]
    if failed:
        return Outcome(Verdict.FAIL, _join(failed), _facts(failed))
    return _undecided(outcomes) or Outcome(Verdict.PASS, _join(outcomes), _facts(outcomes))


def _combine_any(outcomes: list[Outcome]) -> Outcome:
    passed = [o for o in outcomes if o.status == Verdict.PASS]
    if passed:
        return Outcome(Verdict.PASS, _join(passed), _facts(passed))
    return _undecided(outcomes) or Outcome(Verdict.FAIL, _join(outcomes), _facts(outcomes))


def leaves(expect: dict[str, Any]) -> list[dict[str, Any]]:
    """Every leaf of an expectation (for validation and for knowing which facts it reads)."""
    if "all" in expect or "any" in expect:
        return [leaf for e in expect.get("all", expect.get("any", [])) for leaf in leaves(e)]
    if "not" in expect:
        return leaves(expect["not"])
    return [expect]


# --- parameters --------------------------------------------------------------------

_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_INLINE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def params_used(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_INLINE.findall(value))
    if isinstance(value, dict):
        return set().union(*(params_used(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(params_used(v) for v in value)) if value else set()
    return set()


def render(value: Any, params: dict[str, Any]) -> Any:
    """Substitute ``{{ name }}``. A whole-string reference keeps the parameter's type (7 stays 7)."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return params[whole.group(1)]
        return _INLINE.sub(lambda m: str(params[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: render(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, params) for v in value]
    return value


# --- a check's verdict on one host ------------------------------------------------------


def not_applicable_reason(check: Check, params: dict[str, Any]) -> str | None:
    """Why the check does not apply to a host with these parameters (params_set / params_unset), or None."""
    for name in check.applies.get("params_set", []):
        if params.get(name) in (None, "", []):
            return f"parameter {name} is not set"
    for name in check.applies.get("params_unset", []):
        if params.get(name) not in (None, "", []):
            return f"parameter {name} is set ({params[name]})"
    return None


def parameter_evidence(check: Check, params: dict[str, Any], at: str) -> Evidence:
    """What a parameter-decided verdict rests on: the parameters themselves (no command ran)."""
    names = [*check.applies.get("params_set", []), *check.applies.get("params_unset", [])]
    return Evidence(
        command="parameters: " + ", ".join(names),
        rc=None,
        output="\n".join(f"{n} = {params.get(n)!r}" for n in names),
        at=at,
    )


def judge(check: Check, facts: dict[str, Fact], params: dict[str, Any]) -> tuple[Verdict, str]:
    """Pure: the verdict of one check from its facts."""
    return judge_rules(rules_of(check, params), facts)


def rules_of(check: Check, params: dict[str, Any]) -> tuple[Any, Any]:
    """The check's ``when`` and ``expect`` with the host's parameters in them."""
    return (None if check.when is None else render(check.when, params)), render(check.expect, params)


def judge_rules(rules: tuple[Any, Any], facts: dict[str, Fact]) -> tuple[Verdict, str]:
    when, expect = rules
    if when is not None:
        pre = evaluate(when, facts)
        if pre.status == Verdict.FAIL:
            return Verdict.NOT_APPLICABLE, f"not applicable: {pre.reason}"
        if pre.status != Verdict.PASS:
            return pre.status, pre.reason
    outcome = evaluate(expect, facts)
    return outcome.status, outcome.reason
