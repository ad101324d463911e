"""The findings register as text, JSON, CSV (spreadsheet-safe, like the results CSV) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from auditor.report.csvfmt import BOM, neutralize

FORMATS = ("text", "json", "csv", "xlsx")
COLUMNS = [
    "id", "host", "check", "title", "severity", "status", "first_seen_run", "first_seen", "last_seen_run",
    "last_seen", "open_days", "owner", "due", "waiver_id", "waiver_type", "waiver_approved_by", "waiver_expires",
]  # fmt: skip

Register = list[dict[str, Any]]


def rows(register: Register) -> list[list[Any]]:
    out = []
    for f in register:
        waiver = f["waiver"] or {}
        out.append(
            [f["id"], f["host"], f["check"], f["title"], f["severity"], f["status"],
             f["first_seen"]["run"], f["first_seen"]["time"], f["last_seen"]["run"], f["last_seen"]["time"],
             f["open_days"], f["owner"], f["due"], waiver.get("id"), waiver.get("type"), waiver.get("approved_by"),
             waiver.get("expires")]
        )  # fmt: skip
    return out


def render_text(register: Register) -> str:
    lines = [
        f"{f['id']}\t{f['status']}\t{f['host']}\t{f['check']}\t{f['severity'] or '-'}\t{f['open_days']} days\t"
        f"first {f['first_seen']['run']}\tlast {f['last_seen']['run']}"
        + (f"\towner {f['owner']}" if f["owner"] else "")
        + (f"\tdue {f['due']}" if f["due"] else "")
        + (f"\twaiver {f['waiver']['id']}" if f["waiver"] else "")
        for f in register
    ]
    return "\n".join(lines or ["no finding"]) + "\n"


def render_csv(register: Register) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([neutralize(v) if isinstance(v, str) else v for v in row] for row in rows(register))
    return buffer.getvalue()


def render_xlsx(register: Register) -> bytes:
    try:  # the xlsx extra: only this format needs it
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
    except ImportError:
        from auditor.output import OutputError

        raise OutputError("XLSX needs openpyxl: pip install 'auditor[xlsx]' (or choose --format csv or json)") from None
    book = Workbook()
    sheet = book.active
    sheet.title = "Findings"
    sheet.append(COLUMNS)
    table = rows(register)
    for row in table:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
    for index, width in enumerate([14, 20, 32, 48, 10, 9, 22, 26, 22, 26, 9, 24, 12, 14, 18, 20, 12], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(table) + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(register: Register, fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(register, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return render_csv(register)
    if fmt == "xlsx":
        return render_xlsx(register)
    return render_text(register)
