"""drill.html: the drill minutes (biên bản diễn tập), Vietnamese or English, styled and locked down like
the report (its CSS, its Content-Security-Policy, autoescaping, control bytes made visible).

Interface strings come from gettext catalogs of their own (locale/<lang>/LC_MESSAGES/drill.po),
compiled in memory with Babel as the report's are; ``tests/unit/test_drill_minutes.py`` fails when
a string of the template is missing from either catalog.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditor.report.html import assets, visible_controls
from auditor.report.i18n import check_language, compile_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "drill"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    return compile_po(po_path(check_language(lang)), lang, DOMAIN)


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("auditor.drill", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        finalize=visible_controls,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def render_minutes(doc: dict[str, Any], lang: str = "vi") -> str:
    _ = translations(check_language(lang)).gettext
    labels = {"pass": _("Pass"), "fail": _("Fail"), "error": _("Error")}
    phases = {"act": _("Act"), "observe": _("Observation"), "cleanup": _("Cleanup")}
    return (
        environment(lang)
        .get_template("drill.html.j2")
        .render(d=doc, lang=lang, assets=assets(), label=labels, phase=phases)
    )
