"""``win_local_admins``: members of the local Administrators group, found by its well-known SID
``S-1-5-32-544`` (the group's name is localised). ``Get-LocalGroupMember`` fails on groups holding an
orphaned SID; the snippet then falls back to ADSI (``WinNT://``), which still lists them.
Members are compared with ``allowed``: shell-style patterns over ``DOMAIN\\name`` or the SID.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from auditor.facts.base import RawOutput, register
from auditor.facts.winbase import PowerShellFact, json_items

_SNIPPET = r"""
try {
  Get-LocalGroupMember -SID 'S-1-5-32-544' -ErrorAction Stop | Select-Object Name,
    @{n='ObjectClass';e={[string]$_.ObjectClass}}, @{n='PrincipalSource';e={[string]$_.PrincipalSource}},
    @{n='SID';e={[string]$_.SID}}
} catch {
  $sidObj = [Security.Principal.SecurityIdentifier]'S-1-5-32-544'
  $g = $sidObj.Translate([Security.Principal.NTAccount]).Value.Split('\')[-1]
  ([ADSI]"WinNT://./$g,group").psbase.Invoke('Members') | ForEach-Object {
    $t = $_.GetType()
    $path = $t.InvokeMember('ADsPath', 'GetProperty', $null, $_, $null)
    $bytes = $t.InvokeMember('objectSid', 'GetProperty', $null, $_, $null)
    $sid = New-Object Security.Principal.SecurityIdentifier($bytes, 0)
    [pscustomobject]@{
      Name = ($path -replace '^WinNT://', '' -replace '/', '\')
      ObjectClass = $t.InvokeMember('Class', 'GetProperty', $null, $_, $null)
      PrincipalSource = 'ADSI'
      SID = $sid.Value
    }
  }
}
""".strip()


@register
class WinLocalAdminsFact(PowerShellFact):
    name = "win_local_admins"
    script = _SNIPPET
    params_schema = {
        "type": "object",
        "properties": {"allowed": {"type": ["array", "string"], "items": {"type": "string"}}},
        "additionalProperties": False,
    }

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        allowed = params.get("allowed") or []
        allowed = [allowed] if isinstance(allowed, str) else [str(a) for a in allowed]
        members = [
            {
                "name": str(m.get("Name")),
                "class": str(m.get("ObjectClass")),
                "source": str(m.get("PrincipalSource")),
                "sid": str(m.get("SID") or ""),
            }
            for m in json_items(outputs[0], "reading the local Administrators group")
        ]

        def ok(member: dict[str, str]) -> bool:
            return any(
                fnmatch.fnmatchcase(member["name"].lower(), a.lower()) or fnmatch.fnmatchcase(member["sid"], a)
                for a in allowed
            )

        unexpected = [m["name"] for m in members if not ok(m)]
        return {
            "members": [m["name"] for m in members],
            "count": len(members),
            "unexpected": unexpected,
            "summary": f"{len(members)} member(s): {', '.join(m['name'] for m in members) or '(none)'}",
        }
