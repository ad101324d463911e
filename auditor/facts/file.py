"""``file``: existence, type, mode and owner of paths; and the one ``stat`` of them that ``file_age`` reads too."""

from __future__ import annotations

from typing import Any

from auditor.clock import HostClock, age_of, epoch, host_clock
from auditor.facts.base import ABS_PATH, TEMPLATE, FactType, FactUnreadable, RawOutput, glob_arg, register, require_rc

PATHS_SCHEMA = {
    "type": "object",
    "properties": {
        "paths": {
            "type": "array",
            # absolute patterns; "{{ backup_paths }}" renders to a string or a list of them
            "items": {"anyOf": [ABS_PATH, TEMPLATE, {"type": "array", "items": ABS_PATH, "minItems": 1}]},
            "minItems": 1,
        }
    },
    "required": ["paths"],
    "additionalProperties": False,
}

# One line per existing path (one `stat` for all of them: a backup directory may hold hundreds of
# files, and a process each would cost a second): kind, octal mode, owner, group, size, mtime, name.
# Before them, "missing|<pattern>" or "unreadable|<path>" for the others.
_STAT_LOOP = (
    'echo "${{_now:-$(date +%s)}}"; set --; for f in {patterns}; do '
    'if [ -e "$f" ] || [ -L "$f" ]; then set -- "$@" "$f"; '
    # A path under a directory we may not search looks missing to [ -e ]: say unreadable instead.
    'elif [ -d "${{f%/*}}" ] && {{ [ ! -r "${{f%/*}}" ] || [ ! -x "${{f%/*}}" ]; }}; then echo "unreadable|$f"; '
    'else echo "missing|$f"; fi; done; '
    '[ $# -eq 0 ] || stat -c "%F|%a|%U|%G|%s|%Y|%n" -- "$@"'
)


def _flat(paths: list[Any]) -> list[str]:
    """A whole-string parameter (``paths: ["{{ backup_paths }}"]``) renders to a nested list: flatten it."""
    return [str(q) for p in paths for q in (p if isinstance(p, list) else [p])]


def stat_loop(words: str) -> str:
    """The clock reading and the stat lines of ``words`` (shell words, already quoted), as ``file_age``
    parses them: for a fact that finds its path on the host (a program names it)."""
    return _STAT_LOOP.format(patterns=words)


def stat_snippet(paths: list[Any]) -> str:
    return stat_loop(" ".join(glob_arg(p) for p in _flat(paths)))


def stat_clock(raw: RawOutput) -> HostClock:
    lines = raw.stdout.splitlines()
    try:
        return host_clock(epoch(lines[0] if lines else ""), raw.reference)
    except ValueError:
        raise FactUnreadable("unexpected output from date/stat") from None


def parse_stat(raw: RawOutput) -> tuple[HostClock, list[dict[str, Any]], list[str]]:
    require_rc(raw, "stat")
    host = stat_clock(raw)
    lines = raw.stdout.splitlines()
    entries: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for line in lines[1:]:
        if line.startswith("missing|"):
            continue
        if line.startswith("unreadable|"):
            unreadable.append(line.split("|", 1)[1])
            continue
        parts = line.split("|", 6)
        if len(parts) != 7:
            raise FactUnreadable(f"unparseable stat line: {line[:120]!r}")
        kind, mode, owner, group, size, mtime, name = parts
        dated = age_of(int(mtime), host, True)  # an mtime is written by the host's own clock
        entries.append(
            {
                "path": name,
                "type": kind,
                "mode": mode.zfill(4),
                "owner": owner,
                "group": group,
                "size": int(size),
                "mtime": int(mtime),
                "age_days": dated.age,
                "undated": dated.problem,
            }
        )
    return host, entries, unreadable


@register
class FileFact(FactType):
    name = "file"
    params_schema = PATHS_SCHEMA

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [stat_snippet(params["paths"])]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        _, entries, unreadable = parse_stat(outputs[0])
        if unreadable:
            raise FactUnreadable("cannot stat " + ", ".join(unreadable) + " (permission denied?)")
        return {
            "exists": bool(entries),
            "count": len(entries),
            "files": entries,
            "paths": [e["path"] for e in entries],
            "modes": sorted({e["mode"] for e in entries}),
            "owners": sorted({e["owner"] for e in entries}),
        }
