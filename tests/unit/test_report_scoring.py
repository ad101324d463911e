"""The score recomputed by hand from results.json, at every level the report shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor import scoring
from auditor.model import Verdict
from auditor.results import validate

FIXTURE = Path(__file__).parent / "data" / "report" / "results.json"
W = {"critical": 10, "high": 5, "medium": 3, "low": 1}  # written out again on purpose: the README's table


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def by_hand(results: list[dict]) -> tuple[float | None, float | None]:
    scored = [r for r in results if r["status"] in ("pass", "fail", "error", "unknown")]
    total = sum(W[r["severity"]] for r in scored)
    passed = sum(W[r["severity"]] for r in scored if r["status"] == "pass")
    applicable = [r for r in results if r["status"] not in ("not_applicable", "waived")]
    decided = [r for r in applicable if r["status"] in ("pass", "fail")]
    value = round(100 * passed / total, 1) if total else None
    coverage = round(len(decided) / len(applicable), 3) if applicable else None
    return value, coverage


def test_fixture_is_a_valid_results_document(doc):
    validate(doc)
    statuses = {r["status"] for h in doc["hosts"] for r in h["results"]}
    assert statuses == set(Verdict)  # every verdict occurs, so every rule of the formula is exercised


def test_overall_and_host_scores_recomputed_by_hand(doc):
    everything = [r for h in doc["hosts"] for r in h["results"]]
    assert (doc["score"]["value"], doc["score"]["coverage"]) == by_hand(everything)
    for host in doc["hosts"]:
        assert (host["score"], host["coverage"]) == by_hand(host["results"]), host["name"]


def test_the_fixture_numbers_written_out(doc):
    """One host done on paper, so the hand computation above is itself checked."""
    web = next(h for h in doc["hosts"] if h["name"] == "web01")
    # pass critical 10 + pass high 5; fail high 5; error medium 3; unknown low 1; n/a, manual, waived left out
    assert web["score"] == round(100 * 15 / 24, 1) == 62.5
    # applicable = 8 − not_applicable − waived = 6; decided = pass, pass, fail = 3
    assert web["coverage"] == 0.5


def test_breakdowns_recomputed_by_hand(doc):
    scores = doc["scores"]
    everything = [(h, r) for h in doc["hosts"] for r in h["results"]]
    for task, s in scores["plan_tasks"].items():
        assert (s["value"], s["coverage"]) == by_hand([r for _, r in everything if task in r["plan"]])
    for edition in ("2013", "2022"):
        for cid, s in scores["controls"][edition].items():
            assert s["value"] == by_hand([r for _, r in everything if cid in r["iso27001"].get(edition, [])])[0]
        for domain, s in scores["domains"][edition].items():
            members = [
                r
                for _, r in everything
                if any(scoring.domain_of(c, edition) == domain for c in r["iso27001"].get(edition, []))
            ]
            assert s["value"] == by_hand(members)[0]
    for level, s in scores["levels"].items():
        members = [r for h, r in everything if str(h.get("level") or "unset") == level]
        assert s["value"] == by_hand(members)[0]
    assert scores["weights"] == W == doc["score"]["weights"]


def test_breakdown_is_what_scoring_computes(doc):
    assert doc["scores"] == json.loads(json.dumps(scoring.breakdown(doc["hosts"])))


@pytest.mark.parametrize(
    ("control", "edition", "domain"),
    [("A.12.2.1", "2013", "A.12"), ("A.9.4.2", "2013", "A.9"), ("8.7", "2022", "8"), ("5.10", "2022", "5")],
)
def test_domain_of(control, edition, domain):
    assert scoring.domain_of(control, edition) == domain


def test_natural_order_of_control_ids():
    assert sorted(["A.12.1", "A.9.2", "A.10.1"], key=scoring.natural_key) == ["A.9.2", "A.10.1", "A.12.1"]
    assert sorted(["8.15", "8.7", "5.1"], key=scoring.natural_key) == ["5.1", "8.7", "8.15"]


def test_levels_group_hosts_without_a_level_as_unset():
    hosts = [
        {"level": 3, "results": [{"status": "pass", "severity": "high"}]},
        {"level": None, "results": [{"status": "fail", "severity": "low"}]},
    ]
    levels = scoring.by_level(hosts)
    assert levels["3"].value == 100.0 and levels["unset"].value == 0.0
