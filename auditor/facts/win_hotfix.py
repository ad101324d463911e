"""``win_hotfix``: when updates were last installed (``Get-HotFix``, i.e. Win32_QuickFixEngineering:
``HotFixID``, ``Description``, ``InstalledOn``). ``InstalledOn`` can be empty for some entries; those
are ignored. Get-HotFix lists component-based servicing updates only (cumulative and security
updates are among them; Defender definition updates are not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, register
from auditor.facts.winbase import PowerShellFact, as_list, json_object

_SNIPPET = (
    "$h = @(Get-HotFix -ErrorAction Stop | Select-Object HotFixID, Description, "
    "@{n='InstalledOn';e={ if ($_.InstalledOn) { $_.InstalledOn.ToString('yyyy-MM-dd') } else { $null } }})\n"
    "[pscustomobject]@{today = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd'); hotfixes = $h}"
)


@register
class WinHotfixFact(PowerShellFact):
    name = "win_hotfix"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        v = json_object(outputs[0], "Get-HotFix")
        if not v.get("today"):
            raise FactUnreadable("Get-HotFix printed no date")
        today = dt.date.fromisoformat(str(v["today"]))
        dated = []
        for h in as_list(v.get("hotfixes")):
            try:
                dated.append((dt.date.fromisoformat(str(h.get("InstalledOn"))), str(h.get("HotFixID"))))
            except ValueError:
                continue
        newest = max(dated) if dated else None
        return {
            "count": len(as_list(v.get("hotfixes"))),
            "newest_date": newest[0].isoformat() if newest else None,
            "newest_id": newest[1] if newest else None,
            "newest_days": (today - newest[0]).days if newest else None,
            "summary": f"newest update {newest[1]} installed {newest[0]}, {(today - newest[0]).days} days ago"
            if newest
            else "no update with an installation date",
        }
