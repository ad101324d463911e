"""Organisation-level verdicts: manual controls and plan tasks judged from attested documents.

Documents are not hosts, so their verdicts live in their own section of results.json
(``organisation``), next to ``hosts``. Each requirement (a plan task or an Annex A control that
lists ``manual: {documents: [...]}``) needs every document it lists. For one document, the
attestations that name it (or name the requirement directly) are looked at:

* ``pass``   a file is present, its SHA-256 matches the attestation, its date is not in the future,
             not older than the document's ``max_age_days``, and ``valid_until`` has not passed;
* ``fail``   the hash does not match (this wins: an edited document is a finding even when another
             attestation is fine), or every attestation is expired / too old / dated in the future;
* ``error``  a file cannot be read (never ``pass``);
* ``manual`` no attestation names it.

Reading and hashing files is ``hash_files``; everything else here is pure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.catalog import EDITIONS, Catalog
from auditor.catalog.attestations import Attestation, load_attestations
from auditor.model import Verdict


@dataclass(frozen=True)
class Requirement:
    kind: str  # "plan_task" | "control"
    ident: str  # "PT-ISMS" | "A.5.1.1" | "5.1"
    edition: str | None  # "2013" | "2022" for controls
    title: dict[str, str]
    documents: tuple[str, ...]
    max_age_days: int | None  # overrides the documents' own limits
    iso27001: dict[str, list[str]]
    plan: list[str]

    @property
    def key(self) -> str:
        return self.ident if self.kind == "plan_task" else f"iso27001:{self.edition}/{self.ident}"


@dataclass(frozen=True)
class FileState:
    sha256: str | None
    error: str | None = None


def requirements(catalog: Catalog) -> list[Requirement]:
    """Every plan task and control with manual evidence, plan tasks first, in catalog order."""
    plan_map = catalog.plan_map.tasks if catalog.plan_map else {}
    tasks_of: dict[tuple[str, str], list[str]] = {}
    for task, entry in plan_map.items():
        for edition, ids in entry["iso27001"].items():
            for cid in ids:
                tasks_of.setdefault((edition, cid), []).append(task)
    out: list[Requirement] = []
    for task, meta in catalog.plan_tasks.items():
        entry = plan_map.get(task, {})
        if entry.get("manual"):
            out.append(
                Requirement(
                    "plan_task",
                    task,
                    None,
                    {"en": meta.get("title", task), "vi": meta.get("title_vi", meta.get("title", task))},
                    tuple(entry["manual"]["documents"]),
                    entry["manual"].get("max_age_days"),
                    {ed: list(ids) for ed, ids in entry["iso27001"].items()},
                    [task],
                )
            )
    for edition in EDITIONS:
        for cid, control in catalog.controls[edition].items():
            if control.get("manual"):
                out.append(
                    Requirement(
                        "control",
                        cid,
                        edition,
                        {"en": control["title"], "vi": control.get("title_vi", control["title"])},
                        tuple(control["manual"]["documents"]),
                        control["manual"].get("max_age_days"),
                        {edition: [cid]},
                        tasks_of.get((edition, cid), []),
                    )
                )
    return out


def hash_files(evidence_dir: Path, attestations: list[Attestation]) -> dict[str, FileState]:
    """SHA-256 of every attested file (I/O). A file that cannot be read, or that resolves outside
    the evidence folder (a symbolic link), gets an error instead of a hash."""
    root = evidence_dir.resolve()
    out: dict[str, FileState] = {}
    for att in attestations:
        if att.file in out:
            continue
        path = evidence_dir / att.file
        try:
            if not path.resolve().is_relative_to(root):
                out[att.file] = FileState(None, "resolves outside the evidence folder")
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            out[att.file] = FileState(digest.hexdigest())
        except OSError as exc:
            out[att.file] = FileState(None, exc.strerror or str(exc))
    return out


def judge_attestation(att: Attestation, state: FileState, max_age_days: int, today: dt.date) -> tuple[Verdict, str]:
    """Pure: is this attestation valid evidence today?"""
    if state.error is not None or state.sha256 is None:
        return Verdict.ERROR, f"{att.file}: cannot be read ({state.error or 'no hash'})"
    if state.sha256 != att.sha256:
        return Verdict.FAIL, (
            f"{att.file}: SHA-256 does not match the attestation (attested {att.sha256[:12]}…, "
            f"file is {state.sha256[:12]}…): the document was changed after it was attested"
        )
    if att.date > today:
        return Verdict.FAIL, f"{att.file}: dated {att.date}, which is in the future"
    if today > att.valid_until:
        return Verdict.FAIL, f"{att.file}: expired on {att.valid_until}"
    age = (today - att.date).days
    if age > max_age_days:
        return Verdict.FAIL, f"{att.file}: dated {att.date}, {age} days old (at most {max_age_days} days)"
    return Verdict.PASS, (
        f"{att.file}: SHA-256 matches, dated {att.date}, valid until {att.valid_until}, attested by {att.attested_by}"
    )


def _one_document(verdicts: list[tuple[Verdict, str]]) -> tuple[Verdict, str]:
    """Several attestations for one document: any valid one suffices, but a hash mismatch is a finding."""
    tampered = [r for v, r in verdicts if v == Verdict.FAIL and "SHA-256 does not match" in r]
    if tampered:
        return Verdict.FAIL, "; ".join(tampered)
    for wanted in (Verdict.PASS, Verdict.ERROR, Verdict.FAIL):
        reasons = [r for v, r in verdicts if v == wanted]
        if reasons:
            return wanted, "; ".join(reasons)
    return Verdict.MANUAL, ""


def all_documents(statuses: list[Verdict]) -> Verdict:
    """Pure: a requirement needs every one of its documents. Nothing to judge is ``manual``, never ``pass``."""
    for worst in (Verdict.FAIL, Verdict.ERROR, Verdict.MANUAL):
        if worst in statuses:
            return worst
    return Verdict.PASS if statuses else Verdict.MANUAL


def judge_requirement(
    req: Requirement,
    attestations: list[Attestation],
    files: dict[str, FileState],
    catalog: Catalog,
    today: dt.date,
    where: str,
) -> dict[str, Any]:
    """Pure: the verdict of one requirement, with per-document detail and the attestations used."""
    documents = catalog.documents.documents if catalog.documents else {}
    roles = catalog.documents.roles if catalog.documents else {}
    per_doc: list[dict[str, Any]] = []
    used: dict[str, dict[str, Any]] = {}
    for name in req.documents:
        meta = documents.get(name, {})
        limit = req.max_age_days or int(meta.get("max_age_days", 365))
        role = roles.get(meta.get("attested_by", ""), {})
        verdicts = []
        for att in attestations:
            if name in att.documents or att.names(req.kind, req.ident, req.edition):
                state = files.get(att.file, FileState(None, "not hashed"))
                verdict, reason = judge_attestation(att, state, limit, today)
                verdicts.append((verdict, reason))
                used.setdefault(
                    att.where,
                    {
                        "file": att.file,
                        "sha256": att.sha256,
                        "sha256_found": files.get(att.file, FileState(None)).sha256,
                        "date": att.date.isoformat(),
                        "valid_until": att.valid_until.isoformat(),
                        "attested_by": att.attested_by,
                        "attestation": att.where,
                        "status": str(verdict),
                        "reason": reason,
                    },
                )
        status, reason = _one_document(verdicts)
        if status == Verdict.MANUAL:
            reason = (
                f"no attestation for {name} in {where} ({meta.get('title', {}).get('en', name)}; "
                f"at most {limit} days old; attested by {role.get('en', meta.get('attested_by', '?'))})"
            )
        per_doc.append(
            {
                "id": name,
                "title": meta.get("title", {}),
                "max_age_days": limit,
                "attested_by": role,
                "status": str(status),
                "reason": reason,
            }
        )
    overall = all_documents([Verdict(d["status"]) for d in per_doc])
    shown = [d for d in per_doc if Verdict(d["status"]) == overall] or per_doc
    result: dict[str, Any] = {
        "requirement": req.key,
        "kind": req.kind,
        "id": req.ident,
        "title": req.title,
        "status": str(overall),
        "reason": "; ".join(f"{d['id']}: {d['reason']}" for d in shown),
        "iso27001": req.iso27001,
        "plan": req.plan,
        "documents": per_doc,
        "evidence": list(used.values()),
    }
    if req.edition:
        result["edition"] = req.edition
    return result


def section(
    catalog: Catalog,
    evidence_dir: str | None,
    attestations: list[Attestation],
    files: dict[str, FileState],
    today: dt.date,
) -> dict[str, Any]:
    """Pure: the ``organisation`` section of results.json."""
    where = f"{evidence_dir}/attestations.yaml" if evidence_dir else "no evidence folder (--param evidence_dir=DIR)"
    results = [judge_requirement(r, attestations, files, catalog, today, where) for r in requirements(catalog)]
    controls: dict[str, dict[str, str]] = {ed: {} for ed in EDITIONS}
    plan_tasks: dict[str, str] = {}
    for r in results:
        if r["kind"] == "plan_task":
            plan_tasks[r["id"]] = r["status"]
        else:
            controls[r["edition"]][r["id"]] = r["status"]
    return {
        "evidence_dir": evidence_dir,
        "as_of": today.isoformat(),
        "attestations": len(attestations),
        "counts": dict(Counter(r["status"] for r in results)),
        "plan_tasks": plan_tasks,
        "controls": controls,
        "results": results,
    }


def status_of(document: dict[str, Any]) -> list[str]:
    """The organisation statuses of a results document ([] when it has no organisation section)."""
    return [r["status"] for r in (document.get("organisation") or {}).get("results", [])]


@dataclass
class Organisation:
    """What ``auditor run`` needs: validated early (bad input exits 2 before any host), judged at the end."""

    catalog: Catalog
    evidence_dir: Path | None
    attestations: list[Attestation]

    def section(self, today: dt.date | None = None) -> dict[str, Any]:
        today = today or dt.datetime.now(dt.UTC).date()
        files = hash_files(self.evidence_dir, self.attestations) if self.evidence_dir else {}
        shown = str(self.evidence_dir) if self.evidence_dir else None
        return section(self.catalog, shown, self.attestations, files, today)


def prepare(catalog: Catalog, params: dict[str, Any]) -> Organisation | None:
    """The organisation part of a run, or None when the run does not ask for it.

    A playbook asks for it by declaring the ``evidence_dir`` parameter (``agency`` does, with null: every
    document-based requirement is then ``manual``); ``--param evidence_dir=DIR`` gives the folder. A folder
    that does not exist, or has no valid attestations.yaml, is bad input (exit 2) before any host is audited.
    """
    if "evidence_dir" not in params:
        return None
    evidence_dir = params.get("evidence_dir")
    if evidence_dir in (None, ""):
        return Organisation(catalog, None, [])
    path = Path(str(evidence_dir)).expanduser()
    return Organisation(catalog, path, load_attestations(path, catalog))
