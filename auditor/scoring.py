"""Pure roll-ups and scores (design §6 and §8). Recomputable by hand from results.json.

Roll-up of several verdicts into one (a host's plan task, an ISO control):
``fail`` if any fails; else ``error``/``unknown`` if any could not be decided;
else ``pass`` if any passed; else ``not_applicable``/``manual``/``waived``.

Score: ``100 · Σw(pass) / Σw(pass + fail + error + unknown)`` with weights
critical 10, high 5, medium 3, low 1. ``not_applicable``, ``manual`` and ``waived``
are left out. ``coverage`` = share of applicable results (all but not_applicable
and waived) that have a definite verdict (pass or fail).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auditor.model import Verdict

WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
FORMULA = (
    "score = 100 × Σw(pass) / Σw(pass + fail + error + unknown); weights critical 10, high 5, medium 3, low 1; "
    "not_applicable, manual and waived are left out; coverage = (pass + fail) / (all − not_applicable − waived)"
)
SCORED = {Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.UNKNOWN}


def rollup(verdicts: Iterable[Verdict | str]) -> Verdict:
    seen = {Verdict(v) for v in verdicts}
    if Verdict.FAIL in seen:
        return Verdict.FAIL
    if Verdict.ERROR in seen:
        return Verdict.ERROR
    if Verdict.UNKNOWN in seen:
        return Verdict.UNKNOWN
    if Verdict.PASS in seen:
        return Verdict.PASS
    for quiet in (Verdict.NOT_APPLICABLE, Verdict.MANUAL, Verdict.WAIVED):
        if quiet in seen:
            return quiet
    return Verdict.NOT_APPLICABLE


@dataclass(frozen=True)
class Score:
    value: float | None  # None when nothing was scored
    coverage: float | None
    passed_weight: int
    total_weight: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "value": self.value,
            "coverage": self.coverage,
            "passed_weight": self.passed_weight,
            "total_weight": self.total_weight,
        }


def score(items: Iterable[tuple[Verdict | str, str]]) -> Score:
    """Score of (verdict, severity) pairs."""
    passed = total = decided = applicable = 0
    for verdict, severity in items:
        v = Verdict(verdict)
        if v not in (Verdict.NOT_APPLICABLE, Verdict.WAIVED):
            applicable += 1
        if v in (Verdict.PASS, Verdict.FAIL):
            decided += 1
        if v in SCORED:
            weight = WEIGHTS[severity]
            total += weight
            if v == Verdict.PASS:
                passed += weight
    return Score(
        value=round(100 * passed / total, 1) if total else None,
        coverage=round(decided / applicable, 3) if applicable else None,
        passed_weight=passed,
        total_weight=total,
    )
