"""``host_clock``: how far the host's clock is from the auditor's.

The batch reads the host's clock once (``_now``); the engine notes its own clock when it sent the
script and when the output was back, so the host's reading must fall in that window. Outside it,
by more than ``max_clock_skew_seconds``, the host's clock is off: its logs cannot be lined up with
other hosts', and every time it stamps is suspect (the age-based facts say so in their own values).
"""

from __future__ import annotations

from typing import Any

from auditor.clock import epoch, evidence_line, host_clock
from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, register, require_rc


@register
class HostClockFact(ScriptFact):
    name = "host_clock"
    script = 'echo "@@clock ${_now:-$(date +%s)}"'

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "reading the host's clock")
        line = next((s for s in raw.stdout.splitlines() if s.startswith("@@clock ")), None)
        try:
            clock = host_clock(epoch((line or "").removeprefix("@@clock ")), raw.reference)
        except ValueError as exc:
            raise FactUnreadable(f"the host's clock: {exc}") from None
        return {**clock.as_dict(), "abs_skew_seconds": round(abs(clock.skew), 3)}

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        try:
            return (
                outputs[0].stdout.rstrip("\n")
                + "\n"
                + evidence_line(host_clock(epoch(outputs[0].stdout.removeprefix("@@clock ")), outputs[0].reference))
            )
        except ValueError:
            return outputs[0].stdout
