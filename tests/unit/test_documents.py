"""Manual controls and plan tasks judged from attested documents (auditor.organisation), the attestations
file's validation (file:line:field), and the organisation section of results.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import textwrap
from pathlib import Path

import pytest

from auditor import organisation
from auditor.catalog import load_catalog
from auditor.catalog.attestations import load_attestations
from auditor.errors import InputError
from auditor.results import validate
from tests.helpers import EXAMPLES_WRITTEN, example_evidence

TODAY = dt.date(2026, 11, 23)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def folder(tmp_path: Path, entries: str, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    (tmp_path / "attestations.yaml").write_text("attestations:\n" + textwrap.indent(entries, "  "))
    return tmp_path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(
    file: str, data: bytes, date: str = "2026-10-01", until: str = "2027-10-01", covers: str = "plan: [PT-DRILL]"
) -> str:
    return textwrap.dedent(
        f"""\
        - {covers}
          file: {file}
          sha256: {sha(data)}
          date: {date}
          valid_until: {until}
          attested_by: "Nguyễn Văn A"
        """
    )


def judge(catalog, path: Path, today: dt.date = TODAY) -> dict:
    org = organisation.prepare(catalog, {"evidence_dir": str(path)})
    assert org is not None
    part = org.section(today)
    return {r["requirement"]: r for r in part["results"]}


DRILL = b"Bien ban dien tap 2026"


def test_valid_fresh_matching_document_passes(catalog, tmp_path):
    results = judge(catalog, folder(tmp_path, entry("drill.txt", DRILL), {"drill.txt": DRILL}))
    assert results["PT-DRILL"]["status"] == "pass"
    assert results["PT-DRILL"]["evidence"][0]["sha256_found"] == sha(DRILL)
    assert results["PT-ISMS"]["status"] == "manual"  # absent: stays manual, says what is needed
    assert "DOC-ISMS-POLICY" in results["PT-ISMS"]["reason"] and "365 days" in results["PT-ISMS"]["reason"]


def test_document_named_by_kind_serves_every_requirement_that_needs_it(catalog, tmp_path):
    covers = "documents: [DOC-DRILL]"
    results = judge(catalog, folder(tmp_path, entry("d.txt", DRILL, covers=covers), {"d.txt": DRILL}))
    assert results["PT-DRILL"]["status"] == "pass"


def test_hash_mismatch_fails_and_says_so(catalog, tmp_path):
    path = folder(tmp_path, entry("drill.txt", DRILL), {"drill.txt": DRILL + b" (edited)"})
    result = judge(catalog, path)["PT-DRILL"]
    assert result["status"] == "fail" and "SHA-256 does not match" in result["reason"]


def test_expired_fails(catalog, tmp_path):
    path = folder(tmp_path, entry("drill.txt", DRILL, "2025-10-01", "2026-10-01"), {"drill.txt": DRILL})
    result = judge(catalog, path)["PT-DRILL"]
    assert result["status"] == "fail" and "expired on 2026-10-01" in result["reason"]


def test_older_than_the_documents_limit_fails_even_if_valid_until_is_later(catalog, tmp_path):
    path = folder(tmp_path, entry("drill.txt", DRILL, "2025-01-10", "2030-01-01"), {"drill.txt": DRILL})
    result = judge(catalog, path)["PT-DRILL"]
    assert result["status"] == "fail" and "days old (at most 365 days)" in result["reason"]


def test_dated_in_the_future_fails(catalog, tmp_path):
    path = folder(tmp_path, entry("drill.txt", DRILL, "2026-12-24", "2027-12-24"), {"drill.txt": DRILL})
    assert judge(catalog, path)["PT-DRILL"]["status"] == "fail"


def test_unreadable_file_is_an_error_never_a_pass(catalog, tmp_path):
    path = folder(tmp_path, entry("missing.txt", DRILL), {})
    result = judge(catalog, path)["PT-DRILL"]
    assert result["status"] == "error" and "cannot be read" in result["reason"]


def test_symlink_out_of_the_folder_is_an_error(catalog, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(DRILL)
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "link.txt").symlink_to(outside)
    result = judge(catalog, folder(ev, entry("link.txt", DRILL), {}))["PT-DRILL"]
    assert result["status"] == "error" and "outside the evidence folder" in result["reason"]


def test_a_newer_attestation_supersedes_an_expired_one_but_not_a_tampered_one(catalog, tmp_path):
    old, new = b"2025 minutes", b"2026 minutes"
    entries = entry("old.txt", old, "2025-10-01", "2026-10-01") + entry("new.txt", new)
    fine = {"old.txt": old, "new.txt": new}
    assert judge(catalog, folder(tmp_path / "a", entries, fine))["PT-DRILL"]["status"] == "pass"
    tampered = {"old.txt": old + b"!", "new.txt": new}
    assert judge(catalog, folder(tmp_path / "b", entries, tampered))["PT-DRILL"]["status"] == "fail"


def test_controls_are_judged_too(catalog, tmp_path):
    covers = 'iso27001: {"2013": [A.17.1.3], "2022": ["5.29"]}'
    results = judge(catalog, folder(tmp_path, entry("d.txt", DRILL, covers=covers), {"d.txt": DRILL}))
    assert results["iso27001:2013/A.17.1.3"]["status"] == "pass"
    assert results["iso27001:2022/5.29"]["status"] == "pass"
    assert results["iso27001:2013/A.17.1.1"]["status"] == "manual"  # same document kind, not named: not implied


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (entry("../etc/passwd", DRILL), "attestations[0].file", "inside the evidence folder"),
        (entry("/etc/passwd", DRILL), "attestations[0].file", "inside the evidence folder"),
        (entry("d.txt", DRILL, covers="documents: [DOC-NOPE]"), "attestations[0].documents[0]", "unknown document"),
        (entry("d.txt", DRILL, covers="plan: [PT-NOPE]"), "attestations[0].plan[0]", "unknown plan task"),
        (entry("d.txt", DRILL, covers='iso27001: {"2022": ["9.9"]}'), "iso27001.2022[0]", "not a control"),
        (entry("d.txt", DRILL, "2026-02-30"), "", "day is out of range"),
        (entry("d.txt", DRILL, '"2026-13-01"'), "attestations[0].date", "not a calendar date"),
        (entry("d.txt", DRILL, "2026-10-01", "2026-09-01"), "attestations[0].valid_until", "before the document"),
        (entry("d.txt", DRILL) + "  signed_by: x\n", "attestations[0]", "unknown key 'signed_by'"),
    ],
)
def test_bad_attestations_name_file_line_field(catalog, tmp_path, text, field, message):
    path = folder(tmp_path, text, {})
    with pytest.raises(InputError) as exc:
        load_attestations(path, catalog)
    assert message in str(exc.value) and f"{field}" in str(exc.value)
    assert "attestations.yaml:" in str(exc.value)


def test_missing_folder_or_file_is_bad_input(catalog, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        organisation.prepare(catalog, {"evidence_dir": str(tmp_path / "nope")})
    with pytest.raises(InputError, match=r"no attestations\.yaml"):
        organisation.prepare(catalog, {"evidence_dir": str(tmp_path)})


def test_when_the_run_asks_for_an_organisation_section(catalog):
    assert organisation.prepare(catalog, {"log_server": None}) is None  # baseline: not asked
    org = organisation.prepare(catalog, {"evidence_dir": None})  # agency: declared, no folder given
    assert org is not None
    part = org.section(TODAY)
    assert set(part["counts"]) == {"manual"}
    assert part["plan_tasks"]["PT-ISMS"] == "manual"


EXAMPLE_TASKS = ["PT-ISMS", "PT-POLICY", "PT-OFFICER", "PT-TRAINING", "PT-INCIDENT", "PT-ASSESSMENT", "PT-DRILL"]
EXAMPLE_TASKS.append("PT-SECRETS")


def test_example_evidence_folder(catalog, tmp_path):
    example = shutil.copytree(REPO / "evidence", tmp_path / "evidence")
    results = judge(catalog, example, EXAMPLES_WRITTEN)
    assert {t: results[t]["status"] for t in EXAMPLE_TASKS} == dict.fromkeys(EXAMPLE_TASKS, "pass")
    assert judge(catalog, example, dt.date(2027, 12, 1))["PT-DRILL"]["status"] == "fail"  # a year on: expired


@pytest.mark.parametrize("today", [EXAMPLES_WRITTEN, dt.date(2027, 12, 1), dt.date(2029, 2, 28), dt.date(2041, 6, 30)])
def test_the_tests_copy_of_the_examples_passes_on_any_day(catalog, tmp_path, today):
    """What tests judge instead of the repository's file: on the day they run, the example documents are as
    old and as far from expiry as when they were written, and the documents are the same bytes."""
    copy = example_evidence(tmp_path / "evidence", today)
    results = judge(catalog, copy, today)
    assert {t: results[t]["status"] for t in EXAMPLE_TASKS} == dict.fromkeys(EXAMPLE_TASKS, "pass")
    originals = judge(catalog, REPO / "evidence", EXAMPLES_WRITTEN)
    for task in EXAMPLE_TASKS:
        (moved,), (written,) = results[task]["evidence"], originals[task]["evidence"]
        assert (
            moved["sha256_found"] == written["sha256_found"] == sha((REPO / "evidence" / written["file"]).read_bytes())
        )
        assert (today - dt.date.fromisoformat(moved["date"])) == (
            EXAMPLES_WRITTEN - dt.date.fromisoformat(written["date"])
        )
    assert judge(catalog, copy, today + dt.timedelta(days=400))["PT-DRILL"]["status"] == "fail"  # still dates that age


def test_the_session_copy_of_the_examples_passes_today(catalog, example_evidence_dir):
    org = organisation.prepare(catalog, {"evidence_dir": str(example_evidence_dir)})
    results = {r["requirement"]: r for r in org.section()["results"]}  # the auditor's own today
    assert {t: results[t]["status"] for t in EXAMPLE_TASKS} == dict.fromkeys(EXAMPLE_TASKS, "pass")


def test_organisation_section_follows_the_results_schema(catalog, tmp_path):
    from auditor import results

    part = judge(catalog, folder(tmp_path, entry("drill.txt", DRILL), {"drill.txt": b"changed"}))
    org = organisation.prepare(catalog, {"evidence_dir": str(tmp_path)})
    document = results.build(
        {
            "id": "t",
            "started": "2026-11-23T12:00:00Z",
            "finished": "2026-11-23T12:00:01Z",
            "playbook": "agency",
            "params": {},
        },
        [],
    )
    document["organisation"] = org.section(TODAY)
    validate(document)
    assert part["PT-DRILL"]["status"] == "fail"
    assert organisation.status_of(document).count("fail") >= 1


def test_a_requirement_needs_every_document_and_nothing_is_not_a_pass():
    from auditor.model import Verdict

    assert organisation.all_documents([Verdict.PASS, Verdict.MANUAL]) == Verdict.MANUAL
    assert organisation.all_documents([Verdict.PASS, Verdict.ERROR, Verdict.FAIL]) == Verdict.FAIL
    assert organisation.all_documents([Verdict.PASS, Verdict.PASS]) == Verdict.PASS
    assert organisation.all_documents([]) == Verdict.MANUAL
