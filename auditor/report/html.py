"""Self-contained HTML report: one file, inline CSS and SVG, a little inline script, no external URL.

Everything that comes from hosts (names, addresses, reasons, outputs, banners) is data:
jinja2 autoescapes it, no ``|safe`` is used on it, and the Content-Security-Policy allows
no load at all and only our own style and script, named by their SHA-256 hash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from auditor.report import i18n, svg, view, waivers_view
from auditor.scoring import WEIGHTS, outlines


def _static(name: str) -> str:
    return files("auditor.report").joinpath("static", name).read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def assets() -> dict[str, str]:
    """Our own CSS and script (trusted files of the package, never host data) and the policy naming their hashes."""
    css, js = _static("report.css"), _static("report.js")
    assert "</" not in css and "</" not in js, "an inline asset must not close its element"
    policy = (
        f"default-src 'none'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; "
        "img-src 'none'; connect-src 'none'; font-src 'none'; object-src 'none'; frame-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    return {"css": Markup(css), "js": Markup(js), "csp": policy}


# A failure shared by thousands of hosts lists the finding ids of the first ones; the register has them all.
REGISTER_HOSTS_SHOWN = 50
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def visible_controls(value: Any) -> Any:
    """Control bytes from hosts (NUL, ESC, …) become their visible symbols (␀, ␛): never raw in the page."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub(lambda m: "␡" if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), value)
    return value


class _CompiledTemplates(FileSystemBytecodeCache):
    """The report template compiled once per template version, not once per run (55 ms of CPU).

    jinja2's own per-user directory in the temp dir (mode 0700, owner checked). A cache that
    fails to read or write costs a compilation, never the report.
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable, truncated, foreign (marshal, pickle): compile instead
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no safe directory: compile every time
        return None


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("auditor.report", "templates"),
        bytecode_cache=_template_cache(),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        finalize=visible_controls,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = lambda v: i18n.number(v, lang)
    env.filters["score"] = lambda v: i18n.score_text(v, lang)
    env.filters["pct"] = lambda v: i18n.percent(v, lang)
    return env


def _titles(lang: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Plan-task and control titles from the catalog, in ``lang`` where the catalog has it."""
    try:
        from auditor.catalog import load_catalog

        catalog = load_catalog()
    except Exception:  # a stored run re-rendered without a usable catalog: ids only
        return {}, {}

    def pick(entry: dict[str, Any]) -> str:
        return str(entry.get("title_vi") or entry.get("title", "")) if lang == "vi" else str(entry.get("title", ""))

    tasks = {tid: pick(t) for tid, t in catalog.plan_tasks.items()}
    controls = {ed: {cid: pick(c) for cid, c in ids.items()} for ed, ids in catalog.controls.items()}
    return tasks, controls


def context(
    results: dict[str, Any],
    lang: str,
    previous: dict[str, Any] | None = None,
    trend: list[dict[str, Any]] | None = None,
    findings: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    _ = i18n.translator(lang)
    task_titles, control_titles = _titles(lang)
    hosts = view.host_rows(results)
    domains = i18n.domain_labels(_)
    all_statuses = (r["status"] for h in outlines(results) for r in h["results"])
    return {
        "r": results,
        "lang": lang,
        "assets": assets(),
        "svg": svg,
        "verdicts": view.VERDICTS,
        "verdict_label": i18n.verdict_labels(_),
        "severity_label": i18n.severity_labels(_),
        "host_status_label": i18n.host_status_labels(_),
        "formula": i18n.formula_text(_),
        "weights": WEIGHTS,
        "counts": view.verdict_counts(all_statuses),
        "reachable": sum(1 for h in hosts if h.host["status"] == "reachable"),
        "plan_tasks": view.plan_task_rows(results, task_titles),
        "domains": {ed: view.domain_rows(results, ed, domains[ed]) for ed in ("2013", "2022")},
        "controls": {ed: view.control_rows(results, ed, control_titles.get(ed, {})) for ed in ("2013", "2022")},
        "levels": view.level_rows(results),
        "checks": view.check_rows(results),
        "hosts": hosts,
        "worst": view.worst_hosts(hosts),
        "findings": view.findings(results),
        "org_rows": view.organisation_rows(results, lang),
        "waived": waivers_view.waived_rows(results),
        "waiver_lists": waivers_view.waiver_lists(results),
        "waiver_type_label": i18n.waiver_type_labels(_),
        "waiver_state_label": i18n.waiver_state_labels(_),
        "diff": view.diff(previous, results) if previous else None,
        "diff_rows": view.DIFF_ROWS,
        "trend": svg.trend_line(trend) if trend and len(trend) > 1 else None,
        "register": view.register_by_check(findings) if findings else None,
        "register_shown": REGISTER_HOSTS_SHOWN,
    }


def render_html(
    results: dict[str, Any],
    lang: str = i18n.DEFAULT_LANGUAGE,
    previous: dict[str, Any] | None = None,
    trend: list[dict[str, Any]] | None = None,
    findings: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> str:
    """``trend``: the score of the last runs of the same playbook and inventory, oldest first (the history);
    ``findings``: (host, check) -> its finding in the register (id, open_days), for the failure section."""
    return "".join(html_parts(results, lang, previous, trend, findings))


def html_parts(
    results: dict[str, Any],
    lang: str = i18n.DEFAULT_LANGUAGE,
    previous: dict[str, Any] | None = None,
    trend: list[dict[str, Any]] | None = None,
    findings: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> Iterator[str]:
    """The page of ``render_html`` in parts, to be written as they come: a run's page holds a row and the
    names of every host, and need not be in memory twice over as one text."""
    template = environment(i18n.check_language(lang)).get_template("report.html.j2")
    return template.generate(context(results, lang, previous, trend, findings))
