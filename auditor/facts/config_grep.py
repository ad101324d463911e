"""``config_grep``: uncommented lines matching a pattern in configuration files (cron jobs, directives)."""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, quote, register, shell_glob


@register
class ConfigGrepFact(FactType):
    name = "config_grep"
    params_schema = {
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            "pattern": {"type": "string", "minLength": 1},
        },
        "required": ["paths", "pattern"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        paths = " ".join(shell_glob(p) for p in params["paths"])
        return [
            # Only existing regular files reach (one) grep; "Permission denied" stays visible on stderr.
            f'set --; for f in {paths}; do [ -f "$f" ] && set -- "$@" "$f"; done; '
            f'[ $# -eq 0 ] || grep -HnE -e {quote(params["pattern"])} -- "$@"; true'
        ]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        found = []
        for line in raw.stdout.splitlines():
            path, _, rest = line.partition(":")
            lineno, _, text = rest.partition(":")
            if lineno.isdigit() and not text.lstrip().startswith("#"):
                found.append({"file": path, "line": int(lineno), "text": text.strip()[:300]})
        denied = [line for line in raw.stderr.splitlines() if "Permission denied" in line]
        if not found and denied:
            raise FactUnreadable("cannot read: " + "; ".join(denied[:3]))
        return {"matches": found, "count": len(found), "files": sorted({m["file"] for m in found})}
