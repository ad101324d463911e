"""``auditor controls evidence DIR``: the attestations of an evidence folder judged (hashes, dates) as a
run judges them, without auditing any host; the exit code says the worst verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor import organisation
from auditor.catalog import load_catalog
from auditor.run import EXIT_FAILURES, EXIT_INCOMPLETE, EXIT_OK


@dataclass
class AttestationsJudged:
    section: dict[str, Any]  # the organisation section a run's results.json would hold
    exit_code: int


def verdicts_exit_code(statuses: list[str]) -> int:
    """A requirement that could not be judged (error) is 3, one that fails 1, else 0."""
    return EXIT_INCOMPLETE if "error" in statuses else EXIT_FAILURES if "fail" in statuses else EXIT_OK


def judge_attestations(evidence_dir: str) -> AttestationsJudged:
    """InputError (exit 2) for a bad catalog, folder or attestations.yaml."""
    org = organisation.prepare(load_catalog(), {"evidence_dir": evidence_dir})
    assert org is not None  # the evidence_dir parameter is given: there is an organisation part
    section = org.section()
    return AttestationsJudged(section, verdicts_exit_code([r["status"] for r in section["results"]]))


def attestations_text(section: dict[str, Any]) -> list[str]:
    """What is not left to a person (manual), a line each, then the counts."""
    lines = [
        f"{r['status']:<7} {r['requirement']:<24} {r['reason']}" for r in section["results"] if r["status"] != "manual"
    ]
    return [*lines, ", ".join(f"{k}: {v}" for k, v in sorted(section["counts"].items()))]
