"""``service``: is a daemon running, by systemd's view and the process table?

The process table is the truth (``process``); systemd's view is added only when systemd is
really PID 1 (``/run/systemd/system`` exists); otherwise ``systemctl`` would lie.
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, name_arg, register, require_rc, sections
from auditor.facts.process import NAMES_SCHEMA, PROCESS_TABLE, parse_process_table, running, undetermined


@register
class ServiceFact(FactType):
    name = "service"
    params_schema = {
        "type": "object",
        "properties": {"units": NAMES_SCHEMA, "processes": NAMES_SCHEMA},
        "required": ["units", "processes"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        units = " ".join(name_arg(u) for u in params["units"])
        return [
            f"if [ -d /run/systemd/system ]; then echo @@systemd; for u in {units}; do "
            'printf "%s %s\\n" "$u" "$(systemctl is-active -- "$u" 2>/dev/null)"; done; else echo @@nosystemd; fi',
            PROCESS_TABLE,
        ]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        require_rc(outputs[0], "systemctl")
        found = sections(outputs[0].stdout)
        active: dict[str, str] = {}
        for line in found.get("systemd", []):
            unit, _, state = line.partition(" ")
            active[unit] = state.strip() or "unknown"
        table = parse_process_table(outputs[1])
        procs = running(table.rows, params["processes"])
        is_running = bool(procs) or any(s == "active" for s in active.values())
        if not is_running and table.partial:
            raise FactUnreadable("/proc is mounted with hidepid and the audit ran without root")
        if not is_running and (unsure := undetermined(table, params["processes"])):
            raise unsure
        return {
            "systemd": "systemd" in found,
            "unit_states": active,
            "processes": sorted(procs),
            "running": is_running,
        }
