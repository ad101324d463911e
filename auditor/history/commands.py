"""What the history commands print (``history list|show|export|prune``, ``diff``, ``trend``): data for
``--format json`` and the same data as text lines. The click commands only parse and print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.history import prune as prune_mod
from auditor.history.diff import diff_runs, last_two
from auditor.history.findings import report_findings
from auditor.history.recorder import report_history
from auditor.history.store import Store
from auditor.history.trend import trend
from auditor.history.url import chosen_url


def open_chosen(db: str | None) -> Store:
    return Store(chosen_url(db))


def _resolve(store: Store, ident: str) -> str:
    try:
        return store.resolve(ident)
    except LookupError as exc:
        raise InputError(f"{exc} (history {store.url})") from None


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def list_runs(store: Store) -> list[dict[str, Any]]:
    return store.runs()


def runs_text(runs: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['id']}\t{r['started']}\t{r['playbook']}\t{r['inventory']}\tscore {_num(r['score'])}\t"
        f"coverage {_num(r['coverage'])}\t{r['hosts']} hosts" + ("" if r["complete"] else "\tINCOMPLETE")
        for r in runs
    ]


def show(store: Store, ident: str) -> dict[str, Any]:
    run_id = _resolve(store, ident)
    run = store.run(run_id)
    assert run is not None
    hosts = store.hosts(run_id)
    return {**run, "host_results": [{"name": name, **hosts[name]} for name in sorted(hosts)]}


def show_text(shown: dict[str, Any]) -> list[str]:
    lines = runs_text([shown])
    for h in shown["host_results"]:
        tasks = " ".join(f"{t}={v}" for t, v in sorted(h["plan_tasks"].items()))
        lines.append(f"  {h['name']}\t{h['status']}\t{h['host_key'] or '-'}\t{tasks}")
    return lines


def export(store: Store, ident: str, output: Path, force: bool = False, lang: str = "vi") -> Path:
    """The run's results.json (equal as JSON to the one it wrote) and its report, in ``output``."""
    from auditor import results as results_mod
    from auditor.output import held
    from auditor.report.html import render_html

    run_id = _resolve(store, ident)
    try:
        document = store.document(run_id)
    except LookupError as exc:
        raise InputError(str(exc)) from None
    previous, points = report_history(store, run_id)
    findings = report_findings(store, run_id)
    with held(output, run_id, force) as folder:
        folder.write("results.json", lambda fh: results_mod.dump(document, fh))
        folder.write_text("report.html", render_html(document, lang, previous, trend=points, findings=findings))
    return output


def diff(store: Store, run_a: str | None, run_b: str | None) -> dict[str, Any]:
    if run_a is None:
        try:
            run_a, run_b = last_two(store)
        except LookupError as exc:
            raise InputError(f"{exc} (history {store.url})") from None
    elif run_b is None:
        newest = store.runs(limit=1)
        run_a, run_b = _resolve(store, run_a), newest[0]["id"] if newest else ""
    else:
        run_a, run_b = _resolve(store, run_a), _resolve(store, run_b)
    return diff_runs(store, run_a, run_b)


def diff_text(d: dict[str, Any]) -> list[str]:
    lines = [f"from {d['from']} to {d['to']}"]
    lines += [f"{c['host']}\t{c['check']}\t{c['before']} -> {c['after']}" for c in d["changes"]]
    lines += [f"{c['host']}\t{c['plan_task']}\t{c['before']} -> {c['after']}" for c in d["plan_task_changes"]]
    lines += [f"host added: {h}" for h in d["hosts_added"]]
    lines += [f"host removed: {h}" for h in d["hosts_removed"]]
    lines += [f"HOST KEY CHANGED: {k['host']}: {k['before']} -> {k['after']}" for k in d["host_keys_changed"]]
    if len(lines) == 1:
        lines.append("no change")
    return lines


def trend_points(
    store: Store, last: int, plan_task: str | None, host: str | None, check: str | None
) -> list[dict[str, Any]]:
    return trend(store, last, plan_task=plan_task, host=host, check=check)


def trend_text(points: list[dict[str, Any]]) -> list[str]:
    return [
        f"{p['id']}\t{p['started']}\tscore {_num(p['score'])}\tcoverage {_num(p['coverage'])}\t"
        + " ".join(f"{k}={v}" for k, v in p["counts"].items())
        for p in points
    ]


def prune(store: Store, keep_days: int | None, keep_last: int | None, dry_run: bool) -> list[dict[str, Any]]:
    if (keep_days is None) == (keep_last is None):
        raise InputError("history prune: give one of --keep-days N or --keep-last N")
    return prune_mod.prune(store, keep_days, keep_last, dry_run)


def prune_text(removed: list[dict[str, Any]], dry_run: bool) -> list[str]:
    verb = "would remove" if dry_run else "removed"
    return [f"{verb} {line}" for line in runs_text(removed)] or ["nothing to remove"]


def findings(
    store: Store, status: str | None, assignments: str | None, fmt: str, output: str | None, lang: str = "vi"
) -> tuple[str | bytes, list[dict[str, Any]], list[str]]:
    """The findings register (``auditor findings``): (rendered, register, ids of the findings file that name no
    finding). Written to ``output`` when given (a link there is replaced, never followed)."""
    from auditor.evidence import now
    from auditor.history.findings import assign, register_of
    from auditor.history.findings_file import load_assignments
    from auditor.output import write_file
    from auditor.report.findings import render

    assigned = load_assignments(Path(assignments)) if assignments else {}
    if fmt == "xlsx" and output is None:
        raise InputError("findings --format xlsx: give --output FILE")
    register = register_of(store, now(), lang=lang)
    unused = assign(register, assigned)
    if status is not None:
        register = [f for f in register if f["status"] == status]
    content = render(register, fmt)
    if output is not None:
        if isinstance(content, bytes):
            # The safe writer hands a text file; an XLSX goes to its byte stream underneath.
            write_file(Path(output), lambda fh: (fh.flush(), fh.buffer.write(content)))
        else:
            write_file(Path(output), lambda fh: fh.write(content))
    return content, register, unused
