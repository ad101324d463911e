"""The Statement of Applicability (ISO/IEC 27001 clause 6.1.3 d) of one run: one row for every Annex A
control of an edition (93 in 2022, 114 in 2013), derived from the run's results, the attested documents
in its ``organisation`` section, its waivers and the organisation's applicability file.

Implementation status of an applicable control, from what the run holds about it:

* each host × check result mapped to the control counts by its verdict; a waived result by the verdict
  it had (a waiver accepts a gap, it does not close it); not_applicable results do not count;
* each document the control requires counts as attested (pass), failed (fail), unreadable (error)
  or missing (no attestation; also when the run judged no documents).

``implemented``            something passed and nothing failed, was undecided or is missing;
``partially_implemented``  something passed, and something failed, was undecided or is missing;
``not_implemented``        nothing passed and something failed;
``not_assessed``           nothing passed or failed: no check ran and no document is attested
                           (a manual control without attestation), or every result was undecided;
``excluded``               the applicability file says the control does not apply (with why).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from auditor.catalog import Catalog
from auditor.catalog.applicability import Applicability, load_applicability
from auditor.errors import InputError
from auditor.yamlsource import read_source

STATUSES = ("implemented", "partially_implemented", "not_implemented", "not_assessed", "excluded")
FORMATS = ("html", "xlsx", "csv", "json")
SCHEMA_ID = "auditor.soa/1"
_PASS, _FAIL, _UNDECIDED = {"pass"}, {"fail"}, {"error", "unknown"}


def status_of(passed: int, failed: int, undecided: int, missing: int) -> str:
    """Pure: the implementation status of an applicable control from its counted evidence."""
    if passed + failed == 0:
        return "not_assessed"
    if failed + undecided + missing == 0:
        return "implemented"
    return "partially_implemented" if passed else "not_implemented"


def _verdict(result: dict[str, Any]) -> str:
    return str(result.get("waived_status") or "unknown") if result["status"] == "waived" else result["status"]


def _plan_tasks_of(catalog: Catalog, edition: str) -> dict[str, list[str]]:
    tasks = catalog.plan_map.tasks if catalog.plan_map else {}
    out: dict[str, list[str]] = {}
    for task, entry in tasks.items():
        for cid in entry["iso27001"].get(edition, []):
            out.setdefault(cid, []).append(task)
    return out


def _document_statuses(document: dict[str, Any], edition: str) -> dict[str, dict[str, str]]:
    """control id -> {document id: status} from the run's organisation section."""
    out: dict[str, dict[str, str]] = {}
    for r in (document.get("organisation") or {}).get("results", []):
        if r.get("kind") == "control" and r.get("edition") == edition:
            out[r["id"]] = {d["id"]: d["status"] for d in r.get("documents", [])}
    return out


def build(
    catalog: Catalog, document: dict[str, Any], edition: str, applicability: Applicability | None = None
) -> dict[str, Any]:
    """Pure: the SoA as a plain dict (the JSON format), rows in the Annex's order."""
    results: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for host in document["hosts"]:
        for r in host["results"]:
            for cid in r["iso27001"].get(edition, []):
                results.setdefault(cid, []).append((host["name"], r))
    documents = _document_statuses(document, edition)
    org = document.get("organisation") or {}
    run_date = str(document["run"].get("finished") or document["run"]["started"])[:10]
    plan_of = _plan_tasks_of(catalog, edition)
    decisions = applicability.decisions if applicability else {}
    rows = []
    for cid, control in catalog.controls[edition].items():
        decision = decisions.get(cid)
        applicable = decision.applicable if decision else True
        counted = [(h, r, _verdict(r)) for h, r in results.get(cid, []) if _verdict(r) != "not_applicable"]
        host_verdicts: dict[str, list[str]] = {}
        check_verdicts: dict[str, list[str]] = {}
        for h, r, v in counted:
            host_verdicts.setdefault(h, []).append(v)
            check_verdicts.setdefault(r["check"], []).append(v)
        required = list((control.get("manual") or {}).get("documents", []))
        doc_status = {name: documents.get(cid, {}).get(name, "manual") for name in required}
        verdicts = [v for _, _, v in counted] + list(doc_status.values())
        passed = sum(v in _PASS for v in verdicts)
        failed = sum(v in _FAIL for v in verdicts)
        undecided = sum(v in _UNDECIDED for v in verdicts)
        missing = len(verdicts) - passed - failed - undecided  # manual: a person's evidence is not there
        waivers = sorted({r["waiver"]["id"] for _, r, _ in counted if r["status"] == "waived" and r.get("waiver")})
        plan = sorted({*plan_of.get(cid, []), *(decision.plan if decision else ())})
        reasons = list(decision.reasons) if decision else []
        status = status_of(passed, failed, undecided, missing) if applicable else "excluded"
        assessed = [run_date] if counted else []
        if any(s != "manual" for s in doc_status.values()) and org.get("as_of"):
            assessed.append(str(org["as_of"]))
        rows.append(
            {
                "id": cid,
                "title": control["title"],
                "title_vi": control.get("title_vi", control["title"]),
                "applicable": applicable,
                "status": status,
                "hosts": {"pass": sum(all(v == "pass" for v in vs) for vs in host_verdicts.values()),
                          "total": len(host_verdicts)},
                "checks": {"pass": sum(all(v == "pass" for v in vs) for vs in check_verdicts.values()),
                           "total": len(check_verdicts), "ids": sorted(check_verdicts)},
                "documents": {"attested": sum(s == "pass" for s in doc_status.values()), "total": len(doc_status),
                              "ids": required},
                "waivers": {"active": len(waivers), "ids": waivers},
                "reason": _reason(applicable, reasons, plan, decision.exclusion if decision else "",
                                  decision.note if decision else ""),
                "reasons": reasons,
                "plan": plan,
                "exclusion": decision.exclusion if decision and not applicable else None,
                "note": decision.note if decision else "",
                "last_assessed": max(assessed) if assessed and applicable else None,
            }
        )  # fmt: skip
    header = dict(applicability.header) if applicability else {}
    return {
        "schema": SCHEMA_ID,
        "edition": edition,
        "version": header.get("version"),
        "owner": header.get("owner"),
        "approver": header.get("approver"),
        "date": header.get("date"),
        "title": header.get("title"),
        "organisation": header.get("organisation"),
        "applicability": applicability.source if applicability else None,
        "run": {k: document["run"].get(k) for k in ("id", "started", "finished", "playbook")},
        "counts": {s: sum(r["status"] == s for r in rows) for s in STATUSES},
        "controls": rows,
    }


def _reason(applicable: bool, reasons: list[str], plan: list[str], exclusion: str, note: str) -> str:
    """One line: why the control is in (risk, legal, contract, business; the plan tasks), or why it is out."""
    if not applicable:
        return exclusion
    parts = list(reasons) + ([f"plan: {', '.join(plan)}"] if plan else [])
    return "; ".join(parts + ([note] if note else []))


def counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["status"] for r in rows)


# --- from files to a written statement (what `auditor soa` does) -------------------------------------------------


def load_results(path: str) -> dict[str, Any]:
    """A results.json, validated against the schema it names; bad input naming the file otherwise."""
    from auditor import results as results_mod

    try:
        document = json.loads(read_source(Path(path), InputError))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not a JSON document: {exc}", file=path) from None
    try:
        results_mod.validate(document)
    except Exception as exc:  # jsonschema.ValidationError: its first line says what and where
        raise InputError(f"does not follow {results_mod.SCHEMA_ID}: {str(exc).splitlines()[0]}", file=path) from None
    return document


def results_of_run(run_id: str, db: str | None = None) -> dict[str, Any]:
    """The run's results.json as the history store puts it back together (``history export`` writes the same)."""
    from auditor.history.store import Store
    from auditor.history.url import chosen_url

    store = Store(chosen_url(db))
    try:
        resolved = store.resolve(run_id)
        return store.document(resolved)
    except LookupError as exc:
        raise InputError(f"--run {run_id}: {exc} (history {store.url})") from None
    finally:
        store.close()


def statement(
    catalog: Catalog,
    edition: str,
    results: str | None,
    run_id: str | None,
    applicability: str | None,
    db: str | None = None,
) -> dict[str, Any]:
    if (results is None) == (run_id is None):
        raise InputError("give one of --results FILE or --run RUN_ID")
    document = load_results(results) if results is not None else results_of_run(str(run_id), db)
    decided = load_applicability(Path(applicability), catalog, edition) if applicability else None
    statement = build(catalog, document, edition, decided)
    validate(statement)
    return statement


def validate(statement: dict[str, Any]) -> None:
    """Against the published schema (``auditor/schemas/soa.schema.json``): what we write is what we promise."""
    import jsonschema

    from auditor.paths import schema_path

    schema = json.loads(schema_path("soa.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(statement)


def write(
    catalog: Catalog,
    edition: str,
    results: str | None,
    run_id: str | None,
    applicability: str | None,
    fmt: str,
    lang: str,
    output: str,
    db: str | None = None,
) -> dict[str, Any]:
    """Build the statement and write it in ``fmt`` to ``output`` (a link there is replaced, never followed)."""
    from auditor.output import write_file
    from auditor.report.soa import render

    soa = statement(catalog, edition, results, run_id, applicability, db)
    content = render(soa, fmt, lang)
    if isinstance(content, bytes):
        # The safe writer hands a text file; an XLSX goes to its byte stream underneath.
        write_file(Path(output), lambda fh: (fh.flush(), fh.buffer.write(content)))
    else:
        write_file(Path(output), lambda fh: fh.write(content))
    return soa
