"""The history on real lab runs: two audits of the same hosts with a change made between them (root login
allowed on one host, the SSH host key of another replaced), then `history list`, `diff`, `trend` and
`history export` through the real command, their JSON checked exactly against the runs' results.json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.lab import Lab, host_name, lab_network

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
DRIFTED, REKEYED = host_name("compliant"), host_name("noncompliant")
ROOT_LOGIN = "LNX-SSH-ROOT-LOGIN-DISABLED"


@pytest.fixture(scope="module")
def history_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(("compliant", "noncompliant"), f"{bridge}h", subnet.replace(".0/24", ".192/26")) as the_lab:
        yield the_lab


def auditor(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args, "--db", db], cwd=REPO, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def fingerprint(public_key: Path) -> str:
    """What ssh-keygen says of the key: the independent reference for the auditor's ``host_key``."""
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(public_key)], capture_output=True, text=True, check=True)
    return "ssh-ed25519 " + listed.stdout.split()[1]


def replace_host_key(lab: Lab, name: str, keep: Path) -> None:
    """A new ed25519 host key on the host: sshd re-executes for each connection, which loads it."""
    host = lab.host(name)
    key = host.root / "etc/ssh/ssh_host_ed25519_key"
    keep.write_text(key.with_suffix(".pub").read_text())
    for path in (key, key.with_suffix(".pub")):
        path.unlink()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)


@pytest.fixture(scope="module")
def runs(history_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    top = tmp_path_factory.mktemp("history")
    db = f"sqlite:///{top / 'history.db'}"
    common = ["--inventory", str(history_lab.inventory), "--known-hosts", str(history_lab.known_hosts), "--no-network"]
    first = auditor("run", *common, "--output", str(top / "r1"), db=db)
    (history_lab.host(DRIFTED).root / "etc/ssh/sshd_config.d/00-drift.conf").write_text("PermitRootLogin yes\n")
    replace_host_key(history_lab, REKEYED, top / "old.pub")
    second = auditor("run", *common, "--output", str(top / "r2"), db=db)
    docs = [json.loads((top / r / "results.json").read_text()) for r in ("r1", "r2")]
    return {"db": db, "top": top, "docs": docs, "procs": [first, second]}


def command_json(runs: dict[str, Any], *args: str) -> Any:
    proc = auditor(*args, "--format", "json", db=runs["db"])
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_both_runs_recorded_without_a_history_error(runs: dict[str, Any]) -> None:
    for proc in runs["procs"]:
        assert "history store" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_host_key_is_the_one_the_host_presented(runs: dict[str, Any], history_lab: Lab) -> None:
    first, second = ({h["name"]: h for h in d["hosts"]} for d in runs["docs"])
    assert first[REKEYED]["host_key"] == fingerprint(runs["top"] / "old.pub")
    new_key = history_lab.host(REKEYED).root / "etc/ssh/ssh_host_ed25519_key.pub"
    assert second[REKEYED]["host_key"] == fingerprint(new_key) != first[REKEYED]["host_key"]
    assert "HOST KEY MISMATCH" in second[REKEYED]["error"]  # known_hosts still has the old key: refused
    assert first[DRIFTED]["host_key"] == second[DRIFTED]["host_key"] == f"ssh-ed25519 {_fp(history_lab, DRIFTED)}"


def _fp(lab: Lab, name: str) -> str:
    return fingerprint(lab.host(name).root / "etc/ssh/ssh_host_ed25519_key.pub").split()[1]


def test_history_list(runs: dict[str, Any]) -> None:
    expected = [
        {
            "id": d["run"]["id"],
            "started": d["run"]["started"],
            "finished": d["run"]["finished"],
            "playbook": "baseline",
            "inventory": d["run"]["inventory"],
            "score": d["score"]["value"],
            "coverage": d["score"]["coverage"],
            "hosts": 2,
            "complete": True,
        }
        for d in reversed(runs["docs"])
    ]
    assert command_json(runs, "history", "list") == expected


def test_diff(runs: dict[str, Any], history_lab: Lab) -> None:
    first, second = runs["docs"]
    before = {(h["name"], r["check"]): r["status"] for h in first["hosts"] for r in h["results"]}
    after = {(h["name"], r["check"]): r["status"] for h in second["hosts"] for r in h["results"]}
    tasks_before = {(h["name"], t): v for h in first["hosts"] for t, v in h["plan_tasks"].items()}
    tasks_after = {(h["name"], t): v for h in second["hosts"] for t, v in h["plan_tasks"].items()}
    expected = {
        "from": first["run"]["id"],
        "to": second["run"]["id"],
        "changes": [
            {"host": h, "check": c, "before": before[(h, c)], "after": after[(h, c)]}
            for h, c in sorted(before.keys() & after.keys())
            if before[(h, c)] != after[(h, c)]
        ],
        "plan_task_changes": [
            {"host": h, "plan_task": t, "before": tasks_before[(h, t)], "after": tasks_after[(h, t)]}
            for h, t in sorted(tasks_before.keys() & tasks_after.keys())
            if tasks_before[(h, t)] != tasks_after[(h, t)]
        ],
        "hosts_added": [],
        "hosts_removed": [],
        "host_keys_changed": [
            {
                "host": REKEYED,
                "before": fingerprint(runs["top"] / "old.pub"),
                "after": fingerprint(history_lab.host(REKEYED).root / "etc/ssh/ssh_host_ed25519_key.pub"),
            }
        ],
    }
    assert command_json(runs, "diff") == expected
    assert command_json(runs, "diff", first["run"]["id"], second["run"]["id"]) == expected
    # The drift made on the host is there, and nothing moved on it but what the drift explains.
    drifted = [c for c in expected["changes"] if c["host"] == DRIFTED]
    assert {"host": DRIFTED, "check": ROOT_LOGIN, "before": "pass", "after": "fail"} in drifted
    assert {c["check"] for c in drifted} <= {ROOT_LOGIN, "LNX-SSH-HARDENED"}, drifted
    # The rekeyed host was refused before login: every check it had is now `error`, never a pass.
    assert {c["after"] for c in expected["changes"] if c["host"] == REKEYED} == {"error"}


def test_trend(runs: dict[str, Any]) -> None:
    expected = [
        {
            "id": d["run"]["id"],
            "started": d["run"]["started"],
            "score": d["score"]["value"],
            "coverage": d["score"]["coverage"],
            "counts": dict(sorted(Counter(r["status"] for h in d["hosts"] for r in h["results"]).items())),
        }
        for d in runs["docs"]
    ]
    assert command_json(runs, "trend") == expected
    per_check = command_json(runs, "trend", "--check", ROOT_LOGIN, "--last", "5")
    assert [p["counts"] for p in per_check] == [
        dict(sorted(Counter(r["status"] for h in d["hosts"] for r in h["results"] if r["check"] == ROOT_LOGIN).items()))
        for d in runs["docs"]
    ]


def test_export_gives_back_each_results_json(runs: dict[str, Any]) -> None:
    for n, doc in enumerate(runs["docs"]):
        out = runs["top"] / f"export{n}"
        proc = auditor("history", "export", doc["run"]["id"], "--output", str(out), db=runs["db"])
        assert proc.returncode == 0, proc.stderr
        assert json.loads((out / "results.json").read_text()) == doc
        assert (out / "report.html").exists()


def test_second_report_shows_the_key_change_since_the_last_run(runs: dict[str, Any]) -> None:
    html = (runs["top"] / "r2/report.html").read_text()
    assert 'id="since-last-run"' in html and 'id="since-host-keys">1<' in html
    assert 'id="trend-chart"' in html
    assert 'id="since-last-run"' not in (runs["top"] / "r1/report.html").read_text()
