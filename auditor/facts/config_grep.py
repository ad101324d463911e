"""``config_grep``: uncommented lines matching a pattern in configuration files (cron jobs, directives).

The facts of a host share one ``grep`` (merge_params): one process instead of one a fact, the
largest share of the batch's cost after sshd and apt (bench/README.md). The shared snippet prints
the patterns it gives grep, then each fact's files as the host's shell expanded them, then grep's
lines; each fact keeps the lines of its own files that its own pattern matches, by the exact
translation of its ERE (``ere.py``). Should grep and the translation ever disagree on a line (grep
printed it, no pattern matches it in Python), every fact of the host reading that output is an
error: never a verdict from a reading the auditor cannot vouch for. Facts whose patterns do not
translate exactly are not merged: each runs its own grep, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from auditor.facts import ere
from auditor.facts.base import (
    ABS_PATH,
    FactType,
    FactUnreadable,
    RawOutput,
    existing_files,
    quote,
    register,
    require_rc,
)

_PATTERN, _FILES, _GREP = "@@pattern ", "@@files ", "@@grep"


def _group_key(paths: list[str]) -> str:
    return json.dumps(paths)  # one line, ASCII: the header of a fact's file list


def _split_line(line: str, files: list[str]) -> tuple[str, int, str] | None:
    """``path:lineno:text`` of grep -Hn, with the path one of ``files`` (a path may hold ":")."""
    for path in files:
        if line.startswith(path + ":"):
            lineno, sep, text = line[len(path) + 1 :].partition(":")
            return (path, int(lineno), text) if sep and lineno.isdigit() else None
    return None


@register
class ConfigGrepFact(FactType):
    name = "config_grep"
    params_schema = {
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": ABS_PATH, "minItems": 1},
            # given to grep after -e, so a leading "-" is a pattern; a newline would make two patterns
            "pattern": {"type": "string", "pattern": r"^[^\x00-\x1f\x7f]+\Z"},
        },
        "required": ["paths", "pattern"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        if "groups" in params:  # merged (merge_params)
            lines = [f"printf '%s\\n' {' '.join(quote(_PATTERN + p) for p in params['patterns'])}; set --; "]
            for paths in params["groups"]:
                lines.append(f"printf '%s\\n' {quote(_FILES + _group_key(paths))}; ")
                lines.append(existing_files(paths, "printf '%s\\n' \"$f\"; "))
            patterns = " ".join(f"-e {quote(p)}" for p in params["patterns"])
            lines.append(f'echo {_GREP}; [ $# -eq 0 ] || grep -HnE {patterns} -- "$@"')
            return ["".join(lines)]
        return [
            "set --; " + existing_files(params["paths"])
            + f'[ $# -eq 0 ] || grep -HnE -e {quote(params["pattern"])} -- "$@"'
        ]  # fmt: skip

    def merge_params(self, params: list[dict[str, Any]]) -> dict[str, Any] | None:
        for p in params:
            if "\n" in p["pattern"] or not all(path.startswith("/") for path in p["paths"]):
                return None  # grep reads a newline as two patterns; output lines start with "/"
            try:
                ere.translate(p["pattern"])
            except ere.Unsupported:
                return None
        groups: list[list[str]] = []
        for p in params:
            if p["paths"] not in groups:
                groups.append(p["paths"])
        return {"groups": groups, "patterns": list(dict.fromkeys(p["pattern"] for p in params))}

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        # Exit 1 is "no line matched"; 2 is trouble: unreadable files (judged below, file by file), or
        # anything else (a bad pattern...), which leaves nothing to judge. No exit code at all (a timeout,
        # an unfinished batch) must never read as "no line matched": that would pass "empty" checks.
        require_rc(raw, "grep", ok=(0, 1, 2))
        trouble = [line for line in raw.stderr.splitlines() if line.strip() and "Permission denied" not in line]
        if raw.rc == 2 and trouble:
            raise FactUnreadable(f"grep failed: {trouble[0][:200]}")
        own, files = self._read(raw, params)
        found = [
            {"file": path, "line": lineno, "text": text.strip()[:300]}
            for path, lineno, text in own
            if not text.lstrip().startswith("#")
        ]
        # Merged, stderr is every fact's: only this fact's files count.
        denied = [
            line
            for line in raw.stderr.splitlines()
            if "Permission denied" in line and (files is None or any(f in line for f in files))
        ]
        if not found and denied:
            raise FactUnreadable("cannot read: " + "; ".join(denied[:3]))
        return {"matches": found, "count": len(found), "files": sorted({m["file"] for m in found})}

    def evidence_command(self, params: dict[str, Any], ran: list[str]) -> str:
        """Its own grep, which reads the same lines (tests/lab/test_shared_reads_on_hosts.py): the shared
        snippet, several KB, would otherwise be repeated in the evidence of every fact it served."""
        own = self.snippets(params)[0]
        shared = "\n# this fact's lines, read from one grep shared by the host's config_grep facts"
        return own if ran == [own] else own + shared

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        """Merged: this fact's own lines, as its own grep would have printed them."""
        own, files = self._read(outputs[0], params)
        return outputs[0].stdout if files is None else "".join(f"{p}:{n}:{t}\n" for p, n, t in own)

    def _read(self, raw: RawOutput, params: dict[str, Any]) -> tuple[list[tuple[str, int, str]], set[str] | None]:
        """This fact's (path, line number, text) lines, and its files when the grep was shared (else None)."""
        if not raw.stdout.startswith(_PATTERN):  # its own grep: every line is its own
            own = []
            for line in raw.stdout.split("\n"):
                path, _, rest = line.partition(":")
                lineno, sep, text = rest.partition(":")
                if sep and lineno.isdigit():
                    own.append((path, int(lineno), text))
            return own, None
        reading = _shared_reading(raw.stdout)
        files = reading.groups.get(_group_key(params["paths"]))
        if files is None or params["pattern"] not in reading.patterns:
            raise FactUnreadable("the shared grep's output lacks this fact's files or pattern")
        own_pattern, own_files = reading.patterns.index(params["pattern"]), set(files)
        order = {path: n for n, path in reversed(list(enumerate(files)))}
        own = [(path, n, text) for path, n, text, hits in reading.lines if path in own_files and own_pattern in hits]
        own.sort(key=lambda line: (order[line[0]], line[1]))  # as its own grep: its files in its order
        return own, own_files


@dataclass(frozen=True)
class _SharedReading:
    patterns: list[str]
    groups: dict[str, list[str]]  # group key -> its files, as the host's shell expanded them
    lines: list[tuple[str, int, str, frozenset[int]]]  # path, line number, text, indexes of the patterns matched


@lru_cache(maxsize=64)
def _shared_reading(stdout: str) -> _SharedReading:
    """The shared output, read once a host (every config_grep fact of the host reads the same text;
    hosts built from one image print the same text: one reading for all of them)."""
    patterns, groups, grep_lines = _shared_output(stdout)
    every_file = sorted({f for group in groups.values() for f in group}, key=len, reverse=True)
    compiled = [ere.translate(p) for p in patterns]
    lines, seen = [], set()
    for line in grep_lines:
        parsed = _split_line(line, every_file)
        if parsed is None:
            continue  # "Binary file ... matches" from an old grep, the last newline
        path, lineno, text = parsed
        data = ere.as_bytes(text)
        hits = frozenset(i for i, pattern in enumerate(compiled) if pattern.search(data))
        if not hits:
            raise FactUnreadable(f"grep and the auditor read {path}:{lineno} differently: not judged")
        if (path, lineno) not in seen:  # a file two groups list is grepped twice
            seen.add((path, lineno))
            lines.append((path, lineno, text, hits))
    return _SharedReading(patterns, groups, lines)


def _shared_output(stdout: str) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """The shared snippet's output: the patterns, each group's files, grep's lines."""
    patterns: list[str] = []
    groups: dict[str, list[str]] = {}
    lines = stdout.split("\n")
    current: list[str] = []
    for n, line in enumerate(lines):
        if line == _GREP:
            return patterns, groups, lines[n + 1 :]
        if line.startswith(_PATTERN):
            patterns.append(line[len(_PATTERN) :])
        elif line.startswith(_FILES):
            current = groups.setdefault(line[len(_FILES) :], [])
        elif line:
            current.append(line)
    raise FactUnreadable("the shared grep's output is incomplete")
