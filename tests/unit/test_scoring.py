"""Roll-up and score, recomputed by hand."""

from __future__ import annotations

import pytest

from auditor.model import Verdict
from auditor.scoring import rollup, score


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["pass", "fail", "error"], "fail"),
        (["pass", "error", "unknown"], "error"),
        (["pass", "unknown"], "unknown"),
        (["pass", "not_applicable", "manual"], "pass"),
        (["not_applicable", "manual"], "not_applicable"),
        (["manual", "waived"], "manual"),
        (["waived"], "waived"),
    ],
)
def test_rollup(verdicts, expected):
    assert rollup(verdicts) == Verdict(expected)


def test_score_by_hand():
    items = [
        ("pass", "critical"),
        ("fail", "high"),
        ("error", "medium"),
        ("pass", "low"),
        ("not_applicable", "critical"),
        ("manual", "high"),
        ("waived", "high"),
    ]
    s = score(items)
    # Σw(pass) = 10 + 1 = 11; Σw(pass+fail+error+unknown) = 10 + 5 + 3 + 1 = 19
    assert s.value == round(100 * 11 / 19, 1) == 57.9
    # applicable = all but not_applicable and waived = 5; decided (pass/fail) = 3
    assert s.coverage == 0.6


def test_nothing_scored():
    assert score([("not_applicable", "high")]).value is None


def test_a_word_that_is_not_a_verdict_is_refused_not_counted():
    with pytest.raises(ValueError, match="'passed'"):
        rollup(["pass", "passed"])
    with pytest.raises(ValueError, match="'ok'"):
        score([("pass", "high"), ("ok", "high")])
    assert score([("pass", "high"), (Verdict.FAIL, "low")]).value == round(100 * 5 / 6, 1)
