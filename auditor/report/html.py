"""Self-contained HTML report: inline CSS, no script, no external URL, everything from hosts escaped."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditor.report.i18n import translator

_ENV = Environment(
    loader=PackageLoader("auditor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_VERDICT_ORDER = ["fail", "error", "unknown", "pass", "not_applicable", "manual", "waived"]


def render_html(results: dict[str, Any], lang: str = "vi") -> str:
    findings = [
        (host, result)
        for host in results["hosts"]
        for result in host["results"]
        if result["status"] in ("fail", "error", "unknown")
    ]
    findings.sort(key=lambda hr: (_VERDICT_ORDER.index(hr[1]["status"]), hr[0]["name"], hr[1]["check"]))
    return _ENV.get_template("report.html.j2").render(
        r=results,
        lang=lang,
        t=translator(lang),
        findings=findings,
        verdicts=_VERDICT_ORDER,
    )
