"""A synthetic run of N hosts × M checks, built through the real results builder (auditor.results.build).

The checks are the catalog's, cloned with numbered ids to reach M; verdicts, reasons and
evidence are drawn from a seeded generator so every run of the bench sees the same data.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from auditor.catalog import load_catalog
from auditor.model import CheckResult, Evidence, Host, HostResult, Severity, Verdict
from auditor.results import build

VERDICT_WEIGHTS = {
    Verdict.PASS: 70,
    Verdict.FAIL: 18,
    Verdict.ERROR: 3,
    Verdict.UNKNOWN: 1,
    Verdict.NOT_APPLICABLE: 6,
    Verdict.MANUAL: 1,
    Verdict.WAIVED: 1,
}
REASONS = {
    Verdict.PASS: ["ok"],
    Verdict.FAIL: [
        "daily.cud is {n} days old (limit 7)",
        "input chain loaded = False, expected = True (no input chain is loaded)",
        "syslog daemons running is empty",
        "permitrootlogin = yes, expected = no",
    ],
    Verdict.ERROR: ["sudo: a password is required", "timeout after 30 s"],
    Verdict.UNKNOWN: ["the output does not decide the question"],
    Verdict.NOT_APPLICABLE: ["not applicable: parameter log_server is not set"],
    Verdict.MANUAL: ["a person must supply the evidence"],
    Verdict.WAIVED: ["waived until 2027-01-01 by the CISO"],
}
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def checks(count: int) -> list[Any]:
    base = list(load_catalog().checks.values())
    out = []
    for i in range(count):
        c = base[i % len(base)]
        out.append(dataclasses.replace(c, id=f"{c.id}-{i:02d}", severity=SEVERITIES[i % 4]))
    return out


def synthetic_results(hosts: int = 3176, check_count: int = 60, seed: int = 85) -> dict[str, Any]:
    rng = random.Random(seed)
    catalog_checks = checks(check_count)
    verdicts, weights = list(VERDICT_WEIGHTS), list(VERDICT_WEIGHTS.values())
    at = "2026-01-05T08:00:00Z"
    host_results = []
    for h in range(hosts):
        host = Host(name=f"pc{h:05d}.so-tttt.example.vn", address=f"10.{h // 65536}.{h // 256 % 256}.{h % 256}")
        host.level = 1 + h % 5
        host.groups = ["desktops" if h % 24 else "servers"]
        if h % 100 == 99:
            reason = "ssh: connection timed out"
            results = [CheckResult(c, Verdict.ERROR, reason, []) for c in catalog_checks]
            host_results.append(HostResult(host, "unreachable", reason, results, at, at))
            continue
        results = []
        for c in catalog_checks:
            v = rng.choices(verdicts, weights)[0]
            reason = rng.choice(REASONS[v]).format(n=rng.randint(8, 40))
            output = "\n".join(f"line {k} of the output of {c.id} on {host.name}" for k in range(rng.randint(3, 12)))
            evidence = [] if v == Verdict.NOT_APPLICABLE else [Evidence("/bin/sh -s: probe " + c.id, 0, output, at)]
            results.append(CheckResult(c, v, reason, evidence))
        host_results.append(HostResult(host, "reachable", None, results, at, at))
    run = {"id": f"bench-{seed}", "started": at, "finished": at, "playbook": "baseline", "params": {}}
    return build(run, host_results)
