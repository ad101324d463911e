"""Evaluation tables: three-valued logic never turns an unreadable fact into a pass."""

from __future__ import annotations

import pytest

from auditor.evaluate import evaluate, params_used, render
from auditor.model import Evidence, Fact, FactSpec, Verdict

EV = Evidence(command="x", rc=0, output="", at="2026-11-23T00:00:00Z")


def fact(value=None, error=None) -> Fact:
    return Fact(FactSpec("command", {}), value, error, EV)


FACTS = {
    "ok": fact({"n": 5, "s": "No", "items": ["a", "b"], "empty": [], "flag": True, "none": None}),
    "broken": fact(error="permission denied"),
}
PASS, FAIL, ERROR, UNKNOWN = Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("expect", "status"),
    [
        ({"fact": "ok.n", "lte": 7}, PASS),
        ({"fact": "ok.n", "lte": "7"}, PASS),  # parameters from INI files arrive as text
        ({"fact": "ok.n", "gt": 7}, FAIL),
        ({"fact": "ok.s", "eq": "no"}, PASS),  # sshd and config values compare case-insensitively
        ({"fact": "ok.items", "contains": "b"}, PASS),
        ({"fact": "ok.items", "contains_any": ["x", "A"]}, PASS),
        ({"fact": "ok.items", "contains_any": "z"}, FAIL),
        ({"fact": "ok.empty", "empty": True}, PASS),
        ({"fact": "ok.items", "empty": True}, FAIL),
        ({"fact": "ok.flag", "eq": True}, PASS),
        ({"fact": "ok.s", "eq": True}, FAIL),  # a string is not a boolean
        ({"fact": "ok.s", "matches": "^N"}, PASS),
        ({"fact": "ok.s", "in": ["yes", "no"]}, PASS),
        # Could not tell:
        ({"fact": "broken.n", "lte": 7}, ERROR),
        ({"fact": "ok.missing", "eq": 1}, UNKNOWN),
        ({"fact": "ok.none", "lte": 7}, UNKNOWN),
        ({"fact": "ok.s", "lte": 7}, UNKNOWN),  # not a number
        ({"fact": "nofact.x", "eq": 1}, ERROR),
    ],
)
def test_leaf(expect, status):
    assert evaluate(expect, FACTS).status == status


P = {"fact": "ok.n", "eq": 5}
F = {"fact": "ok.n", "eq": 6}
E = {"fact": "broken.n", "eq": 5}
U = {"fact": "ok.missing", "eq": 5}


@pytest.mark.parametrize(
    ("expect", "status"),
    [
        ({"all": [P, P]}, PASS),
        ({"all": [P, F]}, FAIL),
        ({"all": [P, E]}, ERROR),  # never pass when a part could not be read
        ({"all": [P, U]}, UNKNOWN),
        ({"all": [F, E]}, FAIL),  # a definite "no" stays definite
        ({"any": [F, P]}, PASS),
        ({"any": [F, E]}, ERROR),  # never fail on a guess either
        ({"any": [F, U]}, UNKNOWN),
        ({"any": [F, F]}, FAIL),
        ({"not": P}, FAIL),
        ({"not": F}, PASS),
        ({"not": E}, ERROR),
        ({"all": [P, {"any": [F, {"not": F}]}]}, PASS),
    ],
)
def test_combinators(expect, status):
    assert evaluate(expect, FACTS).status == status


def test_reasons_say_what_was_seen_and_expected():
    outcome = evaluate({"fact": "ok.n", "lte": 3, "label": "age (days)"}, FACTS)
    assert outcome.reason == "age (days) = 5, expected ≤ 3"
    assert evaluate(E, FACTS).reason == "broken: permission denied"


def test_render_keeps_types_and_substitutes_inline():
    params = {"days": 7, "server": "10.0.0.5"}
    assert render({"lte": "{{ days }}"}, params) == {"lte": 7}
    assert render("to {{server}}:514", params) == "to 10.0.0.5:514"
    assert params_used({"a": ["{{ days }}", "x {{ server }}"]}) == {"days", "server"}


def test_an_undecided_leaf_says_why_through_its_detail():
    facts = {"apt": fact({"security_pending_count": None, "summary": "package lists are 12 days old (limit 7)"})}
    outcome = evaluate({"fact": "apt.security_pending_count", "eq": 0, "detail": "apt.summary"}, facts)
    assert outcome.status == UNKNOWN
    assert outcome.reason == "apt.security_pending_count has no value (package lists are 12 days old (limit 7))"
