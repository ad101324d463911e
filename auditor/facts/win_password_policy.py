"""``win_password_policy``: the local account policy as ``net accounts`` prints it.

``net accounts`` writes nine ``label: value`` lines in a fixed order, then "The command completed
successfully." Labels are localised; English labels are read by name, other languages by position,
and then only numeric values count (a localised "Never"/"None" cannot be told from garbage, so
those fields stay unknown rather than guessed).
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, register
from auditor.facts.winbase import PowerShellFact, as_list, json_object

_SNIPPET = (
    "$o = @(net accounts 2>&1 | ForEach-Object { [string]$_ })\n[pscustomobject]@{rc = $LASTEXITCODE; lines = $o}"
)
FIELDS = [  # (English label, key), in the order net.exe prints them
    ("Force user logoff how long after time expires?", "force_logoff"),
    ("Minimum password age (days)", "min_age_days"),
    ("Maximum password age (days)", "max_age_days"),
    ("Minimum password length", "min_length"),
    ("Length of password history maintained", "history"),
    ("Lockout threshold", "lockout_threshold"),
    ("Lockout duration (minutes)", "lockout_duration_min"),
    ("Lockout observation window (minutes)", "lockout_window_min"),
    ("Computer role", "role"),
]
_WORDS = {"never": 0, "none": 0, "unlimited": None}


def parse_net_accounts(lines: list[str]) -> dict[str, Any]:
    pairs = []
    for line in lines:
        label, sep, value = line.partition(":")
        if sep and value.strip() and not line.startswith(" "):
            pairs.append((label.strip(), value.strip()))
    by_label = {label.lower(): value for label, value in pairs}
    english = FIELDS[3][0].lower() in by_label
    out: dict[str, Any] = {}
    for pos, (label, key) in enumerate(FIELDS):
        raw = by_label.get(label.lower()) if english else (pairs[pos][1] if pos < len(pairs) else None)
        if raw is None:
            out[key] = None
        elif key == "role":
            out[key] = raw
        elif raw.isdigit():
            out[key] = int(raw)
        else:
            out[key] = _WORDS.get(raw.lower()) if english else None
    out["labels"] = "English" if english else "localised (read by position)"
    return out


@register
class WinPasswordPolicyFact(PowerShellFact):
    name = "win_password_policy"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        v = json_object(outputs[0], "net accounts")
        lines = [str(x) for x in as_list(v.get("lines"))]
        if v.get("rc") not in (0, None):
            raise FactUnreadable(f"net accounts failed (exit {v.get('rc')}): {' '.join(lines)[:200]}")
        values = parse_net_accounts(lines)
        if values["min_length"] is None and values["lockout_threshold"] is None:
            raise FactUnreadable("net accounts output not understood")
        values["summary"] = (
            f"minimum length {values['min_length']}, lockout after {values['lockout_threshold'] or 'never'} "
            f"failures, maximum age {values['max_age_days']} days"
        )
        return values
