"""The findings register across three real lab runs (compliant1, noncompliant1) recorded into one temporary store.

Before the first run root login is allowed on compliant1; it is forbidden again before the second: that
finding is fixed. The third run is given a waiver for noncompliant1's USB storage failure: that finding is
waived. noncompliant1's other failures stay open. ``auditor findings --format json`` is checked exactly
against a register recomputed here, by hand, from the three runs' results.json; then the officer's
findings file, the text/CSV/XLSX forms, the report's failure section, and ``soa --run`` against
``soa --results`` of the same run.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.lab import Lab, host_name, lab_network

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
GOOD, BAD = host_name("compliant"), host_name("noncompliant")
USB, ROOT_LOGIN = "LNX-USB-STORAGE-BLOCKED", "LNX-SSH-ROOT-LOGIN-DISABLED"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
DRIFT = "etc/ssh/sshd_config.d/00-findings-drift.conf"


@pytest.fixture(scope="module")
def findings_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(("compliant", "noncompliant"), f"{bridge}j", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


def auditor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def _day(offset: int) -> str:
    return (dt.datetime.now(VIETNAM).date() + dt.timedelta(days=offset)).isoformat()


WAIVER = {
    "id": "W-FINDINGS-USB", "checks": [USB], "hosts": [BAD], "type": "risk_accepted",
    "justification": "Máy tra cứu công cộng, cổng USB bị bịt vật lý", "requested_by": "Nguyễn Văn A",
    "approved_by": "Trần Thị B", "approved_on": _day(-5), "expires": _day(60),
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(findings_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    top = tmp_path_factory.mktemp("findings")
    db = f"sqlite:///{top / 'history.db'}"
    common = ["--inventory", str(findings_lab.inventory), "--known-hosts", str(findings_lab.known_hosts),
              "--no-network", "--db", db]  # fmt: skip
    drift = findings_lab.host(GOOD).root / DRIFT
    drift.write_text("PermitRootLogin yes\n")
    procs = [auditor("run", *common, "--output", str(top / "r1"))]
    drift.unlink()
    procs.append(auditor("run", *common, "--output", str(top / "r2")))
    waivers = top / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [WAIVER]}, allow_unicode=True), encoding="utf-8")
    procs.append(auditor("run", *common, "--waivers", str(waivers), "--output", str(top / "r3")))
    for n, proc in enumerate(procs, start=1):
        assert (top / f"r{n}" / "results.json").exists(), proc.stderr[-3000:]
        assert "history store" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    docs = [json.loads((top / f"r{n}" / "results.json").read_text(encoding="utf-8")) for n in (1, 2, 3)]
    return {"db": db, "top": top, "docs": docs}


def _id(host: str, check: str) -> str:
    return "F-" + hashlib.sha256(f"{host}\n{check}".encode()).hexdigest()[:10].upper()


def by_hand(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The register as the rules state it, from the three results.json alone (one playbook and inventory)."""
    seen: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for doc in docs:
        for host in doc["hosts"]:
            for r in host["results"]:
                seen.setdefault((host["name"], r["check"]), []).append((doc["run"], r))
    register = []
    for (host, check), history in seen.items():
        failed = [(run, r) for run, r in history if r["status"] == "fail" or r.get("waived_status") == "fail"]
        if not failed:
            continue
        latest = history[-1][1]
        status = {"pass": "fixed", "waived": "waived"}.get(latest["status"], "open")
        register.append(
            {
                "id": _id(host, check),
                "host": host,
                "check": check,
                "title": latest["title"]["vi"],
                "severity": latest["severity"],
                "status": status,
                "first_seen": {"run": failed[0][0]["id"], "time": failed[0][0]["started"]},
                "last_seen": {"run": failed[-1][0]["id"], "time": failed[-1][0]["started"]},
                "open_days": 0,  # three runs within minutes
                "owner": None,
                "due": None,
                "waiver": latest.get("waiver") if status == "waived" else None,
            }
        )
    rank = ["critical", "high", "medium", "low", "info"]
    order = ["open", "waived", "fixed"]
    return sorted(register, key=lambda f: (order.index(f["status"]), rank.index(f["severity"]), f["host"], f["check"]))


def findings_json(runs: dict[str, Any], *args: str) -> list[dict[str, Any]]:
    proc = auditor("findings", "--db", runs["db"], "--format", "json", *args)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_the_register_of_three_runs(runs: dict[str, Any]) -> None:
    register = findings_json(runs)
    assert register == by_hand(runs["docs"])
    found = {(f["host"], f["check"]): f for f in register}
    first, second, third = (d["run"] for d in runs["docs"])
    fixed, waived = found[GOOD, ROOT_LOGIN], found[BAD, USB]
    assert (fixed["status"], fixed["first_seen"]["run"], fixed["last_seen"]["run"]) == (
        "fixed",
        first["id"],
        first["id"],
    )
    assert (waived["status"], waived["first_seen"]["run"], waived["last_seen"]["run"]) == (
        "waived", first["id"], third["id"],
    )  # fmt: skip
    assert waived["waiver"] == {"id": "W-FINDINGS-USB", "type": "risk_accepted", "approved_by": "Trần Thị B",
                                "expires": _day(60)}  # fmt: skip
    opened = found[BAD, ROOT_LOGIN]
    assert (opened["status"], opened["first_seen"]["time"], opened["last_seen"]["time"]) == (
        "open", first["started"], third["started"],
    )  # fmt: skip
    assert {"open", "waived", "fixed"} == {f["status"] for f in register}
    assert all(f["id"] == _id(f["host"], f["check"]) for f in register)
    assert second["id"] not in {f["first_seen"]["run"] for f in register}
    assert findings_json(runs, "--status", "waived") == [waived]
    assert findings_json(runs, "--status", "fixed") == [fixed]


def test_owner_and_due_from_the_officers_file(runs: dict[str, Any]) -> None:
    opened = _id(BAD, ROOT_LOGIN)
    path = runs["top"] / "findings.yaml"
    path.write_text(
        f"findings:\n  - id: {opened}\n    owner: Nguyễn Văn A\n    due: 2027-01-31\n  - id: F-0000000000\n",
        encoding="utf-8",
    )
    proc = auditor("findings", "--db", runs["db"], "--format", "json", "--findings", str(path), "--status", "open")
    assert proc.returncode == 0, proc.stderr
    found = {f["id"]: f for f in json.loads(proc.stdout)}
    assert (found[opened]["owner"], found[opened]["due"]) == ("Nguyễn Văn A", "2027-01-31")
    assert proc.stderr.strip() == f"{path}: F-0000000000: no such finding in the history (unused)"
    path.write_text(f"findings:\n  - id: {opened}\n    owner: A\n  - id: {opened}\n", encoding="utf-8")
    proc = auditor("findings", "--db", runs["db"], "--findings", str(path))
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"error: {path}:4: findings[1].id: {opened} is already listed at line 2"
    ), proc.stderr


def test_text_csv_and_xlsx_forms(runs: dict[str, Any]) -> None:
    register = findings_json(runs)
    proc = auditor("findings", "--db", runs["db"])
    assert proc.returncode == 0 and [line.split("\t")[0] for line in proc.stdout.splitlines()] == [
        f["id"] for f in register
    ]
    out = runs["top"] / "findings.csv"
    proc = auditor("findings", "--db", runs["db"], "--format", "csv", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["id"], r["status"], r["waiver_id"]) for r in table] == [
        (f["id"], f["status"], (f["waiver"] or {}).get("id", "")) for f in register
    ]
    openpyxl = pytest.importorskip("openpyxl")
    out = runs["top"] / "findings.xlsx"
    proc = auditor("findings", "--db", runs["db"], "--format", "xlsx", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    sheet = openpyxl.load_workbook(out).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [f["id"] for f in register]
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref


def test_the_report_shows_finding_ids_and_open_days(runs: dict[str, Any]) -> None:
    html = (runs["top"] / "r3" / "report.html").read_text(encoding="utf-8")
    assert f'data-host="{BAD}">{BAD} <b>{_id(BAD, ROOT_LOGIN)}</b> · đã mở 0 ngày</span>' in html
    assert _id(GOOD, ROOT_LOGIN) not in html  # fixed before this run
    first = (runs["top"] / "r1" / "report.html").read_text(encoding="utf-8")
    assert f'data-host="{GOOD}">{GOOD} <b>{_id(GOOD, ROOT_LOGIN)}</b>' in first


def test_soa_of_a_stored_run_equals_the_soa_of_its_results(runs: dict[str, Any]) -> None:
    third = runs["docs"][2]["run"]["id"]
    a, b = runs["top"] / "soa-run.json", runs["top"] / "soa-results.json"
    proc = auditor("soa", "--run", third, "--db", runs["db"], "--edition", "2022", "--format", "json", "-o", str(a))
    assert proc.returncode == 0, proc.stderr
    results = str(runs["top"] / "r3" / "results.json")
    proc = auditor("soa", "--results", results, "--edition", "2022", "--format", "json", "-o", str(b))
    assert proc.returncode == 0, proc.stderr
    stored = json.loads(a.read_text(encoding="utf-8"))
    assert stored == json.loads(b.read_text(encoding="utf-8")) and len(stored["controls"]) == 93
    assert stored["controls"] and any(c["waivers"]["ids"] == ["W-FINDINGS-USB"] for c in stored["controls"])
    proc = auditor("soa", "--run", "no-such-run", "--db", runs["db"], "--edition", "2022", "-o", str(a))
    assert proc.returncode == 2 and "no run 'no-such-run' in the history" in proc.stderr, proc.stderr
