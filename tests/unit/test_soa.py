"""The Statement of Applicability: every control of the edition, statuses as defined, the applicability
file validated (file:line:field), and each format readable back (XLSX with openpyxl)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest

from auditor import soa
from auditor.catalog import load_catalog
from auditor.catalog.applicability import load_applicability
from auditor.errors import InputError
from auditor.report.soa import render

AT = "2026-12-07T01:00:00Z"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
APPLICABILITY = """\
soa:
  edition: "2022"
  version: "1.2"
  owner: "Nguyễn Văn A, Trưởng phòng CNTT"
  approver: "Trần Thị B, Phó Giám đốc Sở"
  date: 2026-11-15
controls:
  - id: "5.7"
    applicable: true
    reasons: [risk, legal]
    note: "Nghị định 85/2016/NĐ-CP"
  - id: "7.5"
    applicable: false
    exclusion: "Không có trung tâm dữ liệu riêng"
"""


def result(check: str, status: str, controls: list[str], waived_status: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"check": check, "status": status, "iso27001": {"2022": controls}, "severity": "high"}
    if waived_status:
        r.update(waived_status=waived_status, waiver={"id": "W-1", "type": "risk_accepted"})
    return r


def document() -> dict[str, Any]:
    """Two hosts; controls chosen so that each status occurs."""
    return {
        "run": {"id": "r1", "started": AT, "finished": AT, "playbook": "b"},
        "hosts": [
            {"name": "a", "results": [
                result("C-PASS", "pass", ["8.7", "8.9"]),        # 8.7: pass on both hosts -> implemented
                result("C-MIXED", "pass", ["8.20"]),            # 8.20: pass on a, fail on b -> partially
                result("C-FAIL", "fail", ["8.22"]),             # 8.22: fail everywhere -> not implemented
                result("C-ERR", "error", ["8.23"]),             # 8.23: only undecided -> not assessed
                result("C-WAIVED", "waived", ["8.24"], "fail"),  # 8.24: a waived failure is still a failure
                result("C-NA", "not_applicable", ["8.25"]),     # 8.25: nothing applied -> not assessed
            ]},
            {"name": "b", "results": [
                result("C-PASS", "pass", ["8.7", "8.9"]),
                result("C-MIXED", "fail", ["8.20"]),
                result("C-FAIL", "fail", ["8.22"]),
                result("C-WAIVED", "pass", ["8.24"]),
                result("C-UNDECIDED", "unknown", ["8.9"]),      # 8.9: pass and unknown -> partially
            ]},
        ],
        "organisation": {"as_of": "2026-12-07", "results": [
            {"kind": "control", "edition": "2022", "id": "5.1",
             "documents": [{"id": "DOC-ISMS-POLICY", "status": "pass"}]},
            {"kind": "control", "edition": "2022", "id": "5.2", "documents": [{"id": "DOC-ROLES", "status": "manual"}]},
        ]},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ((3, 0, 0, 0), "implemented"),
        ((3, 1, 0, 0), "partially_implemented"),
        ((3, 0, 1, 0), "partially_implemented"),
        ((3, 0, 0, 1), "partially_implemented"),
        ((0, 2, 1, 1), "not_implemented"),
        ((0, 0, 2, 1), "not_assessed"),
        ((0, 0, 0, 1), "not_assessed"),
        ((0, 0, 0, 0), "not_assessed"),
    ],
)
def test_status_rule(counts: tuple[int, int, int, int], status: str) -> None:
    assert soa.status_of(*counts) == status


def test_every_control_has_a_row_and_its_status() -> None:
    catalog = load_catalog()
    for edition, n in (("2022", 93), ("2013", 114)):
        rows = soa.build(catalog, document(), edition)["controls"]
        assert len(rows) == n and [r["id"] for r in rows] == list(catalog.controls[edition])
    rows = {r["id"]: r for r in soa.build(catalog, document(), "2022")["controls"]}
    manual_docs = {cid for cid, c in catalog.controls["2022"].items() if c.get("manual")}
    expected = {"8.7": "implemented", "8.20": "partially_implemented", "8.22": "not_implemented",
                "8.23": "not_assessed", "8.24": "partially_implemented", "8.25": "not_assessed",
                "8.9": "partially_implemented"}  # fmt: skip
    for cid, status in expected.items():
        if cid in manual_docs:  # a required document that no one attested keeps it from "implemented"
            status = {"implemented": "partially_implemented"}.get(status, status)
        assert rows[cid]["status"] == status, (cid, rows[cid])
    assert rows["8.7"]["hosts"] == {"pass": 2, "total": 2}
    assert rows["8.20"]["hosts"] == {"pass": 1, "total": 2}
    assert rows["8.9"]["checks"] == {"pass": 1, "total": 2, "ids": ["C-PASS", "C-UNDECIDED"]}
    assert rows["8.24"]["waivers"] == {"active": 1, "ids": ["W-1"]}
    assert rows["8.25"]["hosts"] == {"pass": 0, "total": 0} and rows["8.25"]["last_assessed"] is None
    assert rows["8.7"]["last_assessed"] == "2026-12-07"
    # Documents: 5.1's policy attested -> implemented; 5.2's roles not attested -> not assessed.
    assert (rows["5.1"]["status"], rows["5.1"]["documents"]["attested"]) == ("implemented", 1)
    assert (rows["5.2"]["status"], rows["5.2"]["documents"]["attested"]) == ("not_assessed", 0)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "applicability.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_applicability_file_decides_and_heads_the_statement(tmp_path: Path) -> None:
    catalog = load_catalog()
    decided = load_applicability(write(tmp_path, APPLICABILITY), catalog, "2022")
    statement = soa.build(catalog, document(), "2022", decided)
    assert (statement["version"], statement["date"]) == ("1.2", "2026-11-15")
    assert statement["owner"].startswith("Nguyễn") and statement["approver"].startswith("Trần")
    rows = {r["id"]: r for r in statement["controls"]}
    assert (rows["7.5"]["applicable"], rows["7.5"]["status"]) == (False, "excluded")
    assert rows["7.5"]["reason"] == "Không có trung tâm dữ liệu riêng" and rows["7.5"]["last_assessed"] is None
    assert rows["5.7"]["reasons"] == ["risk", "legal"] and "Nghị định" in rows["5.7"]["reason"]
    assert statement["counts"]["excluded"] == 1 and sum(statement["counts"].values()) == 93


@pytest.mark.parametrize(
    ("edit", "line", "field", "words"),
    [
        (('    exclusion: "Không có trung tâm dữ liệu riêng"\n', ""), 12, "controls[1].exclusion", "required"),
        (('id: "7.5"', 'id: "7.99"'), 12, "controls[1].id", "not a control"),
        (('id: "7.5"', "id: 7.5"), 12, "controls[1].id", "in quotes"),
        (('id: "7.5"', 'id: "5.7"'), 12, "controls[1].id", "already listed"),
        (('edition: "2022"', 'edition: "2013"'), 2, "soa.edition", "not 2022"),
        (("reasons: [risk, legal]", "reasons: [risk, whim]"), 10, "controls[0].reasons[1]", "is not one of"),
        (('  approver: "Trần Thị B, Phó Giám đốc Sở"\n', ""), 1, "soa", "'approver' is a required property"),
        (("    applicable: true\n", "    applicable: true\n    exclusion: x\n"), 10, "controls[0].exclusion", "only"),
    ],
)
def test_a_bad_applicability_file_names_file_line_and_field(
    tmp_path: Path, edit: tuple[str, str], line: int, field: str, words: str
) -> None:
    assert edit[0] in APPLICABILITY
    with pytest.raises(InputError) as caught:
        load_applicability(write(tmp_path, APPLICABILITY.replace(edit[0], edit[1], 1)), load_catalog(), "2022")
    error = caught.value
    assert error.exit_code == 2 and words in error.message, str(error)
    assert (error.line, error.field) == (line, field), str(error)


def hostile_statement(tmp_path: Path) -> dict[str, Any]:
    text = APPLICABILITY.replace("Nghị định 85/2016/NĐ-CP", '=HYPERLINK(\\"http://x\\") ' + HOSTILE.replace('"', "'"))
    text = text.replace("Không có trung tâm dữ liệu riêng", "=1+1 " + HOSTILE.replace('"', "'"))
    decided = load_applicability(write(tmp_path, text), load_catalog(), "2022")
    return soa.build(load_catalog(), document(), "2022", decided)


def test_xlsx_opens_with_a_frozen_header_and_filters(tmp_path: Path) -> None:
    statement = hostile_statement(tmp_path)
    path = tmp_path / "soa.xlsx"
    path.write_bytes(render(statement, "xlsx", "en"))
    book = openpyxl.load_workbook(path)
    sheet = book["SoA"]
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == "A1:N94" and sheet.max_row == 94
    assert [c.value for c in sheet[1]][:5] == [
        "Control",
        "Title",
        "Applicable",
        "Reason for inclusion or exclusion",
        "Status",
    ]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 93 and rows["5.1"][4] == "Implemented" and rows["7.5"][4] == "Excluded"
    excluded = sheet.cell(1 + list(rows).index("7.5") + 1, 4)
    assert excluded.value.startswith("=1+1") and excluded.data_type == "s"  # text, never a formula
    about = dict(book.worksheets[1].iter_rows(values_only=True))
    assert about["Version"] == "1.2" and about["Approved by"].startswith("Trần")


def test_csv_and_json(tmp_path: Path) -> None:
    statement = hostile_statement(tmp_path)
    text = render(statement, "csv", "vi")
    assert isinstance(text, str) and text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 94 and rows[0][0] == "Biện pháp kiểm soát"
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["7.5"][3].startswith("'=1+1") and by_id["7.5"][4] == "Loại trừ"
    data = json.loads(render(statement, "json", "en"))
    soa.validate(data)
    assert data["edition"] == "2022" and len(data["controls"]) == 93
    data["controls"][0]["applicable"] = False  # excluded without a reason: the schema refuses it
    with pytest.raises(jsonschema.ValidationError):
        soa.validate(data)
    first = data["controls"][0]
    assert {"id", "title", "applicable", "status", "hosts", "checks", "documents", "waivers", "reason"} <= set(first)


def test_html_escapes_and_keeps_the_report_policy(tmp_path: Path) -> None:
    html = render(hostile_statement(tmp_path), "html", "vi")
    assert isinstance(html, str)
    assert HOSTILE.replace('"', "'") not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;' in html
    assert html.count("<tr data-row") == 93 and "http://x" in html and 'href="http' not in html
