"""CSV, JUnit XML and JSON renderers: one row / testcase per host × check; hostile data stays inert."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from auditor.paths import schema_path
from auditor.report import RENDERERS
from auditor.report.csvfmt import COLUMNS, neutralize

FIXTURE = Path(__file__).parent / "data" / "report" / "results.json"


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def pairs(doc: dict) -> list[tuple[str, str, str]]:
    return [(h["name"], r["check"], r["status"]) for h in doc["hosts"] for r in h["results"]]


def test_registry_has_every_format():
    assert set(RENDERERS) == {"html", "csv", "junit", "json"}


def test_csv_one_row_per_host_and_check(doc):
    text = RENDERERS["csv"](doc, "vi", None)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == COLUMNS
    got = [(r["host"].removeprefix("'"), r["check"], r["status"]) for r in rows]
    assert got == pairs(doc)
    web = [r for r in rows if r["host"] == "web01"]
    assert {r["weight"] for r in web if r["severity"] == "critical"} == {"10"}
    assert any("Cơ sở dữ liệu" in r["title"] or "SSH" in r["title"] for r in web)


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(value):
    assert neutralize(value) == "'" + value


def test_csv_plain_values_unchanged():
    assert neutralize("web01") == "web01" and neutralize(None) == "" and neutralize(62.5) == "62.5"


def test_junit_one_testcase_per_host_and_check(doc):
    text = RENDERERS["junit"](doc, "en", None)
    root = ET.fromstring(text.encode("utf-8"))  # parses: NUL and escape bytes from hosts were replaced
    cases = root.findall("./testsuite/testcase")
    got = []
    for case in cases:
        kind = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "pass")
        got.append((case.get("classname"), case.get("name").split(":")[0], kind))
    expected_kind = {"pass": "pass", "fail": "failure", "error": "error", "unknown": "error"}
    assert got == [(h, c, expected_kind.get(s, "skipped")) for h, c, s in pairs(doc)]
    statuses = [s for _, _, s in pairs(doc)]
    assert root.get("tests") == str(len(statuses))
    assert root.get("failures") == str(statuses.count("fail"))
    assert root.get("errors") == str(statuses.count("error") + statuses.count("unknown"))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\x00" not in text and "\x1b" not in text


def test_json_is_the_document_and_follows_the_schema(doc):
    out = json.loads(RENDERERS["json"](doc, "en", None))
    assert out == doc
    jsonschema.Draft202012Validator(json.loads(schema_path("results.schema.json").read_text())).validate(out)
