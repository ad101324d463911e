"""The findings register read from a real store, SQLite and PostgreSQL (``store_url``): the same register as
the pure derivation gives, and the report's view as of one run (none of the later runs counted)."""

from __future__ import annotations

from auditor.history.findings import finding_id, register_of, report_findings
from auditor.history.store import Store
from tests.integration.test_history_store import CHECKS, document

SSH, AV, FW = CHECKS


def test_register_and_report_view(store_url: str) -> None:
    store = Store(store_url)
    store.record(document("r1", "2026-01-01T00:00:00Z", {"web01": {SSH: "fail", AV: "fail", FW: "pass"}}))
    store.record(document("r2", "2026-01-03T00:00:00Z", {"web01": {SSH: "pass", AV: "fail", FW: "fail"}}))
    store.record(document("r3", "2026-01-06T00:00:00Z", {"web01": {SSH: "pass", AV: "fail", FW: "error"}}))
    register = register_of(store, "2026-01-11T00:00:00Z", lang="en")
    assert [(f["check"], f["status"], f["first_seen"]["run"], f["last_seen"]["run"], f["open_days"])
            for f in register] == [
        (AV, "open", "r1", "r3", 10), (FW, "open", "r2", "r2", 8), (SSH, "fixed", "r1", "r1", 2),
    ]  # fmt: skip
    assert register[0]["id"] == finding_id("web01", AV) and register[0]["title"] != AV
    as_of_r2 = report_findings(store, "r2")  # open days until r2's end; r3 not counted
    assert {k: (f["id"], f["open_days"]) for k, f in as_of_r2.items()} == {
        ("web01", AV): (finding_id("web01", AV), 2),
        ("web01", FW): (finding_id("web01", FW), 0),
    }
    assert report_findings(store, "no-such-run") == {}
    # A waived failure: still a finding, waived in the register, with its open days in the report.
    waived = document("r4", "2026-01-08T00:00:00Z", {"web01": {SSH: "pass", AV: "fail", FW: "pass"}})
    result = waived["hosts"][0]["results"][1]
    waiver = {"id": "W-1", "type": "risk_accepted", "approved_by": "B", "expires": "2026-12-31"}
    result.update(status="waived", waived_status="fail", waiver=waiver)
    store.record(waived)
    assert report_findings(store, "r4") == {("web01", AV): {"id": finding_id("web01", AV), "open_days": 7}}
    by_check = {f["check"]: f for f in register_of(store, "2026-01-11T00:00:00Z")}
    assert (by_check[AV]["status"], by_check[AV]["last_seen"]["run"], by_check[AV]["waiver"]) == (
        "waived",
        "r4",
        waiver,
    )
    assert by_check[FW]["status"] == "fixed"
    store.close()
