"""``clamav_db``: age of ClamAV's signature databases, judged from the databases themselves.

For each ``daily.{cvd,cld,cud}`` the 512-byte header holds the build time
(``ClamAV-VDB:<date>:<version>:<sigs>:<flevel>:<md5>:<dsig>:<builder>:<stime>``);
the file's mtime is used only when the header cannot be read. A freshly touched
file with old signatures is therefore still old, and ``freshclam.dat`` or any
other file in the folder proves nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from auditor.clock import Dated, HostClock, age_of, epoch, evidence_line, host_clock, newest, show, upper
from auditor.facts.base import (
    ABS_PATH,
    FactType,
    FactUnreadable,
    RawOutput,
    name_arg,
    name_schema,
    path_arg,
    register,
    require_rc,
    sections,
)

_EXTENSIONS = ("cvd", "cld", "cud")


def parse_header(header: bytes) -> dict[str, Any] | None:
    """Build time (epoch), version and signature count from a CVD header, or None if it is not one."""
    text = header[:512].decode("ascii", "replace").rstrip("\x00 \n")
    if not text.startswith("ClamAV-VDB:"):
        return None
    fields = text.split(":")
    build: int | None = None
    if len(fields) >= 9 and fields[8].strip().isdigit():
        build = int(fields[8].strip())
    elif len(fields) >= 2:
        try:
            build = int(datetime.strptime(fields[1].strip(), "%d %b %Y %H-%M %z").timestamp())
        except ValueError:
            build = None
    if build is None:
        return None
    return {
        "build_time": build,
        "version": fields[2] if len(fields) > 2 else None,
        "signatures": int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None,
    }


@register
class ClamavDbFact(FactType):
    name = "clamav_db"
    params_schema = {
        "type": "object",
        "properties": {
            "directory": ABS_PATH,
            "database": name_schema("a-z0-9_-"),
        },
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        directory = path_arg(params.get("directory", "/var/lib/clamav"))
        database = name_arg(params.get("database", "daily"))
        exts = " ".join(_EXTENSIONS)
        return [
            f'd={directory}; echo "@@now ${{_now:-$(date +%s)}}"; '
            'if [ ! -e "$d" ]; then echo @@nodir; exit 0; fi; '
            'if [ ! -r "$d" ] || [ ! -x "$d" ]; then echo "cannot read $d" >&2; exit 13; fi; '
            f'for e in {exts}; do f="$d/"{database}".$e"; [ -f "$f" ] || continue; '
            'echo "@@file $f $(stat -c %Y -- "$f")"; head -c 512 -- "$f" | base64 || exit 13; done; true'
        ]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "reading the ClamAV database folder")
        found = sections(raw.stdout)
        now_key = next((k for k in found if k.startswith("now ")), None)
        if now_key is None:
            raise FactUnreadable("unexpected output while reading the ClamAV database folder")
        host = _host_clock(raw, now_key)
        databases = []
        for key, lines in found.items():
            if not key.startswith("file "):
                continue
            _, path, mtime = key.split(" ")
            try:
                header = parse_header(base64.b64decode("".join(lines)))
            except ValueError:
                header = None
            # The header's build time comes from ClamAV's builders; an mtime from this host's clock.
            dated = age_of(header["build_time"], host, False) if header else age_of(int(mtime), host, True)
            databases.append(
                {
                    "path": path,
                    "age_days": dated.age,
                    "undated": dated.problem,
                    "judged_by": "header build time" if header else "file mtime (no readable header)",
                    "mtime_age_days": age_of(int(mtime), host, True).age,
                    "version": header["version"] if header else None,
                    "signatures": header["signatures"] if header else None,
                }
            )
        newest_db = newest(Dated(d["age_days"], d["undated"]) for d in databases) if databases else Dated(None)
        youngest = min(
            (d for d in databases if d["age_days"] is not None), key=lambda d: upper(d["age_days"]), default=None
        )
        shown = youngest or (databases[0] if databases else None)
        if shown is None:
            where = params.get("directory", "/var/lib/clamav")
            summary = f"no {params.get('database', 'daily')}.cvd/.cld/.cud in {where}"
        else:
            summary = f"{shown['path']}: {show(shown['age_days'])} by its {shown['judged_by']}"
            summary += "".join(f"; {d['path']}: {d['undated']}" for d in databases if d["undated"])
        if host.off or any(d["undated"] for d in databases):
            summary += f"; {host.describe()}"
        return {
            "directory_exists": "nodir" not in found,
            "count": len(databases),
            "databases": databases,
            "newest_days": newest_db.age,
            "newest_path": shown["path"] if shown else None,
            "judged_by": shown["judged_by"] if shown else None,
            "clock": host.as_dict(),
            "summary": summary,
        }

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        text = outputs[0].stdout
        now_key = next((k for k in sections(text) if k.startswith("now ")), None)
        if now_key is None:
            return text
        return text.rstrip("\n") + "\n" + evidence_line(_host_clock(outputs[0], now_key))


def _host_clock(raw: RawOutput, now_key: str) -> HostClock:
    try:
        return host_clock(epoch(now_key.removeprefix("now ")), raw.reference)
    except ValueError as exc:
        raise FactUnreadable(f"the host's clock: {exc}") from None
