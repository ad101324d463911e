"""Interface strings of the reports: gettext message catalogs, Vietnamese by default, English.

The catalogs are ``locale/<lang>/LC_MESSAGES/messages.po``, read at run time with Babel
and compiled in memory into a stdlib ``gettext.GNUTranslations`` (no ``.mo`` file in git).
Message ids are the English strings; ``en`` has its own catalog so that both languages
come from one: ``tests/unit/test_report_i18n.py`` extracts every id from the templates
and from the renderers and fails when one is missing or untranslated in either catalog.

To add a string: use ``_("…")`` in a template or renderer, then add the entry to both
``.po`` files (``pybabel extract -F auditor/report/babel.cfg -o messages.pot auditor/report`` lists them).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# How message ids are found (also usable as a pybabel -F mapping: see babel.cfg).
METHOD_MAP = [("**/templates/**.j2", "jinja2.ext:babel_extract"), ("**.py", "python")]
EXTRACT_OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}

Gettext = Callable[[str], str]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} ({', '.join(LANGUAGES)})")
    return lang


def compile_po(path: Path, lang: str, domain: str) -> gettext.GNUTranslations:
    """A .po catalog compiled in memory (no .mo file to keep in git)."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The report's catalog of ``lang``."""
    return compile_po(po_path(check_language(lang)), lang, DOMAIN)


def translator(lang: str) -> Gettext:
    return translations(lang).gettext


def extract_messages() -> set[str]:
    """Every message id used by the report templates and renderers."""
    from babel.messages.extract import extract_from_dir  # the tests' need, not a run's: 15 ms of imports

    found = extract_from_dir(str(Path(__file__).resolve().parent), method_map=METHOD_MAP, options_map=EXTRACT_OPTIONS)
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        ids.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    return ids


# --- numbers, the way each language writes them (vi: 2.950 and 92,9; en: 2,950 and 92.9) ---


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def score_text(value: float | None, lang: str) -> str:
    return "–" if value is None else format_decimal(value, format="0.0", locale=lang)


def percent(value: float | None, lang: str) -> str:
    return "–" if value is None else format_percent(value, format="0%", locale=lang)


# --- labels for values found in results.json (the ids stay in the data; the words come from here) ---


def verdict_labels(_: Gettext) -> dict[str, str]:
    return {
        "pass": _("Pass"),
        "fail": _("Fail"),
        "error": _("Error"),
        "unknown": _("Unknown"),
        "not_applicable": _("Not applicable"),
        "manual": _("Manual evidence needed"),
        "waived": _("Waived"),
    }


def waiver_type_labels(_: Gettext) -> dict[str, str]:
    return {
        "risk_accepted": _("Risk accepted"),
        "compensating_control": _("Compensating control"),
        "false_positive": _("False positive"),
        "not_applicable": _("Not applicable"),
    }


def waiver_state_labels(_: Gettext) -> dict[str, str]:
    return {"active": _("Active"), "expiring": _("Expiring soon"), "expired": _("Expired")}


def severity_labels(_: Gettext) -> dict[str, str]:
    return {"critical": _("Critical"), "high": _("High"), "medium": _("Medium"), "low": _("Low")}


def host_status_labels(_: Gettext) -> dict[str, str]:
    return {
        "reachable": _("Reachable"),
        "unreachable": _("Unreachable"),
        "error": _("Host error"),
        "aborted": _("Aborted (run stopped)"),
    }


def domain_labels(_: Gettext) -> dict[str, dict[str, str]]:
    """Annex A domains: 2013 clauses A.5-A.18, 2022 themes 5-8."""
    return {
        "2013": {
            "A.5": _("Information security policies"),
            "A.6": _("Organization of information security"),
            "A.7": _("Human resource security"),
            "A.8": _("Asset management"),
            "A.9": _("Access control"),
            "A.10": _("Cryptography"),
            "A.11": _("Physical and environmental security"),
            "A.12": _("Operations security"),
            "A.13": _("Communications security"),
            "A.14": _("System acquisition, development and maintenance"),
            "A.15": _("Supplier relationships"),
            "A.16": _("Information security incident management"),
            "A.17": _("Information security aspects of business continuity management"),
            "A.18": _("Compliance"),
        },
        "2022": {
            "5": _("Organizational controls"),
            "6": _("People controls"),
            "7": _("Physical controls"),
            "8": _("Technological controls"),
        },
    }


def formula_text(_: Gettext) -> str:
    return _(
        "score = 100 × Σw(pass) / Σw(pass + fail + error + unknown), where w is the weight of the check's "
        "severity. Not applicable, manual and waived checks are left out of the score but shown. "
        "Coverage = (pass + fail) / (all − not applicable − waived): the share of applicable checks "
        "with a definite verdict."
    )
