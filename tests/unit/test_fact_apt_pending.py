"""apt_pending: Inst lines of apt-get -s and the age of /var/lib/apt/lists, on outputs captured on lab hosts
(tests/unit/data/apt, see its README); and LNX-SECURITY-UPDATES-APPLIED is never `pass` on missing or stale lists."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import DATA, raw

from auditor.evaluate import evaluate, render
from auditor.facts.apt_pending import AptPendingFact, parse_inst
from auditor.facts.base import FactUnreadable, RawOutput
from auditor.model import Evidence, Fact, FactSpec, Verdict

CHECKS = Path(__file__).resolve().parents[2] / "controls/iso27001/checks/linux-updates.yaml"
EV = Evidence(command="x", rc=0, output="", at="2026-11-23T00:00:00Z")


def _host_now(text: str) -> int:
    lines = text.splitlines()
    return int(lines[lines.index("@@now") + 1])


def _captured(stem: str) -> RawOutput:
    """As the lab host printed it; the auditor (the same machine) read the same clock."""
    rc = int((DATA / f"apt/{stem}.rc").read_text().strip())
    text = (DATA / f"apt/{stem}.out").read_text(encoding="utf-8")
    return raw(text, rc=rc, at=_host_now(text))


def _later(out: RawOutput, days: float, skew: float = 0) -> RawOutput:
    """The same host state read ``days`` later, by a host whose clock is ``skew`` seconds off the auditor's."""
    lines = out.stdout.splitlines(keepends=True)
    i = lines.index("@@now\n") + 1
    auditor = int(lines[i]) + int(days * 86400)
    lines[i] = f"{auditor + int(skew)}\n"
    return raw("".join(lines), rc=out.rc or 0, at=auditor)


def _parse(out: RawOutput, max_age: object = 7) -> dict:
    return AptPendingFact().parse([out], {"max_age_days": max_age})


def _verdict(value: dict) -> tuple[Verdict, str]:
    check = next(c for c in yaml.safe_load(CHECKS.read_text()) if c["id"] == "LNX-SECURITY-UPDATES-APPLIED")
    facts = {"apt": Fact(FactSpec("apt_pending", {}), value, None, EV)}
    outcome = evaluate(render(check["expect"], {"apt_lists_max_age_days": 7}), facts)
    return outcome.status, outcome.reason


def test_noncompliant_security_update_pending():
    value = _parse(_captured("noncompliant-security-pending"))
    assert value["lists"] == "fresh" and value["lists_age_days"] < 0.01
    assert value["lists_newest"].startswith("/var/lib/apt/lists/_var_local_aptrepo_._")
    assert value["pending"] == [
        {
            "name": "hostname",
            "old": "3.23+nmu1",
            "new": "3.23+nmu1+deb12u1",
            "origins": ["Debian-Security:bookworm-security"],
            "arch": "amd64",
            "security": True,
        }
    ]
    assert value["security_pending_count"] == 1 and value["security_pending_names"] == ["hostname"]
    status, reason = _verdict(value)
    assert status == Verdict.FAIL and "hostname 3.23+nmu1 -> 3.23+nmu1+deb12u1" in reason


def test_compliant_nothing_pending_passes():
    value = _parse(_captured("compliant-nothing-pending"))
    assert value["lists"] == "fresh" and value["pending_count"] == 0
    assert value["security_pending_count"] == 0
    assert _verdict(value)[0] == Verdict.PASS


def test_stale_lists_give_unknown_never_pass():
    value = _parse(_later(_captured("compliant-nothing-pending"), days=8))
    assert value["lists"] == "stale" and 8 <= value["lists_age_days"] < 8.01
    assert value["security_pending_count"] is None
    assert _verdict(value)[0] == Verdict.UNKNOWN
    # within the limit: still decided; a limit from the playbook as a rendered template value works too
    assert _parse(_later(_captured("compliant-nothing-pending"), days=6))["security_pending_count"] == 0
    assert _parse(_later(_captured("compliant-nothing-pending"), days=8), max_age="10")["lists"] == "fresh"


def test_stale_lists_with_a_pending_security_update_still_fail():
    value = _parse(_later(_captured("noncompliant-security-pending"), days=30))
    assert value["lists"] == "stale" and value["security_pending_count"] == 1
    assert _verdict(value)[0] == Verdict.FAIL


def test_missing_lists_give_unknown():
    value = _parse(_captured("minimal-no-lists"))
    assert value["lists"] == "missing" and value["lists_age_days"] is None and value["pending_count"] == 0
    assert value["security_pending_count"] is None
    assert _verdict(value)[0] == Verdict.UNKNOWN


def test_no_apt_get_is_unreadable():
    with pytest.raises(FactUnreadable, match="apt-get not found"):
        _parse(raw("@@none\n"))


def test_apt_error_is_unreadable():
    out = "@@now\n1795460605\n@@lists\n@@sim\nE: Could not open lock file\n@@rc 100\n"
    with pytest.raises(FactUnreadable, match=r"exit 100.*lock"):
        _parse(raw(out))
    with pytest.raises(FactUnreadable, match="did not finish"):
        _parse(raw("@@now\n1795460605\n@@lists\n@@sim\nReading package lists...\n"))


def test_inst_line_forms():
    # Hand-written (not captured: the lab has no Debian mirror), in the notation of apt's RelStr(): several
    # origins as Label:Version/Suite, a new package (no [OLD]), no arch, a multi-arch name, a trailing "[]"
    lines = [
        "Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])",
        "Inst linux-image-6.1.0-18-amd64 (6.1.76-1 Debian:12.5/stable [amd64])",
        "Inst foo [1.0] (1.1 localhost)",
        "Inst libssl3:i386 [3.0.11-1~deb12u2] (3.0.13-1~deb12u1 Ubuntu:22.04/jammy-security [i386]) []",
        "Conf libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])",
    ]
    got = parse_inst(lines)
    assert [(p["name"], p["old"], p["new"], p["arch"], p["security"]) for p in got] == [
        ("libc6", "2.36-9+deb12u3", "2.36-9+deb12u4", "amd64", True),
        ("linux-image-6.1.0-18-amd64", None, "6.1.76-1", "amd64", False),
        ("foo", "1.0", "1.1", None, False),
        ("libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "i386", True),
    ]
    assert got[0]["origins"] == ["Debian:12.5/stable", "Debian-Security:12/stable-security"]
