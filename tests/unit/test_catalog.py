"""The catalog loads, and a broken check names file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from auditor.catalog import load_catalog
from auditor.errors import CatalogError
from auditor.paths import controls_dir

GOOD = """\
- id: TST-ONE
  title: {en: One, vi: Một}
  iso27001: {"2013": [A.12.2.1], "2022": ["8.7"]}
  plan: [PT-AV]
  severity: high
  applies: {os: linux}
  facts:
    f: {file_age: {paths: [/tmp/x]}}
  expect: {fact: f.newest_days, lte: 7}
  remediation: {en: Fix, vi: Sửa}
"""


@pytest.fixture
def catalog_root(tmp_path) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(controls_dir(), root)
    for f in (root / "iso27001" / "checks").glob("*.yaml"):
        f.unlink()
    return root


def write(root: Path, text: str) -> str:
    path = root / "iso27001" / "checks" / "test.yaml"
    path.write_text(text)
    return "test.yaml"


def test_project_catalog_loads():
    catalog = load_catalog()
    assert len(catalog.checks) >= 10
    tasks = {t for c in catalog.checks.values() for t in c.plan}
    assert {"PT-AUTH", "PT-AV", "PT-LOG", "PT-USB", "PT-FIREWALL", "PT-IDS"} <= tasks


def test_plan_tasks_copy_matches_reference():
    reference = Path(__file__).resolve().parents[3] / "shared" / "reference" / "plan-tasks.yaml"
    if not reference.exists():
        pytest.skip("shared/reference is not beside this checkout")
    ours = yaml.safe_load((controls_dir() / "plan-tasks.yaml").read_text())
    theirs = yaml.safe_load(reference.read_text())
    assert [t["id"] for t in ours["tasks"]] == [t["id"] for t in theirs["tasks"]]


def test_good_check(catalog_root):
    write(catalog_root, GOOD)
    assert list(load_catalog(catalog_root).checks) == ["TST-ONE"]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  severity: high", "  severity: high\n  colour: red", 6, "unknown key 'colour'"),
        ("plan: [PT-AV]", "plan: [PT-NOPE]", 4, "unknown plan task 'PT-NOPE'"),
        ('"2022": ["8.7"]', '"2022": ["9.9"]', 3, "'9.9' is not a control of ISO/IEC 27001:2022"),
        (
            "{file_age: {paths: [/tmp/x]}}",
            "{file_agee: {paths: [/tmp/x]}}",
            8,
            "unknown fact type 'file_agee'",
        ),
        ("{file_age: {paths: [/tmp/x]}}", "{file_age: {path: /tmp/x}}", 8, "'paths' is a required property"),
        ("lte: 7}", "lte: 7, about: 3}", 9, "unknown operator 'about'"),
        ("fact: f.newest_days", "fact: g.newest_days", 9, "does not name a declared fact"),
        ("severity: high", "severity: urgent", 5, "is not one of"),
        ("title: {en: One, vi: Một}", "title: {en: One}", 2, "'vi' is a required property"),
        ("  severity: high", "  severity: high\n  severity: low", 6, "duplicate key 'severity'"),
        ("plan: [PT-AV]", "plan: [PT-AV", 5, "while parsing a flow sequence at line 4"),
    ],
)
def test_errors_name_file_line_field(catalog_root, old, new, line, message):
    assert old in GOOD
    name = write(catalog_root, GOOD.replace(old, new))
    with pytest.raises(CatalogError) as exc:
        load_catalog(catalog_root)
    text = str(exc.value)
    assert message in text
    assert f"{name}:{line}:" in text, text


def test_duplicate_check_id(catalog_root):
    write(catalog_root, GOOD + GOOD.replace("\n- id", "\n- id"))
    (catalog_root / "iso27001" / "checks" / "second.yaml").write_text(GOOD)
    with pytest.raises(CatalogError, match="declared twice"):
        load_catalog(catalog_root)
