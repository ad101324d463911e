"""The findings register: its pure derivation from runs and results, the officer's findings file, its
renderings, and the report's failure section showing each finding's id and open time."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from auditor.errors import InputError
from auditor.history.findings import Observation, RunInfo, assign, days_between, derive, finding_id
from auditor.history.findings_file import load_assignments
from auditor.report.findings import COLUMNS, render

SERIES, OTHER = ("baseline", "inv.ini"), ("other", "inv.ini")
RUNS = [
    RunInfo("r1", "2026-11-01T01:00:00Z", "2026-11-01T01:05:00Z", SERIES),
    RunInfo("r2", "2026-11-10T01:00:00Z", "2026-11-10T01:05:00Z", SERIES),
    RunInfo("r3", "2026-11-20T01:00:00Z", "2026-11-20T01:05:00Z", SERIES),
]
WAIVER = {"id": "W-1", "type": "risk_accepted", "approved_by": "B", "expires": "2027-01-01"}
NOW = "2026-12-01T06:00:00Z"


def ob(run: str, host: str, check: str, status: str, waived: str | None = None) -> Observation:
    return Observation(run, host, check, status, waived, WAIVER if status == "waived" else None)


def by_key(register: list[dict]) -> dict[tuple[str, str], dict]:
    return {(f["host"], f["check"]): f for f in register}


def test_the_id_depends_on_host_and_check_only() -> None:
    assert finding_id("web01", "C-1") == finding_id("web01", "C-1")
    assert finding_id("web01", "C-1") != finding_id("web02", "C-1") != finding_id("web01", "C-2")
    # No separator games: ("a\nb", "c") is no other pair's id by concatenation alone.
    assert finding_id("web0", "1C-1") != finding_id("web01", "C-1")
    assert finding_id("web01", "C-1").startswith("F-") and len(finding_id("web01", "C-1")) == 12


def test_open_fixed_and_waived() -> None:
    observations = [
        ob("r1", "a", "OPEN", "fail"), ob("r2", "a", "OPEN", "fail"), ob("r3", "a", "OPEN", "fail"),
        ob("r1", "a", "FIXED", "fail"), ob("r2", "a", "FIXED", "pass"), ob("r3", "a", "FIXED", "pass"),
        ob("r1", "a", "WAIVED", "pass"), ob("r2", "a", "WAIVED", "fail"), ob("r3", "a", "WAIVED", "waived", "fail"),
        ob("r1", "a", "NEVER", "pass"), ob("r2", "a", "NEVER", "error"), ob("r3", "a", "NEVER", "pass"),
    ]  # fmt: skip
    found = by_key(derive(RUNS, observations, NOW))
    assert set(found) == {("a", "OPEN"), ("a", "FIXED"), ("a", "WAIVED")}  # an error is no finding
    opened, fixed, waived = found["a", "OPEN"], found["a", "FIXED"], found["a", "WAIVED"]
    assert (opened["status"], opened["first_seen"]["run"], opened["last_seen"]["run"]) == ("open", "r1", "r3")
    assert opened["open_days"] == 30 and opened["waiver"] is None
    # Fixed: open from its first failure until the run that passed it.
    assert (fixed["status"], fixed["first_seen"]["run"], fixed["last_seen"]["run"], fixed["open_days"]) == (
        "fixed", "r1", "r1", 9,
    )  # fmt: skip
    # Waived: the waived result still counts as a failure (last_seen), and names its waiver.
    assert (waived["status"], waived["first_seen"]["run"], waived["last_seen"]["run"]) == ("waived", "r2", "r3")
    assert waived["waiver"] == WAIVER and waived["open_days"] == 21
    assert opened["first_seen"]["time"] == "2026-11-01T01:00:00Z"


def test_undecided_after_a_failure_keeps_it_open_and_a_new_failure_reopens() -> None:
    observations = [ob("r1", "a", "C", "fail"), ob("r2", "a", "C", "unknown"),
                    ob("r1", "b", "C", "fail"), ob("r2", "b", "C", "pass"), ob("r3", "b", "C", "fail")]  # fmt: skip
    found = by_key(derive(RUNS, observations, NOW))
    assert found["a", "C"]["status"] == "open"  # the audit could not tell: nothing is closed
    assert (found["b", "C"]["status"], found["b", "C"]["first_seen"]["run"]) == ("open", "r1")


def test_fixed_only_by_a_later_run_of_the_same_playbook_and_inventory() -> None:
    runs = [*RUNS[:2], RunInfo("x", "2026-11-15T00:00:00Z", "2026-11-15T00:01:00Z", OTHER)]
    found = derive(runs, [ob("r1", "a", "C", "fail"), ob("r2", "a", "C", "fail"), ob("x", "a", "C", "pass")], NOW)
    assert found[0]["status"] == "open"
    found = derive(runs, [ob("r1", "a", "C", "fail"), ob("r2", "a", "C", "pass"), ob("x", "a", "C", "fail")], NOW)
    assert (found[0]["status"], found[0]["last_seen"]["run"]) == ("open", "x")


def test_results_of_unknown_or_unfinished_runs_are_ignored_and_order_is_stable() -> None:
    observations = [ob("gone", "z", "C", "fail"), ob("r1", "b", "C", "fail"), ob("r1", "a", "C", "fail"),
                    ob("r1", "a", "D", "fail"), ob("r2", "a", "D", "pass")]  # fmt: skip
    texts = {"C": {"title": "C", "severity": "low"}, "D": {"title": "D", "severity": "high"}}
    register = derive(list(reversed(RUNS)), observations, NOW, texts)
    assert [(f["host"], f["check"], f["status"]) for f in register] == [
        ("a", "C", "open"), ("b", "C", "open"), ("a", "D", "fixed"),
    ]  # fmt: skip
    assert [f["id"] for f in register] == [finding_id("a", "C"), finding_id("b", "C"), finding_id("a", "D")]


def test_days_between() -> None:
    assert days_between("2026-11-01T23:00:00+07:00", "2026-11-02T16:59:59Z") == 1
    assert days_between("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z") == 0


def test_assign_and_unused_ids() -> None:
    register = derive(RUNS, [ob("r1", "a", "C", "fail")], NOW)
    unused = assign(register, {"F-0000000000": {"owner": "X", "due": None},
                               register[0]["id"]: {"owner": "Nguyễn Văn A", "due": "2027-01-31"}})  # fmt: skip
    assert unused == ["F-0000000000"]
    assert (register[0]["owner"], register[0]["due"]) == ("Nguyễn Văn A", "2027-01-31")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "findings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_findings_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "findings:\n  - id: F-3FA2C19B07\n    owner: A\n    due: 2027-01-31\n  - id: F-000000000A\n"
    )
    assert load_assignments(path) == {
        "F-3FA2C19B07": {"owner": "A", "due": "2027-01-31"},
        "F-000000000A": {"owner": None, "due": None},
    }


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("findings:\n  - id: F-3FA2C19B07\n    ownr: A\n", ":3: findings[0].ownr: unknown key"),
        ('findings:\n  - id: F-3FA2C19B07\n    due: "2027-02-30"\n', ":3: findings[0].due: '2027-02-30' is not a"),
        ("findings:\n  - id: f-1\n", ":2: findings[0].id:"),
        ("findings:\n  - id: F-3FA2C19B07\n  - id: F-3FA2C19B07\n", ":3: findings[1].id: F-3FA2C19B07 is already"),
    ],
)
def test_bad_findings_file(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_assignments(path)
    assert f"{path}{where}" in str(caught.value) and caught.value.exit_code == 2


def test_renderings() -> None:
    register = derive(RUNS, [ob("r1", "a", "=cmd", "fail"), ob("r2", "a", "W", "waived", "fail")], NOW)
    assert json.loads(render(register, "json")) == register
    assert list(register[0]) == ["id", "host", "check", "title", "severity", "status", "first_seen", "last_seen",
                                 "open_days", "owner", "due", "waiver"]  # fmt: skip
    table = list(csv.reader(io.StringIO(str(render(register, "csv")).lstrip("\ufeff"))))
    assert table[0] == COLUMNS and table[1][2] == "'=cmd"  # a spreadsheet formula stays text
    assert table[2][COLUMNS.index("waiver_id")] == "W-1"
    text = str(render(register, "text"))
    assert register[0]["id"] in text and "waiver W-1" in text
    assert render([], "text") == "no finding\n"


def test_the_report_shows_finding_ids_in_the_failure_section() -> None:
    from auditor.report.html import render_html

    document = json.loads((Path(__file__).parent / "data" / "report" / "results.json").read_text(encoding="utf-8"))
    host = next(h for h in document["hosts"] if any(r["status"] == "fail" for r in h["results"]))
    failed = next(r for r in host["results"] if r["status"] == "fail")
    finding = {"id": finding_id(host["name"], failed["check"]), "open_days": 17}
    html = render_html(document, "en", findings={(host["name"], failed["check"]): finding})
    assert f'data-host="{host["name"]}">{host["name"]} <b>{finding["id"]}</b> · open 17 days</span>' in html
    assert "đã mở 17 ngày" in render_html(document, "vi", findings={(host["name"], failed["check"]): finding})
    assert "finding-id" not in render_html(document, "en")
