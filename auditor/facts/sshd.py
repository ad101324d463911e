"""``sshd_effective``: the SSH server's effective settings, as ``sshd -T`` resolves them.

``sshd -T`` applies Include files and first-value-wins, which a grep of sshd_config
cannot. It does not apply ``Match`` blocks, so those are read from the configuration
files and any Match block that loosens a watched setting is reported.
"""

from __future__ import annotations

import fnmatch
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

SNIPPET = "if ! command -v sshd >/dev/null 2>&1; then echo @@absent; exit 0; fi; echo @@settings; sshd -T"
# The configuration files themselves, for the Match blocks sshd -T does not apply (the host's archive).
FILES = ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/*"]

_ACCESS_KEYS = ("allowusers", "allowgroups")
# Settings whose loosening inside a Match block we report, with the values that are safe.
WATCHED = {"permitrootlogin": {"no"}, "passwordauthentication": {"no"}}


def parse_settings(lines: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in lines:
        key, _, value = line.strip().partition(" ")
        if key:
            settings.setdefault(key.lower(), value.strip())
    return settings


def match_overrides(files: dict[str, str]) -> list[dict[str, Any]]:
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
                if safe is not None and value not in safe:
                    found.append({"file": path, "line": number, "match": in_match, "setting": key, "value": value})
    return found


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
        overrides = match_overrides(files)
        return {
            "present": True,
            **settings,
            "access_lists": access,
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
