"""``sshd_effective``: the SSH server's effective settings, as ``sshd -T`` resolves them.

``sshd -T`` applies Include files and first-value-wins, which a grep of sshd_config
cannot. It does not apply ``Match`` blocks, so those are read from the configuration
files and any Match block that loosens a watched setting is reported.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from auditor.facts.base import (
    FactUnreadable,
    RawOutput,
    ScriptFact,
    own_files,
    register,
    require_rc,
    sections,
    split_words,
)

# The banner sshd sends is the file its effective ``banner`` names: read that one (as root), no other.
SNIPPET = (
    "if ! command -v sshd >/dev/null 2>&1; then echo @@absent; exit 0; fi; "
    "s=$(sshd -T </dev/null) || exit $?; echo @@settings; printf '%s\\n' \"$s\"; "
    "b=$(printf '%s\\n' \"$s\" | sed -n 's/^banner //p'); "
    'case $b in none|"") ;; /*) if [ ! -e "$b" ]; then echo @@banner-missing; '
    'elif [ -r "$b" ]; then echo @@banner-text; head -c 65536 -- "$b" | sed "s/^/|/"; '
    "else echo @@banner-unreadable; fi;; "
    "*) echo @@banner-relative;; esac"
)
# The configuration files themselves, for the Match blocks sshd -T does not apply (the host's archive).
FILES = ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/*"]

_ACCESS_KEYS = ("allowusers", "allowgroups")


def _alive_interval(value: str, settings: dict[str, str]) -> bool:
    return value.isdigit() and 0 < int(value) <= 900


def _alive_count(value: str, settings: dict[str, str]) -> bool:
    return value.isdigit() and int(value) > 0  # 0 disables termination (sshd_config(5))


def _named_only(value: str, settings: dict[str, str]) -> bool:
    # An entry whose user (or group) part is only wildcards admits anyone the Match selects.
    return not any(set(entry.split("@", 1)[0]) <= {"*", "?"} for entry in value.split())


def _same_banner(value: str, settings: dict[str, str]) -> bool:
    return value == settings.get("banner", "none").lower() and value != "none"


# Settings a Match block may set (sshd refuses Ciphers, MACs, KexAlgorithms and LoginGraceTime
# there), each with whether a value keeps the global rule.
WATCHED: dict[str, Callable[[str, dict[str, str]], bool]] = {
    "permitrootlogin": lambda v, s: v == "no",
    "passwordauthentication": lambda v, s: v == "no",
    "clientaliveinterval": _alive_interval,
    "clientalivecountmax": _alive_count,
    "allowusers": _named_only,
    "allowgroups": _named_only,
    "banner": _same_banner,
}


def parse_settings(lines: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in lines:
        key, _, value = line.strip().partition(" ")
        if key:
            settings.setdefault(key.lower(), value.strip())
    return settings


def match_overrides(files: dict[str, str], settings: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Watched settings set to an unsafe value inside Match blocks of the given files.

    Only files reached from sshd_config (its Include lines) count: a stray file in
    sshd_config.d that nothing includes is not configuration.
    """
    main = "/etc/ssh/sshd_config"
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order or path not in files:
            return
        order.append(path)
        for line in files[path].splitlines():
            words = line.split()
            if len(words) >= 2 and words[0].lower() == "include":
                for pattern in words[1:]:
                    pattern = pattern if pattern.startswith("/") else "/etc/ssh/" + pattern
                    for name in sorted(f for f in files if fnmatch.fnmatch(f, pattern)):
                        visit(name)

    visit(main)
    found = []
    for path in order:
        in_match: str | None = None
        for number, line in enumerate(files[path].splitlines(), 1):
            stripped = line.split("#", 1)[0].strip()
            if not stripped:
                continue
            try:
                words = split_words(stripped)
            except ValueError:
                words = stripped.split()
            key = words[0].lower()
            if key == "match":
                in_match = " ".join(words[1:])
                continue
            value = " ".join(words[1:]).lower()
            if in_match:  # "Match all" too: it re-applies to every connection
                safe = WATCHED.get(key)
                if safe is not None and not safe(value, settings or {}):
                    found.append({"file": path, "line": number, "match": in_match, "setting": key, "value": value})
    return found


def banner_state(found: dict[str, list[str]]) -> str:
    """What became of the file sshd's effective Banner names: none, missing, read, unreadable, relative."""
    for state in ("missing", "text", "unreadable", "relative"):
        if f"banner-{state}" in found:
            return "read" if state == "text" else state
    return "none"


@register
class SshdEffectiveFact(ScriptFact):
    name = "sshd_effective"
    script = SNIPPET

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        found = sections(raw.stdout)
        if "absent" in found:
            return {"present": False}
        require_rc(raw, "sshd -T")
        settings = parse_settings(found.get("settings", []))
        # AllowUsers/AllowGroups print one line per entry and nothing when unset: keep them all.
        access = [ln.strip() for ln in found.get("settings", []) if ln.split(" ", 1)[0].lower() in _ACCESS_KEYS]
        if not settings:
            raise FactUnreadable("sshd -T printed no settings")
        files, _ = own_files(outputs[-1], FILES, all_readable=True)  # else a Match block there goes unseen
        overrides = match_overrides(files, settings)
        return {
            "present": True,
            **settings,
            "access_lists": access,
            "banner_file": banner_state(found),
            # each line came prefixed with "|": file content cannot start a section of its own
            "banner_text": "\n".join(line[1:] for line in found.get("banner-text", [])),
            # per watched setting: Match blocks that set it to an unsafe value (sshd -T does not show them)
            "match_overrides": {
                key: [
                    f"{o['file']}:{o['line']} Match {o['match']}: {key} {o['value']}"
                    for o in overrides
                    if o["setting"] == key
                ]
                for key in WATCHED
            },
        }
