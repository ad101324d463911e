"""Pure roll-ups and scores. Recomputable by hand from results.json.

Roll-up of several verdicts into one (a host's plan task, an ISO control):
``fail`` if any fails; else ``error``/``unknown`` if any could not be decided;
else ``pass`` if any passed; else ``not_applicable``/``manual``/``waived``.

Score: ``100 · Σw(pass) / Σw(pass + fail + error + unknown)`` with weights
critical 10, high 5, medium 3, low 1. ``not_applicable``, ``manual`` and ``waived``
are left out. ``coverage`` = share of applicable results (all but not_applicable
and waived) that have a definite verdict (pass or fail).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from auditor.model import Verdict

WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
FORMULA = (
    "score = 100 × Σw(pass) / Σw(pass + fail + error + unknown); weights critical 10, high 5, medium 3, low 1; "
    "not_applicable, manual and waived are left out; coverage = (pass + fail) / (all − not_applicable − waived)"
)
SCORED = {Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.UNKNOWN}
# verdict -> (applicable, decided, scored). Verdicts are StrEnum members, so "pass" finds Verdict.PASS:
# no Verdict("pass") per result: those Enum calls were 6 % of a 100-host run's profile samples.
_KIND = {
    v: (v not in (Verdict.NOT_APPLICABLE, Verdict.WAIVED), v in (Verdict.PASS, Verdict.FAIL), v in SCORED)
    for v in Verdict
}


def _unknown(verdicts: Iterable[Verdict | str]) -> ValueError:
    return ValueError(f"not a verdict: {', '.join(sorted(repr(v) for v in set(verdicts) - _KIND.keys()))}")


def rollup(verdicts: Iterable[Verdict | str]) -> Verdict:
    seen = set(verdicts)
    if not seen <= _KIND.keys():
        raise _unknown(seen)
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
        kind = _KIND.get(verdict)
        if kind is None:
            raise _unknown([verdict])
        applicable += kind[0]
        decided += kind[1]
        if kind[2]:
            weight = WEIGHTS[severity]
            total += weight
            if verdict == Verdict.PASS:
                passed += weight
    return Score(
        value=round(100 * passed / total, 1) if total else None,
        coverage=round(decided / applicable, 3) if applicable else None,
        passed_weight=passed,
        total_weight=total,
    )


# ---------------------------------------------------------------------------
# Roll-ups over a results.json document (dicts), as small pure functions.
# Each returns {key: Score}; every one is the same formula over a different
# grouping of the same (verdict, severity) pairs, so each can be recomputed by hand.

Result = dict[str, Any]
HostDict = dict[str, Any]
UNSET_LEVEL = "unset"


def weight(severity: str) -> int:
    return WEIGHTS[severity]


def score_results(results: Iterable[Result]) -> Score:
    return score((r["status"], r["severity"]) for r in results)


def score_groups(pairs: Iterable[tuple[str, Result]]) -> dict[str, Score]:
    """Score of each group of (key, result) pairs, keys sorted. Counted as they come: the results
    themselves (their evidence) are not kept."""
    groups: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for key, result in pairs:
        groups[key][(result["status"], result["severity"])] += 1
    return {key: score(groups[key].elements()) for key in sorted(groups, key=natural_key)}


def natural_key(text: str) -> tuple[Any, ...]:
    """'A.9.2' < 'A.12.1' and '8.7' < '8.15': numbers compared as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.\-]", text))


def _results(hosts: Iterable[HostDict]) -> Iterator[tuple[HostDict, Result]]:
    for host in hosts:
        for result in host["results"]:
            yield host, result


def by_plan_task(hosts: Iterable[HostDict]) -> dict[str, Score]:
    return score_groups((task, r) for _, r in _results(hosts) for task in r["plan"])


def by_control(hosts: Iterable[HostDict], edition: str) -> dict[str, Score]:
    return score_groups((cid, r) for _, r in _results(hosts) for cid in r["iso27001"].get(edition, []))


def domain_of(control_id: str, edition: str) -> str:
    """The Annex A domain of a control: 2013 'A.12.2.1' -> 'A.12'; 2022 '8.7' -> '8' (the theme)."""
    parts = control_id.split(".")
    return ".".join(parts[:2]) if edition == "2013" else parts[0]


def by_domain(hosts: Iterable[HostDict], edition: str) -> dict[str, Score]:
    """A result counts once per domain, however many of the domain's controls it maps to."""
    return score_groups(
        (domain, r)
        for _, r in _results(hosts)
        for domain in {domain_of(cid, edition) for cid in r["iso27001"].get(edition, [])}
    )


def by_level(hosts: Iterable[HostDict]) -> dict[str, Score]:
    """Per security level of Decree 85/2016 (1-5); hosts without a level under 'unset'."""
    return score_groups((str(h.get("level") or UNSET_LEVEL), r) for h, r in _results(hosts))


def by_check(hosts: Iterable[HostDict]) -> dict[str, Score]:
    return score_groups((r["check"], r) for _, r in _results(hosts))


def breakdown(hosts: Iterable[HostDict]) -> dict[str, Any]:
    """The `scores` object of results.json: every grouping above, as plain dicts (``hosts`` is read once
    for each grouping)."""

    def dump(scores: dict[str, Score]) -> dict[str, dict[str, Any]]:
        return {k: s.to_dict() for k, s in scores.items()}

    return {
        "weights": dict(WEIGHTS),
        "plan_tasks": dump(by_plan_task(hosts)),
        "levels": dump(by_level(hosts)),
        "controls": {ed: dump(by_control(hosts, ed)) for ed in ("2013", "2022")},
        "domains": {ed: dump(by_domain(hosts, ed)) for ed in ("2013", "2022")},
    }


def outlines(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """The hosts as tables, counts and exit codes read them: a run's document, whose hosts are made as
    they are read (``results.HostDicts``), gives them without reading their evidence back."""
    hosts = document["hosts"]
    cheap = getattr(hosts, "outlines", None)
    return cheap() if cheap is not None else hosts
