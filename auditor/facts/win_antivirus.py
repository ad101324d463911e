"""``win_antivirus``: is an anti-virus product active on a Windows host, and are its signatures fresh?

Two sources, two snippets:

* ``Get-MpComputerStatus`` (Microsoft Defender): ``AMServiceEnabled``, ``AntivirusEnabled``,
  ``RealTimeProtectionEnabled``, ``AMRunningMode`` (``Normal`` / ``Passive`` / ``EDR Block Mode`` /
  ``SxS Passive Mode``), ``AntivirusSignatureLastUpdated`` and ``AntivirusSignatureAge`` (days).
  Defender counts as active only in ``Normal`` mode with real-time protection on.
* ``root/SecurityCenter2`` ``AntiVirusProduct`` (Windows Security Center, client editions only; a
  server has no such namespace): every registered product, including third-party ones used in
  Vietnamese agencies (BKAV, Viettel, CMC, Kaspersky…). ``productState`` is read with the masks of
  the WSC API enums (iwscapi.h): ``0xF000`` product state (0x0000 off, 0x1000 on, 0x2000 snoozed,
  0x3000 expired), ``0x00F0`` signature status (0x00 up to date, 0x10 out of date), ``0x0F00``
  owner (0x100 Microsoft). Security Center does not give a third-party product's signature age,
  only its own "up to date" judgement, which is what the check then relies on.

Defender missing or stopped is not an error when another product is active; it is one when
nothing else can be read either.
"""

from __future__ import annotations

from typing import Any

from auditor.clock import Age, age_of, host_clock, show
from auditor.facts.base import FactType, FactUnreadable, RawOutput, register
from auditor.facts.winbase import WINDOWS, epoch, error_text, json_items

_DEFENDER = (
    "$now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()\n"
    "$s = Get-MpComputerStatus -ErrorAction Stop | Select-Object AMServiceEnabled, AntivirusEnabled, "
    "RealTimeProtectionEnabled, @{n='AMRunningMode';e={[string]$_.AMRunningMode}}, AMProductVersion, "
    "AntivirusSignatureVersion, AntivirusSignatureLastUpdated, AntivirusSignatureAge, "
    "DefenderSignaturesOutOfDate, IsTamperProtected\n"
    "[pscustomobject]@{now = $now; status = $s}"
)
_WSC = (
    "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction Stop | "
    "Select-Object displayName, instanceGuid, pathToSignedProductExe, productState, timestamp"
)
# Errors that mean "this source is not there", not "we could not look".
_ABSENT = ("0x800106ba", "not recognized", "invalid class", "invalid namespace", "not found", "0x80041010")
VENDORS = {
    "bkav": "BKAV",
    "viettel": "Viettel",
    "cmc": "CMC",
    "kaspersky": "Kaspersky",
    "eset": "ESET",
    "trend micro": "Trend Micro",
    "symantec": "Symantec",
    "sophos": "Sophos",
    "mcafee": "McAfee",
    "bitdefender": "Bitdefender",
    "defender": "Microsoft",
}
_STATES = {0x0000: "off", 0x1000: "on", 0x2000: "snoozed", 0x3000: "expired"}


def decode_state(state: int) -> dict[str, Any]:
    """productState -> product state, signature status and owner (WSC_SECURITY_* masks)."""
    return {
        "state": _STATES.get(state & 0xF000, f"0x{state & 0xF000:04x}"),
        "signatures": "up_to_date" if state & 0x00F0 == 0 else "out_of_date",
        "microsoft": state & 0x0F00 == 0x0100,
    }


def vendor(name: str) -> str | None:
    low = name.lower()
    return next((v for k, v in VENDORS.items() if k in low), None)


@register
class WinAntivirusFact(FactType):
    name = "win_antivirus"
    os = WINDOWS

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [_DEFENDER, _WSC]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        defender_raw, wsc_raw = outputs
        problems: list[str] = []
        defender: dict[str, Any] | None = None
        now: float | None = None
        if defender_raw.rc == 0:
            items = json_items(defender_raw, "Get-MpComputerStatus")
            if items and isinstance(items[0], dict):
                now = epoch(items[0].get("now"))
                defender = items[0].get("status") or None
        elif defender_raw.timed_out or defender_raw.rc is None:
            problems.append("Get-MpComputerStatus did not finish")
        elif not any(a in defender_raw.stderr.lower() for a in _ABSENT):
            problems.append(f"Get-MpComputerStatus failed: {error_text(defender_raw)}")

        products: list[dict[str, Any]] = []
        wsc_available = False
        if wsc_raw.rc == 0:
            wsc_available = True
            for item in json_items(wsc_raw, "SecurityCenter2 AntiVirusProduct"):
                name = str(item.get("displayName") or "?")
                state = item.get("productState")
                if not isinstance(state, int):
                    continue
                products.append({"name": name, "vendor": vendor(name), "product_state": state, **decode_state(state)})
        elif wsc_raw.timed_out or wsc_raw.rc is None:
            problems.append("SecurityCenter2 query did not finish")
        elif not any(a in wsc_raw.stderr.lower() for a in _ABSENT):
            problems.append(f"SecurityCenter2 query failed: {error_text(wsc_raw)}")

        defender_active = bool(
            defender
            and defender.get("AMServiceEnabled") is True
            and defender.get("AntivirusEnabled") is True
            and defender.get("RealTimeProtectionEnabled") is True
            and str(defender.get("AMRunningMode") or "Normal") == "Normal"
        )
        age: Age | None = None
        clock = host_clock(now, defender_raw.reference) if now is not None else None
        undated: str | None = None
        if defender and clock is not None:
            updated = epoch(defender.get("AntivirusSignatureLastUpdated"))
            if updated is None and isinstance(defender.get("AntivirusSignatureAge"), int):
                updated = now - defender["AntivirusSignatureAge"] * 86400  # days on the host's clock
            if updated is not None:
                # Defender stamps the update with the host's own clock.
                dated = age_of(updated, clock, True)
                age, undated = dated.age, dated.problem or (clock.describe() if clock.off else None)
        third = [p for p in products if not p["microsoft"] and p["vendor"] != "Microsoft"]
        third_active = [p["name"] for p in third if p["state"] == "on"]
        third_fresh = [p["name"] for p in third if p["state"] == "on" and p["signatures"] == "up_to_date"]
        active = (["Microsoft Defender Antivirus"] if defender_active else []) + third_active
        if not active and problems:
            raise FactUnreadable("; ".join(problems))
        mode = defender.get("AMRunningMode") if defender else None
        summary = (
            (f"active: {', '.join(active)}" if active else "no active anti-virus product")
            + (
                f"; Defender {'active' if defender_active else 'not active'} (mode {mode}), signatures {show(age)}"
                if defender
                else "; Defender not present or not running"
            )
            + (f"; {undated}" if undated else "")
        )
        if third:
            summary += "; Security Center: " + ", ".join(f"{p['name']} {p['state']}/{p['signatures']}" for p in third)
        return {
            "defender_available": defender is not None,
            "defender_active": defender_active,
            "defender_mode": mode,
            "defender_signature_age_days": age,
            "defender_signature_version": defender.get("AntivirusSignatureVersion") if defender else None,
            "clock": clock.as_dict() if clock else None,
            "security_center_available": wsc_available,
            "products": products,
            "third_party_active": third_active,
            "third_party_fresh": third_fresh,
            "active": active,
            "problems": problems,
            "summary": summary,
        }
