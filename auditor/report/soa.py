"""The Statement of Applicability as a file: JSON (the data), CSV and XLSX (for spreadsheets), HTML
(in the report's style, under the same Content-Security-Policy, every value escaped).

Words (column heads, statuses, yes/no) come from the report's gettext catalogs, in Vietnamese or English;
the JSON keeps the ids. A cell a spreadsheet would run as a formula is kept as text: in CSV with a
leading apostrophe (as the results CSV), in XLSX typed as a string.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from auditor.report import i18n
from auditor.report.csvfmt import BOM, neutralize

Soa = dict[str, Any]


def status_labels(_: i18n.Gettext) -> dict[str, str]:
    return {
        "implemented": _("Implemented"),
        "partially_implemented": _("Partially implemented"),
        "not_implemented": _("Not implemented"),
        "not_assessed": _("Not assessed"),
        "excluded": _("Excluded"),
    }


def reason_labels(_: i18n.Gettext) -> dict[str, str]:
    return {"risk": _("Risk"), "legal": _("Legal"), "contract": _("Contract"), "business": _("Business requirement")}


def reason_text(control: dict[str, Any], _: i18n.Gettext) -> str:
    """Why the control is in (the file's reasons, the plan tasks that require it, its note), or why it is out."""
    if not control["applicable"]:
        return str(control.get("exclusion") or control["reason"])
    labels = reason_labels(_)
    parts = [labels.get(r, r) for r in control.get("reasons", [])]
    if control.get("plan"):
        parts.append(_("plan tasks: %(ids)s") % {"ids": ", ".join(control["plan"])})
    return "; ".join(parts + ([control["note"]] if control.get("note") else []))


def columns(_: i18n.Gettext) -> list[str]:
    return [
        _("Control"), _("Title"), _("Applicable"), _("Reason for inclusion or exclusion"), _("Status"),
        _("Hosts passing"), _("Hosts"), _("Checks passing"), _("Checks run"), _("Documents attested"),
        _("Documents required"), _("Active waivers"), _("Waiver ids"), _("Last assessed"),
    ]  # fmt: skip


def table(soa: Soa, lang: str) -> list[list[Any]]:
    """The rows every tabular format shares: one per control, in the Annex's order."""
    _ = i18n.translator(lang)
    labels = status_labels(_)
    yes, no = _("yes"), _("no")
    return [
        [
            c["id"],
            c["title_vi"] if lang == "vi" else c["title"],
            yes if c["applicable"] else no,
            reason_text(c, _),
            labels[c["status"]],
            c["hosts"]["pass"],
            c["hosts"]["total"],
            c["checks"]["pass"],
            c["checks"]["total"],
            c["documents"]["attested"],
            c["documents"]["total"],
            c["waivers"]["active"],
            " ".join(c["waivers"]["ids"]),
            c["last_assessed"] or "",
        ]
        for c in soa["controls"]
    ]


def header_rows(soa: Soa, lang: str) -> list[tuple[str, str]]:
    _ = i18n.translator(lang)
    run = soa["run"]
    return [
        (_("Statement of Applicability"), f"ISO/IEC 27001:{soa['edition']} Annex A"),
        (_("Version"), soa.get("version") or "–"),
        (_("Owner"), soa.get("owner") or "–"),
        (_("Approved by"), soa.get("approver") or "–"),
        (_("Date"), soa.get("date") or "–"),
        (_("Run"), f"{run.get('id')} ({run.get('finished') or run.get('started')})"),
        (_("Applicability file"), soa.get("applicability") or _("none: every control applicable")),
    ]


def render_json(soa: Soa) -> str:
    return json.dumps(soa, ensure_ascii=False, indent=1) + "\n"


def render_csv(soa: Soa, lang: str) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(i18n.translator(lang)))
    writer.writerows([neutralize(v) if isinstance(v, str) else v for v in row] for row in table(soa, lang))
    return buffer.getvalue()


def render_xlsx(soa: Soa, lang: str) -> bytes:
    try:  # the xlsx extra: only this format needs it
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
    except ImportError:
        from auditor.output import OutputError

        raise OutputError(
            "XLSX needs openpyxl: pip install 'auditor[xlsx]' (or choose --format html, csv or json)"
        ) from None

    _ = i18n.translator(lang)
    book = Workbook()
    sheet = book.active
    sheet.title = "SoA"
    heads = columns(_)
    rows = table(soa, lang)
    sheet.append(heads)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
    widths = [10, 48, 10, 48, 22, 9, 9, 9, 9, 11, 11, 9, 18, 13]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"  # the header row, and each control's id and title, stay in view
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{len(rows) + 1}"
    about = book.create_sheet(_("Document"))
    for key, value in header_rows(soa, lang):
        about.append([key, value])
        if isinstance(value, str) and value.startswith("="):
            about.cell(about.max_row, 2).data_type = "s"
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_html(soa: Soa, lang: str) -> str:
    from auditor.report.html import assets, environment

    _ = i18n.translator(lang)
    return (
        environment(i18n.check_language(lang))
        .get_template("soa.html.j2")
        .render(
            soa=soa,
            lang=lang,
            assets=assets(),
            about=header_rows(soa, lang),
            rows=zip(soa["controls"], table(soa, lang), strict=True),
            heads=columns(_),
            status_label=status_labels(_),
        )
    )


def render(soa: Soa, fmt: str, lang: str) -> str | bytes:
    lang = i18n.check_language(lang)
    if fmt == "json":
        return render_json(soa)
    if fmt == "csv":
        return render_csv(soa, lang)
    if fmt == "xlsx":
        return render_xlsx(soa, lang)
    if fmt == "html":
        return render_html(soa, lang)
    raise ValueError(f"unknown format {fmt!r}")
