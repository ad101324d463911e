"""Windows fact types on CONSTRUCTED samples (tests/unit/data/windows, see its README: not captured on a real
host), judged by the real WIN-* checks of the catalog, so parser and check are proven together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.catalog import load_catalog
from auditor.clock import Reference
from auditor.evaluate import judge
from auditor.facts import REGISTRY, FactUnreadable, RawOutput
from auditor.facts.win_antivirus import decode_state
from auditor.facts.win_password_policy import parse_net_accounts
from auditor.model import Evidence, Fact, FactSpec, Verdict

DATA = Path(__file__).parent / "data" / "windows"
PARAMS: dict[str, Any] = {
    "av_max_signature_age_days": 7,
    "log_server": None,
    "windows_allowed_admins": ["*\\Administrator", "*\\Domain Admins", "S-1-5-21-*-500", "S-1-5-21-*-512"],
    "win_min_password_length": 8,
    "win_max_lockout_threshold": 10,
    "win_security_log_min_mb": 64,
    "win_max_update_age_days": 45,
}


SAMPLES_AT = Reference(1795435200, 1795435200)  # the auditor's clock: the samples' own "now" (construct.py)


def raw(name: str, reference: Reference = SAMPLES_AT) -> RawOutput:
    rc = int((DATA / f"{name}.rc").read_text())
    out, err = (DATA / f"{name}.out").read_text(encoding="utf-8"), (DATA / f"{name}.stderr").read_text()
    return RawOutput(out, err, rc, reference=reference)


def fact(type_name: str, *samples: str, params: dict[str, Any] | None = None) -> Fact:
    spec = FactSpec(type_name, params or {})
    ev = Evidence("sample", 0, "", "2026-11-23T12:00:00Z")
    try:
        return Fact(spec, REGISTRY[type_name].parse([raw(s) for s in samples], spec.params), None, ev)
    except FactUnreadable as exc:
        return Fact(spec, None, str(exc), ev)


@pytest.fixture(scope="module")
def checks():
    return load_catalog().checks


def verdict(checks, check_id: str, facts: dict[str, Fact], **params: Any) -> tuple[Verdict, str]:
    """The check's verdict on these facts, with the agency playbook's defaults overridden by ``params``."""
    return judge(checks[check_id], facts, {**PARAMS, **params})


# --- anti-virus ------------------------------------------------------------------------------------------------


def test_product_state_bits():
    assert decode_state(397568) == {"state": "on", "signatures": "up_to_date", "microsoft": True}  # 0x061100
    assert decode_state(393472) == {"state": "off", "signatures": "up_to_date", "microsoft": True}  # 0x060100
    assert decode_state(266240) == {"state": "on", "signatures": "up_to_date", "microsoft": False}  # 0x041000
    assert decode_state(266256)["signatures"] == "out_of_date"  # 0x041010
    assert decode_state(270336)["state"] == "snoozed"  # 0x042000


@pytest.mark.parametrize(
    ("defender", "wsc", "active", "fresh", "why"),
    [
        ("defender_on", "wsc_defender_only", Verdict.PASS, Verdict.PASS, "Defender on, 1.25 days"),
        ("defender_stale", "wsc_defender_only", Verdict.PASS, Verdict.FAIL, "Defender on, 20.5 days old"),
        ("defender_passive", "wsc_bkav_on", Verdict.PASS, Verdict.PASS, "BKAV active and up to date"),
        ("defender_passive", "wsc_bkav_outdated", Verdict.PASS, Verdict.FAIL, "BKAV active, out of date"),
        ("defender_passive", "wsc_cmc_snoozed", Verdict.FAIL, Verdict.FAIL, "CMC snoozed, Defender passive"),
        ("defender_not_running", "wsc_bkav_on", Verdict.PASS, Verdict.PASS, "no Defender service, BKAV on"),
        ("defender_not_running", "wsc_server_no_namespace", Verdict.FAIL, Verdict.FAIL, "server, nothing at all"),
        ("defender_on", "wsc_server_no_namespace", Verdict.PASS, Verdict.PASS, "server with Defender"),
        ("defender_access_denied", "wsc_server_no_namespace", Verdict.ERROR, Verdict.ERROR, "cannot tell"),
    ],
)
def test_antivirus(checks, defender, wsc, active, fresh, why):
    av = fact("win_antivirus", defender, wsc)
    assert verdict(checks, "WIN-AV-ACTIVE", {"av": av})[0] == active, why
    assert verdict(checks, "WIN-AV-SIGNATURES-FRESH", {"av": av})[0] == fresh, why


def test_antivirus_values():
    av = fact("win_antivirus", "defender_stale", "wsc_defender_only").value
    # from AntivirusSignatureLastUpdated ("/Date(ms)/"), not the rounded AntivirusSignatureAge
    assert av["defender_signature_age_days"] == 20.5
    bkav = fact("win_antivirus", "defender_passive", "wsc_bkav_on").value
    assert bkav["third_party_active"] == ["Bkav Pro Internet Security"]
    assert [p["vendor"] for p in bkav["products"]] == ["Microsoft", "BKAV"]
    assert bkav["defender_active"] is False and bkav["defender_mode"] == "Passive Mode"


# --- USB, firewall, logs, BitLocker ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("usb_usbstor_disabled", Verdict.PASS),
        ("usb_policy_deny_all", Verdict.PASS),
        ("usb_install_policy", Verdict.PASS),
        ("usb_open", Verdict.FAIL),
        ("usb_key_absent", Verdict.FAIL),  # Windows creates USBSTOR with Start=3 on first plug-in
        ("usb_removable_read_only_denied", Verdict.FAIL),  # reading denied, writing still allowed
    ],
)
def test_usb(checks, sample, expected):
    assert verdict(checks, "WIN-USB-STORAGE-BLOCKED", {"usb": fact("win_usb_storage", sample)})[0] == expected


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("fw_all_on", Verdict.PASS),
        ("fw_numeric_enums", Verdict.PASS),  # 1 = True, 4 = Block, 0 = NotConfigured (Windows default: block)
        ("fw_public_off", Verdict.FAIL),
        ("fw_private_inbound_allow", Verdict.FAIL),
        ("fw_cmdlet_failed", Verdict.ERROR),
    ],
)
def test_firewall(checks, sample, expected):
    assert verdict(checks, "WIN-FIREWALL-ALL-PROFILES", {"fw": fact("win_firewall", sample)})[0] == expected


def test_firewall_reason_names_the_profile(checks):
    status, reason = verdict(checks, "WIN-FIREWALL-ALL-PROFILES", {"fw": fact("win_firewall", "fw_public_off")})
    assert status == Verdict.FAIL and "Public" in reason


@pytest.mark.parametrize(
    ("sample", "size", "forwarded_to", "anywhere"),
    [
        ("ev_wef", Verdict.PASS, Verdict.PASS, Verdict.PASS),
        ("ev_default_no_forwarding", Verdict.FAIL, Verdict.FAIL, Verdict.FAIL),
        ("ev_nxlog_agent", Verdict.PASS, Verdict.FAIL, Verdict.PASS),  # an agent's destination is not read
        ("ev_security_denied", Verdict.UNKNOWN, Verdict.FAIL, Verdict.FAIL),
    ],
)
def test_eventlog(checks, sample, size, forwarded_to, anywhere):
    ev = {"ev": fact("win_eventlog", sample)}
    assert verdict(checks, "WIN-LOG-SECURITY-SIZE", dict(ev))[0] == size
    assert verdict(checks, "WIN-LOG-FORWARDED", dict(ev), log_server="logs.sotttt.gov.vn")[0] == forwarded_to
    assert verdict(checks, "WIN-LOG-FORWARDED-ANYWHERE", dict(ev))[0] == anywhere


def test_eventlog_level_threshold(checks):
    ev = {"ev": fact("win_eventlog", "ev_nxlog_agent")}  # 256 MB
    assert verdict(checks, "WIN-LOG-SECURITY-SIZE", dict(ev), win_security_log_min_mb=1024)[0] == Verdict.FAIL


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("bl_os_on", Verdict.PASS),
        ("bl_os_off", Verdict.FAIL),
        ("bl_suspended", Verdict.FAIL),  # encrypted but protection suspended: the key is in the clear
        ("bl_not_installed", Verdict.ERROR),
    ],
)
def test_bitlocker(checks, sample, expected):
    assert verdict(checks, "WIN-BITLOCKER-OS-VOLUME", {"bl": fact("win_bitlocker", sample)})[0] == expected


# --- accounts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "expected", "unexpected"),
    [
        ("admins_expected", Verdict.PASS, []),
        ("admins_extra_user", Verdict.FAIL, ["PC-KETOAN01\\nguyenvana"]),
        ("admins_adsi_fallback", Verdict.FAIL, ["S-1-5-21-3623811015-3361044348-30300820-1107"]),  # orphaned SID
    ],
)
def test_local_admins(checks, sample, expected, unexpected):
    admins = fact("win_local_admins", sample, params={"allowed": PARAMS["windows_allowed_admins"]})
    assert admins.value["unexpected"] == unexpected
    assert verdict(checks, "WIN-ADMINS-EXPECTED", {"admins": admins})[0] == expected


def test_net_accounts_english_and_localised():
    default = fact("win_password_policy", "accounts_default").value
    assert (default["min_length"], default["lockout_threshold"], default["max_age_days"]) == (0, 0, 42)
    assert default["history"] == 0 and default["role"] == "WORKSTATION"
    german = fact("win_password_policy", "accounts_localised").value
    assert german["labels"].startswith("localised")
    assert (german["min_length"], german["max_age_days"]) == (10, 90)
    assert german["lockout_threshold"] is None  # "Nie" is not guessed


def test_net_accounts_junk_is_not_a_policy():
    assert parse_net_accounts(["nothing here"])["min_length"] is None


@pytest.mark.parametrize(
    ("sample", "length", "lockout"),
    [
        ("accounts_default", Verdict.FAIL, Verdict.FAIL),
        ("accounts_hardened", Verdict.PASS, Verdict.PASS),
        ("accounts_localised", Verdict.PASS, Verdict.UNKNOWN),
        ("accounts_failed", Verdict.ERROR, Verdict.ERROR),
    ],
)
def test_password_policy(checks, sample, length, lockout):
    pw = {"pw": fact("win_password_policy", sample)}
    assert verdict(checks, "WIN-PASSWORD-MIN-LENGTH", dict(pw))[0] == length
    assert verdict(checks, "WIN-ACCOUNT-LOCKOUT", dict(pw))[0] == lockout


@pytest.mark.parametrize(
    ("sample", "expected", "days"),
    [("hotfix_recent", Verdict.PASS, 10), ("hotfix_old", Verdict.FAIL, 165), ("hotfix_single_object", Verdict.PASS, 3)],
)
def test_hotfix(checks, sample, expected, days):
    hf = fact("win_hotfix", sample)
    assert hf.value["newest_days"] == days
    assert verdict(checks, "WIN-UPDATES-RECENT", {"hf": hf})[0] == expected


def test_every_windows_fact_type_has_samples():
    prefixes = {
        "win_antivirus": "defender_",
        "win_usb_storage": "usb_",
        "win_firewall": "fw_",
        "win_eventlog": "ev_",
        "win_bitlocker": "bl_",
        "win_local_admins": "admins_",
        "win_password_policy": "accounts_",
        "win_hotfix": "hotfix_",
    }
    windows_types = {n for n, t in REGISTRY.items() if "windows" in t.os}
    assert windows_types == set(prefixes)
    for prefix in prefixes.values():
        assert list(DATA.glob(f"{prefix}*.out")), prefix
