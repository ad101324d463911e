"""``win_hotfix``: when updates were last installed (``Get-HotFix``, i.e. Win32_QuickFixEngineering:
``HotFixID``, ``Description``, ``InstalledOn``). ``InstalledOn`` can be empty for some entries; those
are ignored. Get-HotFix lists component-based servicing updates only (cumulative and security
updates are among them; Defender definition updates are not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.clock import Age, HostClock, host_clock, show
from auditor.facts.base import FactUnreadable, RawOutput, register
from auditor.facts.winbase import PowerShellFact, as_list, epoch, json_object

_SNIPPET = (
    "$h = @(Get-HotFix -ErrorAction Stop | Select-Object HotFixID, Description, "
    "@{n='InstalledOn';e={ if ($_.InstalledOn) { $_.InstalledOn.ToString('yyyy-MM-dd') } else { $null } }})\n"
    "[pscustomobject]@{now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds(); "
    "today = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd'); hotfixes = $h}"
)


@register
class WinHotfixFact(PowerShellFact):
    name = "win_hotfix"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        v = json_object(outputs[0], "Get-HotFix")
        host = epoch(v.get("now"))
        if host is None:
            raise FactUnreadable("Get-HotFix printed no clock reading")
        clock = host_clock(host, outputs[0].reference)
        dated = []
        for h in as_list(v.get("hotfixes")):
            try:
                dated.append((dt.date.fromisoformat(str(h.get("InstalledOn"))), str(h.get("HotFixID"))))
            except ValueError:
                continue
        newest = max(dated) if dated else None
        age, problem = days_since(newest[0], clock) if newest else (None, None)
        summary = (
            f"newest update {newest[1]} installed {newest[0]}, {show(age)}"
            if newest
            else ("no update with an installation date")
        )
        if problem or clock.off:
            summary += "; " + (problem or clock.describe())
        return {
            "count": len(as_list(v.get("hotfixes"))),
            "newest_date": newest[0].isoformat() if newest else None,
            "newest_id": newest[1] if newest else None,
            "newest_days": age,
            "clock": clock.as_dict(),
            "summary": summary,
        }


def days_since(day: dt.date, clock: HostClock) -> tuple[Age | None, str | None]:
    """Whole days from an install date (the host's clock wrote it; a local date, so up to a day ahead of
    UTC) to the auditor's today, a range when the host's clock is off; None when it is in the future."""
    on_auditor = (_utc_date(clock.auditor) - day).days
    if on_auditor < -1:
        return None, f"installed {-on_auditor} days in the future of the auditor's clock"
    if not clock.off:
        return float(max(on_auditor, 0)), None
    on_host = (_utc_date(clock.host) - day).days
    low, high = sorted((max(on_auditor, 0), max(on_host, 0)))
    return (float(low) if low == high else {"at_least": float(low), "at_most": float(high)}), clock.describe()


def _utc_date(epoch_seconds: float) -> dt.date:
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).date()
