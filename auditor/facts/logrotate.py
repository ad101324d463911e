"""``logrotate``: how many days of a log file logrotate keeps (``rotate`` count x period, capped by ``maxage``).

Reads /etc/logrotate.conf and /etc/logrotate.d/* in one archive and resolves, for each watched log, the
block that names it (globs as logrotate matches them) with the global defaults of logrotate.conf.
A file rotated by size only has no period: its retention is unknown, never guessed.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from auditor.facts.base import (
    ABS_PATH,
    FactType,
    RawOutput,
    own_files,
    register,
    require_rc,
    sections,
    split_words,
)

CONF = "/etc/logrotate.conf"
FILES = [CONF, "/etc/logrotate.d/*"]
KEPT_FOREVER = 36500
PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}


def _directives(lines: list[str], settings: dict[str, Any]) -> None:
    for line in lines:
        words = line.split()
        if not words:
            continue
        key = words[0].lower()
        if key in PERIOD_DAYS:
            settings["period"] = key
        elif key in ("rotate", "maxage") and len(words) > 1 and words[1].lstrip("-").isdigit():
            settings[key] = int(words[1])


def parse_config(files: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, list[str], dict[str, Any]]]]:
    """(global settings, [(file, patterns, settings of the block)]); includes are the files we read."""
    defaults: dict[str, Any] = {"rotate": 0}
    blocks: list[tuple[str, list[str], dict[str, Any]]] = []
    order = [CONF, *sorted(p for p in files if p != CONF)]
    for path in order:
        if path not in files:
            continue
        text = "\n".join(line.split("#", 1)[0] for line in files[path].splitlines())
        i = 0
        chunks = text.replace("{", "\n{\n").replace("}", "\n}\n").splitlines()
        head: list[str] = []
        while i < len(chunks):
            line = chunks[i].strip()
            i += 1
            if line == "{":
                body: list[str] = []
                depth = 1
                while i < len(chunks) and depth:
                    inner = chunks[i].strip()
                    i += 1
                    depth += inner == "{"
                    depth -= inner == "}"
                    if depth == 1 and inner not in ("{", "}"):
                        body.append(inner)
                patterns = [w for h in head for w in split_words(h)] if head else []
                settings = dict(defaults)
                in_script = False
                kept = []
                for b in body:  # skip postrotate/prerotate ... endscript
                    word = b.split()[0].lower() if b.split() else ""
                    if word in ("postrotate", "prerotate", "firstaction", "lastaction", "preremove"):
                        in_script = True
                    elif word == "endscript":
                        in_script = False
                    elif not in_script:
                        kept.append(b)
                _directives(kept, settings)
                blocks.append((path, patterns, settings))
                head = []
            elif line and line != "}":
                if line.startswith("/") or line.startswith('"'):
                    head.append(line)
                elif path == CONF:  # only logrotate.conf sets the globals
                    _directives([line], defaults)
    return defaults, blocks


@register
class LogrotateFact(FactType):
    name = "logrotate"
    params_schema = {
        "type": "object",
        "properties": {"logs": {"type": "array", "items": ABS_PATH, "minItems": 1}},
        "required": ["logs"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return ["if command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ]; then echo @@installed; "
                "else echo @@absent; fi"]  # fmt: skip

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "looking for logrotate")
        found = sections(raw.stdout)
        files, _ = own_files(outputs[-1], FILES, all_readable=True)
        if "installed" not in found:
            return {"installed": False, "logs": {}, "min_retention_days": None, "summary": "logrotate not installed"}
        _, blocks = parse_config(files)
        logs: dict[str, Any] = {}
        for log in params["logs"]:
            block = next(((f, s) for f, pats, s in blocks if any(fnmatch.fnmatchcase(log, p) for p in pats)), None)
            if block is None:
                logs[log] = {"file": None, "retention_days": None, "why": "no logrotate block names it"}
                continue
            where, s = block
            period = s.get("period")
            if s.get("rotate", 0) < 0:  # rotate -1: old logs are never removed
                days = s["maxage"] if s.get("maxage", 0) > 0 else KEPT_FOREVER
            elif period is None:
                days = None
            else:
                days = s.get("rotate", 0) * PERIOD_DAYS[period]
                if s.get("maxage", 0) > 0:
                    days = min(days, s["maxage"])
            logs[log] = {"file": where, "rotate": s.get("rotate"), "period": period, "maxage": s.get("maxage"),
                         "retention_days": days}
        known = [v["retention_days"] for v in logs.values()]
        summary = "; ".join(
            f"{k}: {v['retention_days']} days ({v.get('file')}: rotate {v.get('rotate')} {v.get('period')})"
            if v["file"] else f"{k}: {v['why']}"
            for k, v in logs.items()
        )
        return {
            "installed": True,
            "logs": logs,
            # None when any watched log's retention cannot be told: the check says unknown, not pass.
            "min_retention_days": None if any(d is None for d in known) else min(known),
            "summary": summary,
        }
