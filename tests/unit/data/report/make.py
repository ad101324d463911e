"""Writes results.json here: a small run through the real builder (auditor.results.build).

    python tests/unit/data/report/make.py

Four hosts; every verdict occurs; one host's strings are hostile; one host is down.
``results-v1.json`` beside it is the same run as schema ``auditor.results/1`` wrote it (every command
inline): kept as it is, never regenerated, so the tests prove an old results.json still renders.
The catalog's checks are used with their real ids, controls and plan tasks; statuses,
reasons and evidence are set here so each rule of the score formula is exercised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from auditor.catalog import load_catalog  # noqa: E402
from auditor.model import CheckResult, Evidence, Host, HostResult, Severity, Verdict  # noqa: E402
from auditor.results import build, validate, write_json  # noqa: E402
from auditor.waivers import Waiver, Waivers, apply  # noqa: E402

AT = "2026-01-05T08:00:00Z"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
PLAN = [  # (check id, severity override, verdict, reason)
    ("LNX-SSH-ROOT-LOGIN-DISABLED", Severity.CRITICAL, Verdict.PASS, "permitrootlogin = no"),
    ("LNX-AV-INSTALLED", Severity.HIGH, Verdict.PASS, "anti-virus packages installed is 'clamav'"),
    ("LNX-AV-SIGNATURES-FRESH", Severity.HIGH, Verdict.FAIL, "daily.cud is 30 days old (limit 7)"),
    ("LNX-FIREWALL-EFFECTIVE", Severity.MEDIUM, Verdict.ERROR, "nft: permission denied"),
    ("LNX-IDS-RUNNING", Severity.LOW, Verdict.UNKNOWN, "the process table could not be read"),
    ("LNX-LOG-FORWARDED", Severity.CRITICAL, Verdict.NOT_APPLICABLE, "not applicable: parameter log_server is not set"),
    ("LNX-USB-STORAGE-BLOCKED", Severity.HIGH, Verdict.MANUAL, "a person must show the USB policy"),
    # fails, and waivers.apply makes it waived on the hosts W-FIX-1 covers (every host but down01)
    ("LNX-LOG-DAEMON-RUNNING", Severity.HIGH, Verdict.FAIL, "no syslog daemon runs"),
]
FIXED_NOW = 1767600000.0  # 2026-01-05T08:00:00Z, the run's time: waiver states do not move with the calendar


def waivers() -> Waivers:
    def waiver(wid: str, check: str, hosts: tuple[str, ...], kind: str, on: str, expires: str, line: int) -> Waiver:
        return Waiver(
            wid, (check,), hosts, kind, "Máy chủ nhật ký mới đang lắp đặt", "Nguyễn Văn A", "Trần Thị B",
            dt.date.fromisoformat(on), dt.date.fromisoformat(expires), f"waivers.yaml:{line}",
        )  # fmt: skip

    return Waivers(
        [
            waiver("W-FIX-0", "LNX-AV-SIGNATURES-FRESH", ("all",), "risk_accepted", "2025-06-01", "2025-12-31", 2),
            waiver(
                "W-FIX-1",
                "LNX-LOG-DAEMON-RUNNING",
                ("servers", "pcs"),
                "compensating_control",
                "2025-12-01",
                "2026-01-20",
                11,
            ),
            waiver("W-FIX-2", "LNX-IDS-*", ("kiosk01",), "false_positive", "2025-12-01", "2026-06-30", 20),
        ],  # fmt: skip
        ["waivers.yaml"],
    )


def results_for(checks: dict, verdicts: list[Verdict], output: str) -> list[CheckResult]:
    out = []
    for (cid, severity, _, reason), verdict in zip(PLAN, verdicts, strict=True):
        check = dataclasses.replace(checks[cid], severity=severity)
        evidence = [] if verdict == Verdict.NOT_APPLICABLE else [Evidence(f"/bin/sh -s: probe {cid}", 0, output, AT)]
        text = reason if verdict == PLAN[len(out)][2] else f"{reason} ({verdict})"
        out.append(CheckResult(check, verdict, text, evidence))
    return out


def main() -> None:
    checks = load_catalog().checks
    mine = [v for _, _, v, _ in PLAN]
    web = Host("web01", "10.0.0.5", level=3, groups=["servers"])
    db = Host("db01", "10.0.0.6", level=5, groups=["servers"])
    evil = Host(HOSTILE, HOSTILE, groups=["pcs"])
    down = Host("down01", "10.0.0.9", level=3)
    hosts = [
        HostResult(web, "reachable", None, results_for(checks, mine, "SSH-2.0-OpenSSH_9.2p1 Debian-2"), AT, AT),
        HostResult(db, "reachable", None, results_for(checks, [Verdict.PASS] * 5 + mine[5:], "ok"), AT, AT),
        HostResult(
            evil,
            "reachable",
            None,
            [
                dataclasses.replace(r, reason=f"{HOSTILE} {r.reason}")
                for r in results_for(checks, [Verdict.FAIL] * 5 + mine[5:], f"banner: {HOSTILE}\x1b[0m\x00")
            ],
            AT,
            AT,
        ),
        HostResult(
            down,
            "unreachable",
            "ssh: connection timed out",
            [
                CheckResult(dataclasses.replace(checks[c], severity=s), Verdict.ERROR, "ssh: connection timed out", [])
                for c, s, _, _ in PLAN
            ],
            AT,
            AT,
        ),
    ]
    run = {"id": "fixture-1", "started": AT, "finished": AT, "playbook": "baseline", "params": {}, "inventory": "x"}
    section = apply(hosts, waivers(), FIXED_NOW)
    document = build(run, hosts)
    document["waivers"] = section
    validate(document)
    write_json(HERE / "results.json", document)


if __name__ == "__main__":
    main()
