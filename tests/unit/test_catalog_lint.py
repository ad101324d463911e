"""Catalog lint: the project's catalog agrees with the reference data, the crosswalk is consistent both ways,
every control and plan task is evidenced (automated and/or manual), every check has a remediation in both
languages, and the annex loaders reject bad files naming file, line and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from auditor.catalog import EDITIONS, load_catalog
from auditor.catalog.coverage import coverage, unmapped
from auditor.errors import CatalogError
from auditor.paths import controls_dir

SHARED = Path(__file__).resolve().parents[3] / "shared"
REFERENCE = SHARED / "reference"
SEEDS = {"1959-BTTTT-2013": "001", "2751-KH-UBND-2014": "002", "509-QD-BTTTT-2016": "003", "PM-2008": "004"}


def reference(name: str) -> dict:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip("shared/reference is not beside this checkout")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(("edition", "count"), [("2005", 133), ("2013", 114), ("2022", 93)])
def test_every_reference_control_is_in_the_catalog_with_its_title(catalog, edition, count):
    ref = {c["id"]: c for c in reference(f"iso27001-{edition}.yaml")["controls"]}
    ours = catalog.annexes[edition].controls
    assert list(ours) == list(ref) and len(ours) == count
    for cid, c in ref.items():
        assert ours[cid]["title"] == c["title"], cid
        if edition == "2013":
            assert ours[cid]["title_vi"] == c["title_vi"], cid  # the unofficial transcription, kept as is
        if edition == "2005":
            assert ours[cid]["verified"] == c["verified"], cid


def test_unverified_2005_entries_stay_marked(catalog):
    unverified = [cid for cid, c in catalog.annexes["2005"].controls.items() if not c["verified"]]
    assert len(unverified) == 17
    assert all(catalog.annexes["2005"].controls[cid]["source"] == "U" for cid in unverified)


def test_vietnamese_titles_and_their_provenance(catalog):
    assert "unofficial" in catalog.annexes["2013"].header["title_vi_source"]
    assert catalog.annexes["2022"].header["title_vi_source"] == "translated by the project"
    for edition in EDITIONS:
        for cid, c in catalog.controls[edition].items():
            assert c["title_vi"].strip() and c["title_vi"] != c["title"], cid
    assert catalog.annexes["2013"].header["tcvn"]["standard"] == "TCVN ISO/IEC 27001:2019"
    assert catalog.annexes["2005"].header["tcvn"]["standard"] == "TCVN ISO/IEC 27001:2009"


def test_crosswalk_matches_annex_b_both_ways(catalog):
    ref = reference("crosswalk-2013-2022.yaml")
    cw = catalog.crosswalk
    assert cw.to_2022 == ref["map_2013_to_2022"] and cw.to_2013 == ref["map_2022_to_2013"]
    assert sorted(cw.new_in_2022) == sorted(ref["new_in_2022"]) and len(cw.new_in_2022) == 11
    assert cw.to_2022["A.18.2.3"] == ["5.36", "8.8"]
    for old, news in cw.to_2022.items():
        assert all(old in cw.to_2013[new] for new in news), old
    for new, olds in cw.to_2013.items():
        assert all(new in cw.to_2022[old] for old in olds), new
    flagged = {cid for cid, c in catalog.controls["2022"].items() if c.get("new_in_2022")}
    assert flagged == set(cw.new_in_2022)


def test_check_mappings_follow_the_crosswalk(catalog):
    cw = catalog.crosswalk
    for check in catalog.checks.values():
        old, new = check.iso27001["2013"], set(check.iso27001["2022"])
        reachable = {n for o in old for n in cw.to_2022[o]} | set(cw.new_in_2022)
        assert new <= reachable, f"{check.id}: {sorted(new - reachable)} not reachable from {old}"
        for o in old:
            assert set(cw.to_2022[o]) & new, f"{check.id}: {o} maps to {cw.to_2022[o]}, none listed"


def test_every_control_and_plan_task_is_evidenced(catalog):
    assert unmapped(catalog) == {"iso27001:2013": [], "iso27001:2022": [], "plan_tasks": []}
    numbers = coverage(catalog)
    assert [numbers[k]["total"] for k in ("iso27001:2013", "iso27001:2022", "plan_tasks")] == [114, 93, 24]
    for name, n in numbers.items():
        assert n["automated"] + n["manual"] == n["in_catalog"] == n["total"], name


def test_plan_tasks_keep_their_source_quotes(catalog):
    ref = reference("plan-tasks.yaml")["tasks"]
    assert [t["id"] for t in catalog.plan_tasks.values()] == [t["id"] for t in ref]
    for task in catalog.plan_tasks.values():
        assert task["sources"] and all(s["quote"].strip() for s in task["sources"]), task["id"]
        for src in task["sources"]:
            seed = next((SHARED / "seeds").glob(f"{SEEDS[src['doc']]}_*.txt"), None)
            if seed is None:
                continue
            text = re.sub(r"\s+", " ", seed.read_text(encoding="utf-8")).lower()
            # quotes join list items with ":"/";" and cut with "...": each piece is verbatim in the seed
            for piece in re.split(r"\.\.\.|…|:|;", re.sub(r"\s+", " ", src["quote"]).lower()):
                if piece.strip(" ,"):
                    assert piece.strip(" ,") in text, (task["id"], src["doc"], piece)


def test_every_check_has_titles_and_a_remediation_in_both_languages(catalog):
    for check in catalog.checks.values():
        for text in (check.title, check.remediation):
            assert set(text) >= {"en", "vi"} and text["en"].strip() and text["vi"].strip(), check.id
            assert text["en"] != text["vi"], check.id


def test_every_document_is_used_and_has_a_role(catalog):
    controls = [c for ed in EDITIONS for c in catalog.controls[ed].values()]
    used = {d for c in controls for d in c.get("manual", {}).get("documents", [])}
    used |= {d for t in catalog.plan_map.tasks.values() for d in t.get("manual", {}).get("documents", [])}
    assert used == set(catalog.documents.documents)
    for doc in catalog.documents.documents.values():
        assert doc["attested_by"] in catalog.documents.roles


def test_plan_tasks_with_document_sources_have_manual_evidence(catalog):
    for task, meta in catalog.plan_tasks.items():
        if "document" in meta["how"]:
            assert catalog.plan_map.tasks[task].get("manual"), task


def test_catalog_loads_fast():
    import time

    start = time.perf_counter()
    load_catalog()
    # It runs on every `auditor run`: ~0.06 s on an idle machine (libyaml, one parse per file, cached
    # validators). The bound is loose so that a busy CI machine does not fail it.
    assert time.perf_counter() - start < 3.0


# --- the loader rejects bad catalog files --------------------------------------------------------------------


@pytest.fixture
def root(tmp_path) -> Path:
    return Path(shutil.copytree(controls_dir(), tmp_path / "controls"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message", "where"),
    [
        (
            "iso27001/annex-a-2013.yaml",
            '  title: "Policies for information security"\n',
            '  title: "Policies for information security"\n  colour: red\n',
            "unknown key 'colour'",
            "controls[0].colour",
        ),
        (
            "iso27001/annex-a-2013.yaml",
            'manual: {documents: ["DOC-ISMS-POLICY"]}',
            'manual: {documents: ["DOC-NOPE"]}',
            "unknown document 'DOC-NOPE'",
            "controls[0].manual.documents[0]",
        ),
        ("iso27001/annex-a-2022.yaml", 'id: "5.2"', 'id: "5.1"', "listed twice", "controls[1].id"),
        ("iso27001/annex-a-2022.yaml", "counts: {controls: 93}", "counts: {controls: 94}", "says 94", "counts"),
        ("iso27001/crosswalk.yaml", 'A.5.1.2: ["5.1"]', 'A.5.1.2: ["5.2"]', "does not list A.5.1.2", "map_2013"),
        ("iso27001/crosswalk.yaml", '"5.7": []', '"5.7": ["A.5.1.1"]', "new in 2022", "map_2022_to_2013"),
        ("plan-mapping.yaml", "- task: PT-AV\n", "- task: PT-NOPE\n", "unknown plan task", "tasks[0].task"),
        ("documents.yaml", "  attested_by: HEAD\n", "  attested_by: BOSS\n", "unknown role 'BOSS'", "documents[0]"),
    ],
)
def test_loader_errors_name_file_line_field(root, file, old, new, message, where):
    edit(root / file, old, new)
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    text = str(exc.value)
    assert message in text and where in text, text
    assert re.search(re.escape(Path(file).name) + r":\d+: ", text), text


def test_a_control_with_neither_check_nor_manual_evidence_is_refused(root):
    edit(root / "iso27001/annex-a-2013.yaml", '  manual: {documents: ["DOC-ISMS-POLICY"]}\n', "")
    with pytest.raises(CatalogError, match=r"annex-a-2013.yaml:\d+: control A.5.1.1 has no check and no manual"):
        load_catalog(root)
