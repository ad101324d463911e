"""``syslog_forwarding``: where does this host forward its logs?

rsyslog says itself which files it reads: ``rsyslogd -N1 -o FILE`` (rsyslog 8.2204 and later)
validates the configuration as the daemon would load it and writes it out with a
``##### BEGIN CONFIG: <path>`` line for each file its includes reached (``$IncludeConfig``,
``include()``, in its order, wherever they are). Those files are read (one tar, base64, so their
content cannot fake our markers) and only they count. A forwarding rule on or just before a line
rsyslog reports as an error may be disabled ("action disabled"): it is not counted, and when no
other rule is left the fact is unreadable, never a pass or a fail. Where rsyslogd cannot be asked
(too old for ``-o``), the files are followed as the daemon would: only files reached from
``rsyslog.conf`` through ``$IncludeConfig`` / ``include(file=...)`` count. Comments
(``#`` and ``/* */``) are ignored. Recognised: rsyslog legacy ``@host`` / ``@@host:port``
and ``:omfwd:``, RainerScript ``action(type="omfwd" target=...)``, syslog-ng
destinations used in a ``log`` path, and systemd-journal-upload's ``URL=``.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any
from urllib.parse import urlparse

from auditor.facts.base import (
    FactType,
    FactUnreadable,
    RawOutput,
    own_files,
    parse_files,
    register,
    require_rc,
    sections,
)

RSYSLOG_MAIN = "/etc/rsyslog.conf"
SYSLOG_NG_MAIN = "/etc/syslog-ng/syslog-ng.conf"
FILES = [
    "/etc/rsyslog.conf", "/etc/rsyslog.d/*", "/etc/syslog-ng/syslog-ng.conf", "/etc/syslog-ng/conf.d/*",
    "/etc/systemd/journal-upload.conf", "/etc/systemd/journal-upload.conf.d/*",
]  # fmt: skip

# rsyslog's own reading: the files it reads (markers of -o), its exit code and errors, those files.
RSYSLOG_SNIPPET = (
    "r=$(command -v rsyslogd || { [ -x /usr/sbin/rsyslogd ] && echo /usr/sbin/rsyslogd; }); "
    '[ -n "$r" ] || { echo @@no-rsyslogd; exit 0; }; t=$(mktemp) || exit 1; '
    '"$r" -N1 -o "$t" </dev/null >/dev/null 2>"$t.err"; echo "@@rc $?"; echo @@errors; cat "$t.err"; '
    'echo @@read; sed -n \'s/^##### BEGIN CONFIG: \\(.*\\) (put on stack)$/\\1/p\' "$t" >"$t.list"; cat "$t.list"; '
    'set --; while IFS= read -r f; do [ -f "$f" ] && set -- "$@" "${f#/}"; done <"$t.list"; '
    'rm -f "$t" "$t.err" "$t.list"; '
    'echo @@tar; [ $# -eq 0 ] || tar -C / -chf - -- "$@" | base64'
)
_ERROR = re.compile(r"error during parsing file (/\S+?), on or before line (\d+)")

_LEGACY = re.compile(r"(?:^|[\s;])(@@?)(?:\([^)]*\))?(\[[^\]]+\]|[A-Za-z0-9_.\-]+)(?::(\d+))?")
_OMFWD_LEGACY = re.compile(r":omfwd:(\[[^\]]+\]|[A-Za-z0-9_.\-]+)(?::(\d+))?", re.IGNORECASE)
_ACTION = re.compile(r"\baction\s*\(", re.IGNORECASE)
_PARAM = re.compile(r"""([A-Za-z.]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_INCLUDE_LEGACY = re.compile(r"^\s*\$IncludeConfig\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_INCLUDE_SCRIPT = re.compile(r"\binclude\s*\(([^)]*)\)", re.IGNORECASE)


# Tokens that matter for comments, in the order rsyslog reads them: a legacy "$" directive line (taken as
# is: "$IncludeConfig /etc/rsyslog.d/*.conf" is a path, not a comment), quoted strings (kept), a "/* */"
# block opened where a token starts, and "#" to the end of the line.
_COMMENT_TOKENS = re.compile(
    r"""(?P<dollar>^[ \t]*\$[^\n]*)|(?P<quoted>"(?:\\.|[^"\\])*"|'[^'\n]*')"""
    r"""|(?P<block>(?<!\S)/\*.*?(?:\*/|\Z))|(?P<line>\#[^\n]*)""",
    re.MULTILINE | re.DOTALL,
)


def _blank(match: re.Match[str]) -> str:
    if match.lastgroup in ("dollar", "quoted"):
        return match.group(0)
    return "\n" * match.group(0).count("\n")  # keep line numbers


def strip_comments(text: str) -> str:
    """Remove ``/* */`` blocks and ``#`` comments outside quotes, keeping line numbers."""
    return _COMMENT_TOKENS.sub(_blank, text)


def _host(value: str) -> str:
    return value.strip().strip("[]").lower()


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _action_blocks(text: str) -> list[tuple[int, str]]:
    blocks = []
    for m in _ACTION.finditer(text):
        depth, i, quote_char = 1, m.end(), ""
        while i < len(text) and depth:
            ch = text[i]
            if quote_char:
                quote_char = "" if ch == quote_char else quote_char
            elif ch in "\"'":
                quote_char = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
        blocks.append((m.start(), text[m.end() : i - 1]))
    return blocks


_RULESET = re.compile(r"""\bruleset\s*\(\s*name\s*=\s*["']([^"']+)["'][^)]*\)\s*\{""", re.IGNORECASE)


def _unused_ruleset_spans(text: str, all_text: str) -> list[tuple[int, int]]:
    """Spans of ``ruleset(name=X) { ... }`` blocks that no input binds and no ``call X`` reaches.

    Actions there never see a message, so they forward nothing.
    """
    spans = []
    for m in _RULESET.finditer(text):
        name = re.escape(m.group(1))
        used = re.search(
            rf"""ruleset\s*=\s*["']{name}["']|\bcall\s+{name}\b|\$\w*ruleset\s+{name}\b""",
            all_text,
            re.IGNORECASE,
        )
        if used:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        spans.append((m.start(), i))
    return spans


def rsyslog_targets(path: str, raw_text: str, all_text: str | None = None) -> list[dict[str, Any]]:
    """Forwarding targets in one rsyslog file; ``all_text`` (every file read) decides which rulesets are used."""
    text = strip_comments(raw_text)
    dead = _unused_ruleset_spans(text, strip_comments(all_text if all_text is not None else raw_text))
    targets = []
    for start, body in _action_blocks(text):
        if any(a <= start < b for a, b in dead):
            continue
        params = {k.lower(): (v1 if v1 is not None else v2) for k, v1, v2 in _PARAM.findall(body)}
        if params.get("type", "").lower() == "omfwd" and params.get("target"):
            targets.append(
                {
                    "host": _host(params["target"]),
                    "port": int(params.get("port") or 514),
                    "protocol": params.get("protocol", "udp").lower(),
                    "file": path,
                    "line": _line_of(text, start),
                    "syntax": "omfwd",
                }
            )
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in _LEGACY.finditer(line):
            targets.append(
                {
                    "host": _host(m.group(2)),
                    "port": int(m.group(3) or 514),
                    "protocol": "tcp" if m.group(1) == "@@" else "udp",
                    "file": path,
                    "line": lineno,
                    "syntax": "legacy",
                }
            )
        for m in _OMFWD_LEGACY.finditer(line):
            targets.append(
                {
                    "host": _host(m.group(1)),
                    "port": int(m.group(2) or 514),
                    "protocol": "udp",
                    "file": path,
                    "line": lineno,
                    "syntax": ":omfwd:",
                }
            )
    return targets


def rsyslog_includes(raw_text: str) -> list[str]:
    text = strip_comments(raw_text)
    patterns = _INCLUDE_LEGACY.findall(text)
    for body in _INCLUDE_SCRIPT.findall(text):
        params = {k.lower(): (v1 if v1 is not None else v2) for k, v1, v2 in _PARAM.findall(body)}
        if params.get("file"):
            patterns.append(params["file"])
    return patterns


def rsyslog_files(files: dict[str, str]) -> list[str]:
    """Files rsyslog reads, in order: the main file and what its include directives reach."""
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order or path not in files:
            return
        order.append(path)
        for pattern in rsyslog_includes(files[path]):
            # A directory include reads the files in it.
            pattern = (
                pattern.rstrip("/") + "/*"
                if not any(c in pattern for c in "*?[") and any(f.startswith(pattern.rstrip("/") + "/") for f in files)
                else pattern
            )
            for name in sorted(f for f in files if fnmatch.fnmatch(f, pattern)):
                visit(name)

    visit(RSYSLOG_MAIN)
    return order


def syslog_ng_targets(files: dict[str, str]) -> list[dict[str, Any]]:
    texts = {
        p: strip_comments(t) for p, t in files.items() if p == SYSLOG_NG_MAIN or p.startswith("/etc/syslog-ng/conf.d/")
    }
    destinations: dict[str, list[dict[str, Any]]] = {}
    used: set[str] = set()
    driver = re.compile(r"\b(network|tcp|udp|tcp6|udp6|syslog)\s*\(\s*[\"']?([A-Za-z0-9_.:\-\[\]]+)[\"']?", re.I)
    for path, text in texts.items():
        for m in re.finditer(r"\bdestination\s+([A-Za-z0-9_]+)\s*\{(.*?)\};", text, re.S):
            for d in driver.finditer(m.group(2)):
                port = re.search(r"\bport\s*\(\s*(\d+)", m.group(2))
                destinations.setdefault(m.group(1), []).append(
                    {
                        "host": _host(d.group(2)),
                        "port": int(port.group(1)) if port else 514,
                        "protocol": d.group(1).lower(),
                        "file": path,
                        "line": _line_of(text, m.start()),
                        "syntax": "syslog-ng",
                    }
                )
        for m in re.finditer(r"\blog\s*\{(.*?)\};", text, re.S):
            used.update(re.findall(r"\bdestination\s*\(\s*([A-Za-z0-9_]+)\s*\)", m.group(1)))
    return [t for name in sorted(used) for t in destinations.get(name, [])]


def journal_upload_targets(files: dict[str, str]) -> list[dict[str, Any]]:
    targets = []
    for path, text in files.items():
        if not path.startswith("/etc/systemd/journal-upload.conf"):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            key, _, value = line.strip().partition("=")
            if key.strip() == "URL" and value.strip():
                url = urlparse(value.strip() if "://" in value else "https://" + value.strip())
                targets.append(
                    {
                        "host": _host(url.hostname or ""),
                        "port": url.port or 19532,
                        "protocol": url.scheme,
                        "file": path,
                        "line": lineno,
                        "syntax": "journal-upload",
                    }
                )
    return targets


def _doubtful(targets: list[dict[str, Any]], errors: list[str]) -> list[dict[str, Any]]:
    """Targets rsyslog may have disabled: the last one starting on or before a line it reports as an error."""
    doubtful = []
    for m in (_ERROR.search(line) for line in errors):
        if m is None:
            continue
        before = [t for t in targets if t["file"] == m.group(1) and t["line"] <= int(m.group(2))]
        if before:
            last = max(t["line"] for t in before)
            doubtful += [t for t in before if t["line"] == last and t not in doubtful]
    return doubtful


def rsyslog_reading(raw: RawOutput) -> dict[str, Any] | None:
    """rsyslog's own reading, or None when rsyslogd cannot tell which files it reads (absent, too old for -o)."""
    require_rc(raw, "rsyslogd -N1")
    found = sections(raw.stdout)
    if "no-rsyslogd" in found:
        return None
    code = next((k.split()[1] for k in found if k.startswith("rc ") and len(k.split()) == 2), "")
    order = list(dict.fromkeys(line for line in found.get("read", []) if line.startswith("/")))
    if not order:  # no -o (rsyslog before 8.2204) or it could not read its main file
        return None
    files, unreadable = parse_files(found.get("tar", []), raw.stderr)
    errors = [line for line in found.get("errors", []) if "error" in line.lower()] if code != "0" else []
    return {"order": order, "files": files, "unreadable": unreadable + [p for p in order if p not in files],
            "errors": errors}  # fmt: skip


@register
class SyslogForwardingFact(FactType):
    name = "syslog_forwarding"

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [RSYSLOG_SNIPPET]  # and the files of syslog-ng and journal-upload, from the host's archive

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        files, unreadable = own_files(outputs[-1], FILES)
        own = rsyslog_reading(outputs[0])
        doubtful: list[dict[str, Any]] = []
        if own is not None:
            read, rsyslog_texts, unreadable = own["order"], own["files"], own["unreadable"]
            reading = "rsyslogd -N1"
        else:
            read, rsyslog_texts, reading = rsyslog_files(files), files, "the files rsyslog.conf includes"
        everything = "\n".join(rsyslog_texts.get(path, "") for path in read)
        targets = [
            t for path in read if path in rsyslog_texts for t in rsyslog_targets(path, rsyslog_texts[path], everything)
        ]
        if own is not None and own["errors"]:
            doubtful = _doubtful(targets, own["errors"])
            targets = [t for t in targets if t not in doubtful]
        targets += syslog_ng_targets(files) + journal_upload_targets(files)
        if not targets and (unreadable or doubtful):
            why = [f"cannot read {', '.join(unreadable)}"] if unreadable else []
            why += [f"rsyslog reports an error at {t['file']}:{t['line']} (forwarding rule perhaps disabled): "
                    + own["errors"][0][:200] for t in doubtful[:1] if own]  # fmt: skip
            raise FactUnreadable("; ".join(why))
        return {
            "targets": targets,
            "target_hosts": sorted({t["host"] for t in targets}),
            "reading": reading,
            "files_read": read,
            "files_ignored": sorted(f for f in files if f not in read and f.startswith("/etc/rsyslog")),
            "unreadable": unreadable,
            "config_errors": own["errors"] if own else [],
            "summary": ", ".join(f"{t['host']}:{t['port']}/{t['protocol']} ({t['file']}:{t['line']})" for t in targets)
            + f" (files read as {reading} says)"
            if targets
            else "no forwarding rule in " + (", ".join(read) or "any file") + f" (files read as {reading} says)",
        }
