"""Pure views of the catalog for ``auditor controls list|show``: plain dicts, ready for JSON or text."""

from __future__ import annotations

from typing import Any

from auditor.catalog import EDITIONS, Catalog
from auditor.catalog.coverage import checks_by_control, checks_by_task
from auditor.errors import InputError


def _how(checks: list[str], manual: bool) -> str:
    if checks and manual:
        return "automated+manual"
    if checks:
        return "automated"
    return "manual" if manual else "UNMAPPED"


def _tcvn(catalog: Catalog, edition: str, cid: str) -> str | None:
    tcvn = catalog.annexes[edition].header.get("tcvn")
    return f"{tcvn['standard']} {cid}" if tcvn else None


def rows(catalog: Catalog, edition: str | None = None) -> list[dict[str, Any]]:
    by_control = checks_by_control(catalog)
    by_task = checks_by_task(catalog)
    out: list[dict[str, Any]] = []
    if edition in (None, "2005"):
        for cid, c in catalog.annexes["2005"].controls.items():
            out.append(
                {
                    "edition": "2005",
                    "id": cid,
                    "title": c["title"],
                    "how": "index only",
                    "checks": [],
                    "verified": c["verified"],
                    "tcvn": _tcvn(catalog, "2005", cid),
                }
            )
    for ed in EDITIONS:
        if edition not in (None, ed):
            continue
        for cid, c in catalog.controls[ed].items():
            checks = by_control[ed].get(cid, [])
            out.append(
                {
                    "edition": ed,
                    "id": cid,
                    "title": c["title"],
                    "title_vi": c.get("title_vi"),
                    "how": _how(checks, bool(c.get("manual"))),
                    "checks": checks,
                    "documents": (c.get("manual") or {}).get("documents", []),
                    "tcvn": _tcvn(catalog, ed, cid),
                }
            )
    if edition in (None, "plan"):
        tasks = catalog.plan_map.tasks if catalog.plan_map else {}
        for task, meta in catalog.plan_tasks.items():
            checks = by_task.get(task, [])
            manual = (tasks.get(task, {}).get("manual") or {}).get("documents", [])
            out.append(
                {
                    "edition": "plan",
                    "id": task,
                    "title": meta.get("title", ""),
                    "title_vi": meta.get("title_vi"),
                    "how": _how(checks, bool(manual)),
                    "checks": checks,
                    "documents": manual,
                }
            )
    return out


def _documents(catalog: Catalog, names: list[str], max_age_days: int | None = None) -> list[dict[str, Any]]:
    if catalog.documents is None:
        return []
    out = []
    for name in names:
        meta = catalog.documents.documents[name]
        out.append(
            {
                "id": name,
                "title": meta["title"],
                "max_age_days": max_age_days or meta["max_age_days"],
                "attested_by": catalog.documents.roles.get(meta["attested_by"], {}),
            }
        )
    return out


def _control(catalog: Catalog, edition: str, cid: str) -> dict[str, Any]:
    control = catalog.annexes[edition].controls[cid]
    entry: dict[str, Any] = {"kind": "control", "edition": edition, "id": cid, **control}
    entry["tcvn"] = _tcvn(catalog, edition, cid)
    entry["where"] = catalog.annexes[edition].where[cid]
    if edition == "2005":
        entry["note_2005"] = "index only (TCVN ISO/IEC 27001:2009); verdicts use the 2013 and 2022 numbering"
        return entry
    if edition == "2013":
        entry["title_vi_source"] = catalog.annexes["2013"].header.get("title_vi_source")
    else:
        entry["title_vi_source"] = catalog.annexes["2022"].header.get("title_vi_source")
    if catalog.crosswalk:
        entry["crosswalk"] = (
            {"2022": catalog.crosswalk.to_2022.get(cid, [])}
            if edition == "2013"
            else {"2013": catalog.crosswalk.to_2013.get(cid, []), "new_in_2022": cid in catalog.crosswalk.new_in_2022}
        )
    checks = checks_by_control(catalog)[edition].get(cid, [])
    entry["checks"] = [{"id": c, "title": catalog.checks[c].title, "source": catalog.checks[c].source} for c in checks]
    manual = control.get("manual") or {}
    entry["how"] = _how(checks, bool(manual))
    entry["manual"] = _documents(catalog, manual.get("documents", []), manual.get("max_age_days")) if manual else []
    tasks = catalog.plan_map.tasks if catalog.plan_map else {}
    entry["plan"] = [t for t, e in tasks.items() if cid in e["iso27001"].get(edition, [])]
    return entry


def show(catalog: Catalog, ident: str, edition: str | None = None) -> dict[str, Any]:
    """The full entry for a control, plan task, check or document id; InputError when the catalog has none."""
    if ident in catalog.plan_tasks:
        meta = catalog.plan_tasks[ident]
        mapped = (catalog.plan_map.tasks if catalog.plan_map else {}).get(ident, {})
        checks = checks_by_task(catalog).get(ident, [])
        manual = mapped.get("manual") or {}
        return {
            "kind": "plan_task",
            **meta,
            "how": _how(checks, bool(manual)),
            "iso27001": mapped.get("iso27001", {}),
            "checks": [{"id": c, "title": catalog.checks[c].title, "source": catalog.checks[c].source} for c in checks],
            "manual": _documents(catalog, manual.get("documents", []), manual.get("max_age_days")),
        }
    if ident in catalog.checks:
        check = catalog.checks[ident]
        return {
            "kind": "check",
            "id": check.id,
            "title": check.title,
            "severity": str(check.severity),
            "os": check.applies.get("os", "network probe"),
            "iso27001": check.iso27001,
            "plan": check.plan,
            "facts": {name: {spec.type: spec.params} for name, spec in check.facts.items()},
            "expect": check.expect,
            "remediation": check.remediation,
            "source": check.source,
        }
    if catalog.documents and ident in catalog.documents.documents:
        by_doc = [f"{r['edition']} {r['id']}" for r in rows(catalog) if ident in r.get("documents", [])]
        return {"kind": "document", **_documents(catalog, [ident])[0], "required_by": by_doc}
    editions = [edition] if edition else ["2013", "2022", "2005"]
    for ed in editions:
        if ed in catalog.annexes and ident in catalog.annexes[ed].controls:
            return _control(catalog, ed, ident)
    raise InputError(f"{ident!r} is no control, plan task, check or document of the catalog")


def _text(value: Any) -> str:
    if isinstance(value, dict) and "en" in value:
        return f"{value['en']} / {value.get('vi', '')}"
    return str(value)


def as_text(entry: dict[str, Any]) -> str:
    lines = []
    kind = entry["kind"]
    if kind == "control":
        lines.append(f"ISO/IEC 27001:{entry['edition']} {entry['id']}  {entry['title']}")
        if entry.get("title_vi"):
            lines.append(f"  vi: {entry['title_vi']}  ({entry.get('title_vi_source')})")
        if "verified" in entry:
            lines.append(f"  verified in the sources: {'yes' if entry['verified'] else 'NO - verify before use'}")
        for key in ("tcvn", "how", "where"):
            if entry.get(key):
                lines.append(f"  {key}: {entry[key]}")
        if "crosswalk" in entry:
            lines.append(f"  crosswalk: {entry['crosswalk']}")
    elif kind == "plan_task":
        lines.append(f"{entry['id']}  {entry.get('title', '')}\n  vi: {entry.get('title_vi', '')}")
        lines.append(f"  how: {entry['how']}   iso27001: {entry['iso27001']}")
        for src in entry.get("sources", []):
            lines.append(f"  source {src['doc']} {src['where']}: \u201c{src['quote']}\u201d")
    elif kind == "check":
        lines.append(f"{entry['id']}  {_text(entry['title'])}")
        for key in ("severity", "os", "iso27001", "plan", "source"):
            lines.append(f"  {key}: {entry[key]}")
        lines.append(f"  remediation: {_text(entry['remediation'])}")
    else:
        lines.append(f"{entry['id']}  {_text(entry['title'])}")
        lines.append(f"  at most {entry['max_age_days']} days old; attested by {_text(entry['attested_by'])}")
        lines.append(f"  required by: {', '.join(entry['required_by'])}")
    for check in entry.get("checks", []) if kind != "check" else []:
        lines.append(f"  check {check['id']}: {_text(check['title'])}  ({check['source']})")
    for doc in entry.get("manual", []) if kind != "check" else []:
        lines.append(
            f"  manual: {doc['id']} {_text(doc['title'])}; at most {doc['max_age_days']} days old; "
            f"attested by {_text(doc['attested_by'])}"
        )
    if kind == "control" and entry.get("plan"):
        lines.append(f"  plan tasks: {', '.join(entry['plan'])}")
    return "\n".join(lines)
