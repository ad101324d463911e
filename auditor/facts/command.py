"""``command``: run a catalog-authored command and keep its exit code and output.

The command text comes from the catalog (reviewed like code), never from a host.
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactType, RawOutput, register, require_rc


@register
class CommandFact(FactType):
    name = "command"
    params_schema = {
        "type": "object",
        "properties": {
            # shell text of the catalog itself: no "{{ param }}", which would splice a value in unquoted
            "run": {"type": "string", "minLength": 1, "not": {"pattern": "\\{\\{"}},
            "ok_rc": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["run"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [params["run"]]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "command", ok=tuple(params.get("ok_rc", [0])))
        lines = [line for line in raw.stdout.splitlines() if line.strip()]
        return {"rc": raw.rc, "stdout": raw.stdout, "lines": lines, "count": len(lines)}
