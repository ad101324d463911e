"""Waivers: the file's rules (file:line:field for every mistake), expiry at the end of the day in Viet Nam
on the auditor's clock, and what applying them does to results, scores and results.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from auditor import waivers as w
from auditor.catalog import load_catalog
from auditor.errors import InputError
from auditor.model import CheckResult, Host, HostResult, Verdict
from auditor.results import build, validate

AT = "2026-12-07T00:00:00Z"
GOOD = """\
waivers:
  - id: W-2026-001
    checks: [LNX-USB-STORAGE-BLOCKED]
    hosts: [kiosk01, workstations]
    type: risk_accepted
    justification: "Máy tra cứu công cộng, cổng USB bị bịt vật lý"
    requested_by: Nguyễn Văn A
    approved_by: Trần Thị B
    approved_on: 2026-11-01
    expires: 2027-03-31
  - id: W-2026-002
    checks: ["LNX-SSH-*"]
    hosts: all
    type: compensating_control
    justification: Bastion only
    requested_by: A
    approved_by: B
    approved_on: 2026-01-01
    expires: 2026-06-30
"""


def utc(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def load(tmp_path: Path, text: str, max_days: int = 365) -> list[w.Waiver]:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return w.load_file(path, load_catalog(), max_days)


def test_a_good_file_loads_with_where_each_waiver_is(tmp_path: Path) -> None:
    first, second = load(tmp_path, GOOD)
    assert first.id == "W-2026-001" and first.hosts == ("kiosk01", "workstations")
    assert first.expires == dt.date(2027, 3, 31) and first.where.endswith("waivers.yaml:2")
    assert second.hosts == ("all",) and second.where.endswith(":11")


@pytest.mark.parametrize(
    ("edit", "line", "field", "words"),
    [
        (("approved_by: B", "approved_by: ' a '"), 17, "waivers[1].approved_by", "another person"),
        (("LNX-USB-STORAGE-BLOCKED", "LNX-NO-SUCH"), 3, "waivers[0].checks[0]", "unknown check"),
        (('"LNX-SSH-*"', '"NOPE-*"'), 12, "waivers[1].checks[0]", "unknown check"),
        (("expires: 2027-03-31", "expires: 2027-11-02"), 10, "waivers[0].expires", "at most 365 days"),
        (("expires: 2027-03-31", "expires: 2026-10-31"), 10, "waivers[0].expires", "before approved_on"),
        (("    justification: Bastion only\n", ""), 11, "waivers[1].justification", "missing"),
        (("justification: Bastion only", "justification: '  '"), 15, "waivers[1].justification", "empty"),
        (("    expires: 2026-06-30\n", ""), 11, "waivers[1].expires", "missing"),
        (("type: risk_accepted", "type: accepted"), 5, "waivers[0].type", "is not one of"),
        (("expires: 2026-06-30", "expires: 2026-02-30"), 19, None, "invalid YAML value"),
        (("id: W-2026-002", "id: W-2026-001"), 11, "waivers[1].id", "already declared"),
        (("approved_on: 2026-01-01", "approved_on: 2036-01-01"), 18, "waivers[1].approved_on", "not approved yet"),
        (
            ("    type: risk_accepted\n", "    type: risk_accepted\n    owner: x\n"),
            6,
            "waivers[0].owner",
            "unknown key",
        ),
    ],
)
def test_a_bad_waiver_is_named_by_file_line_and_field(
    tmp_path: Path, edit: tuple[str, str], line: int | None, field: str | None, words: str
) -> None:
    assert edit[0] in GOOD
    with pytest.raises(InputError) as caught:
        load(tmp_path, GOOD.replace(edit[0], edit[1], 1))
    error = caught.value
    assert error.exit_code == 2 and words in error.message, str(error)
    assert error.file is not None and error.file.endswith("waivers.yaml")
    assert (error.line, error.field) == (line, field), str(error)


def test_waiver_max_days_is_a_parameter(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="at most 90 days"):
        load(tmp_path, GOOD, max_days=90)


def test_a_waiver_ends_at_the_end_of_its_day_in_viet_nam() -> None:
    (waiver,) = [x for x in w_items() if x.id == "W-2026-001"]
    # 2027-03-31 24:00 in Ha Noi is 17:00 UTC that day.
    assert waiver.active(utc("2027-03-31T16:59:59Z"))
    assert not waiver.active(utc("2027-03-31T17:00:00Z"))
    assert waiver.days_left(utc("2027-03-31T16:59:59Z")) == 0
    # 2027-03-31 18:00 UTC is already 1 April in Viet Nam: a day past.
    assert waiver.days_left(utc("2027-03-31T18:00:00Z")) == -1


def w_items() -> list[w.Waiver]:
    def one(wid: str, checks: tuple[str, ...], hosts: tuple[str, ...], expires: str) -> w.Waiver:
        return w.Waiver(wid, checks, hosts, "risk_accepted", "why", "A", "B", dt.date(2026, 11, 1),
                        dt.date.fromisoformat(expires), f"waivers.yaml:{len(wid)}")  # fmt: skip

    return [
        one("W-2026-001", ("LNX-USB-STORAGE-BLOCKED",), ("kiosk01", "workstations"), "2027-03-31"),
        one("W-EXPIRED", ("LNX-AV-SIGNATURES-FRESH",), ("all",), "2026-12-06"),
        one("W-SOON", ("LNX-FIREWALL-*",), ("all",), "2026-12-31"),
        one("W-LATER", ("LNX-FIREWALL-EFFECTIVE",), ("all",), "2027-05-31"),
        one("W-PASS", ("LNX-SSH-ROOT-LOGIN-DISABLED",), ("all",), "2027-05-31"),
        one("W-NOBODY", ("LNX-IDS-RUNNING",), ("printer9",), "2027-05-31"),
    ]


def run_hosts() -> list[HostResult]:
    checks = load_catalog().checks

    def result(cid: str, verdict: Verdict) -> CheckResult:
        return CheckResult(checks[cid], verdict, f"{cid} is {verdict}", [])

    verdicts = {
        "LNX-USB-STORAGE-BLOCKED": Verdict.FAIL,
        "LNX-AV-SIGNATURES-FRESH": Verdict.FAIL,
        "LNX-FIREWALL-EFFECTIVE": Verdict.ERROR,
        "LNX-SSH-ROOT-LOGIN-DISABLED": Verdict.PASS,
        "LNX-IDS-RUNNING": Verdict.UNKNOWN,
    }
    kiosk = Host("kiosk01", "10.1.0.1", groups=["workstations"])
    web = Host("web01", "10.1.0.2", groups=["servers"])
    return [HostResult(h, "reachable", None, [result(c, v) for c, v in verdicts.items()], AT, AT) for h in (kiosk, web)]


def test_applying_waivers() -> None:
    hosts = run_hosts()
    section = w.apply(hosts, w.Waivers(w_items(), ["waivers.yaml"]), utc("2026-12-07T02:00:00Z"))
    by = {(h.host.name, r.check.id): r for h in hosts for r in h.results}
    usb = by["kiosk01", "LNX-USB-STORAGE-BLOCKED"]
    assert (usb.status, usb.waived_status, usb.waiver) == (
        Verdict.WAIVED,
        Verdict.FAIL,
        {"id": "W-2026-001", "type": "risk_accepted", "approved_by": "B", "expires": "2027-03-31"},
    )
    assert usb.reason == "LNX-USB-STORAGE-BLOCKED is fail"  # the real reason stays
    assert by["web01", "LNX-USB-STORAGE-BLOCKED"].status == Verdict.FAIL  # neither its name nor its group
    assert by["kiosk01", "LNX-AV-SIGNATURES-FRESH"].status == Verdict.FAIL  # expired: the verdict stands
    assert by["kiosk01", "LNX-AV-SIGNATURES-FRESH"].waiver is None
    firewall = by["web01", "LNX-FIREWALL-EFFECTIVE"]  # two cover it: the first in file order names it
    assert (firewall.status, firewall.waived_status, firewall.waiver["id"]) == (Verdict.WAIVED, Verdict.ERROR, "W-SOON")
    assert by["web01", "LNX-SSH-ROOT-LOGIN-DISABLED"].status == Verdict.PASS  # a pass is never touched
    assert by["web01", "LNX-SSH-ROOT-LOGIN-DISABLED"].waiver is None
    assert section["expired"] == ["W-EXPIRED"]
    assert section["expiring"] == ["W-SOON"]  # 24 days left, within 30
    assert section["unused"] == ["W-LATER", "W-PASS", "W-NOBODY"]
    items = {i["id"]: i for i in section["items"]}
    assert (items["W-PASS"]["matched"], items["W-PASS"]["waived"]) == (2, 0)
    assert (items["W-EXPIRED"]["matched"], items["W-EXPIRED"]["waived"]) == (2, 0)
    assert items["W-SOON"]["waived_hosts"] == ["kiosk01", "web01"] and items["W-SOON"]["days_left"] == 24

    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, hosts)
    document["waivers"] = section
    validate(document)
    # A waived result is out of the score: kiosk01 scores its pass against its fail and unknown only.
    kiosk = document["hosts"][0]
    assert [r["status"] for r in kiosk["results"]] == ["waived", "fail", "waived", "pass", "unknown"]
    weights = {r["check"]: {"critical": 10, "high": 5, "medium": 3, "low": 1}[r["severity"]] for r in kiosk["results"]}
    scored = ["LNX-AV-SIGNATURES-FRESH", "LNX-SSH-ROOT-LOGIN-DISABLED", "LNX-IDS-RUNNING"]
    assert kiosk["score"] == round(100 * weights["LNX-SSH-ROOT-LOGIN-DISABLED"] / sum(weights[c] for c in scored), 1)
    json.dumps(document)


def test_a_host_that_could_not_be_audited_keeps_its_errors() -> None:
    hosts = run_hosts()
    hosts[0].status, hosts[0].error = "unreachable", "ssh: connection timed out"
    for r in hosts[0].results:
        r.status = Verdict.ERROR
    section = w.apply(hosts, w.Waivers(w_items(), ["waivers.yaml"]), utc("2026-12-07T02:00:00Z"))
    assert all(r.status == Verdict.ERROR and r.waiver is None for r in hosts[0].results)
    items = {i["id"]: i for i in section["items"]}
    assert items["W-2026-001"]["waived"] == 0 and items["W-2026-001"]["matched"] == 1


def test_the_schema_wants_a_waived_result_to_name_its_waiver() -> None:
    hosts = run_hosts()
    w.apply(hosts, w.Waivers(w_items(), ["waivers.yaml"]), utc("2026-12-07T02:00:00Z"))
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, hosts)
    validate(document)
    waived = document["hosts"][0]["results"][0]
    del waived["waiver"]
    with pytest.raises(jsonschema.ValidationError):
        validate(document)
    passed = document["hosts"][0]["results"][3]
    passed["waived_status"] = "fail"
    waived["waiver"] = {"id": "W", "type": "risk_accepted", "approved_by": "B", "expires": "2027-01-01"}
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_sources_are_merged_and_an_id_in_two_is_refused(tmp_path: Path) -> None:
    catalog = load_catalog()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "waivers.yaml").write_text(GOOD, encoding="utf-8")
    given = tmp_path / "more.yaml"
    given.write_text(GOOD.replace("W-2026-00", "W-2027-00"), encoding="utf-8")
    found = w.prepare(catalog, None, {"evidence_dir": str(evidence)}, str(given))
    assert found is not None and [x.id for x in found.items] == ["W-2026-001", "W-2026-002", "W-2027-001", "W-2027-002"]
    assert w.prepare(catalog, None, {}, None) is None
    given.write_text(GOOD, encoding="utf-8")
    with pytest.raises(InputError, match="already declared") as caught:
        w.prepare(catalog, None, {"evidence_dir": str(evidence)}, str(given))
    assert caught.value.file == str(given) and caught.value.line == 2


def test_a_playbook_names_a_waiver_file_beside_it_or_lists_waivers(tmp_path: Path) -> None:
    from auditor.errors import PlaybookError
    from auditor.yamlsource import load_yaml

    catalog = load_catalog()
    (tmp_path / "w.yaml").write_text(GOOD, encoding="utf-8")
    book = tmp_path / "book.yaml"
    book.write_text("name: b\nwaivers: w.yaml\nplays: [{hosts: [all]}]\n", encoding="utf-8")
    found = w.prepare(catalog, load_yaml(book, PlaybookError), {}, None)
    assert found is not None and found.sources == [str(tmp_path / "w.yaml")] and len(found.items) == 2
    inline = "name: b\nplays: [{hosts: [all]}]\n" + GOOD.replace("approved_by: B", "approved_by: A")
    book.write_text(inline, encoding="utf-8")
    with pytest.raises(InputError) as caught:  # the playbook's own line and field
        w.prepare(catalog, load_yaml(book, PlaybookError), {}, None)
    assert (caught.value.file, caught.value.line, caught.value.field) == (str(book), 19, "waivers[1].approved_by")
    book.write_text("name: b\nwaivers: {id: x}\nplays: [{hosts: [all]}]\n", encoding="utf-8")
    with pytest.raises(InputError, match="a list of waivers or the name of a file"):
        w.prepare(catalog, load_yaml(book, PlaybookError), {}, None)
