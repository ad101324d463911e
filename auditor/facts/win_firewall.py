"""``win_firewall``: Windows Defender Firewall profiles as enforced (``Get-NetFirewallProfile -PolicyStore
ActiveStore``: local settings merged with Group Policy).

``Enabled`` is a GpoBoolean (False 0, True 1, NotConfigured 2) and ``DefaultInboundAction`` an Action
(NotConfigured 0, Allow 2, Block 4), as MSFT_NetFirewallProfile documents them; the snippet casts both
to text, the parser accepts numbers too. NotConfigured takes the Windows default: enabled, inbound
blocked (the summary says so).
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, register
from auditor.facts.winbase import PowerShellFact, enum_name, json_items

_SNIPPET = (
    "Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop | Select-Object Name, "
    "@{n='Enabled';e={[string]$_.Enabled}}, @{n='DefaultInboundAction';e={[string]$_.DefaultInboundAction}}, "
    "@{n='DefaultOutboundAction';e={[string]$_.DefaultOutboundAction}}, "
    "@{n='LogBlocked';e={[string]$_.LogBlocked}}, LogFileName"
)
_GPO = {0: "False", 1: "True", 2: "NotConfigured"}
_ACTION = {0: "NotConfigured", 2: "Allow", 4: "Block"}


@register
class WinFirewallFact(PowerShellFact):
    name = "win_firewall"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        profiles = {}
        defaulted = []
        for item in json_items(outputs[0], "Get-NetFirewallProfile"):
            name = str(item.get("Name"))
            enabled = enum_name(item.get("Enabled"), _GPO)
            inbound = enum_name(item.get("DefaultInboundAction"), _ACTION)
            if enabled == "NotConfigured" or inbound == "NotConfigured":
                defaulted.append(name)
            profiles[name] = {
                "enabled": enabled in ("True", "NotConfigured"),
                "inbound": "Block" if inbound == "NotConfigured" else inbound,
            }
        if not profiles:
            raise FactUnreadable("Get-NetFirewallProfile returned no profile")
        disabled = [n for n, p in profiles.items() if not p["enabled"]]
        inbound_allowed = [n for n, p in profiles.items() if p["inbound"] != "Block"]
        missing = [n for n in ("Domain", "Private", "Public") if n not in profiles]
        summary = ", ".join(f"{n}: {'on' if p['enabled'] else 'OFF'}/{p['inbound']}" for n, p in profiles.items())
        if defaulted:
            summary += f" (NotConfigured taken as the Windows default for {', '.join(defaulted)})"
        return {
            "profiles": profiles,
            "disabled": disabled,
            "inbound_allowed": inbound_allowed,
            "missing": missing,
            "summary": summary,
        }
