"""``audit_rules``: which account and sudo files the kernel's audit rules watch for changes.

The loaded rules are the kernel's (``auditctl -l`` as root, with ``auditctl -s`` for "enabled"). Where
the audit system does not answer (no root, a container or PID namespace: "Operation not permitted")
the rules that would be loaded at boot are read: what ``augenrules`` builds, i.e. the files of
/etc/audit/rules.d whose name ends in ".rules", in ``ls -v`` order, no hidden file; /etc/audit/audit.rules
is regenerated from them (read only when rules.d does not exist, or sysvinit's USE_AUGENRULES=no).
Rules on disk that nothing is known to have loaded audit nothing: the count is then a range from 0,
so that missing watches fail and present ones are unknown, never a pass.
"""

from __future__ import annotations

import shlex
from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, register, require_rc, sections

TARGETS = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers")
DIR = "/etc/audit/rules.d"

SNIPPET = (
    "AC=$(command -v auditctl 2>/dev/null || echo /sbin/auditctl); "
    "if [ ! -x \"$AC\" ]; then echo @@absent; exit 0; fi; echo @@uid; id -u; "
    "echo @@auditctl-s; \"$AC\" -s </dev/null 2>&1; echo @@auditctl-l; \"$AC\" -l </dev/null 2>&1; echo \"@@rc $?\"; "
    "echo @@default; grep -s '^[[:space:]]*USE_AUGENRULES' /etc/default/auditd; "
    # /etc/audit is root-only: without search permission there, rules.d's absence cannot be told
    f"if [ ! -x /etc/audit ]; then echo '@@unreadable {DIR}'; elif [ ! -d {DIR} ]; then echo @@no-rules-d; "
    f"elif [ -r {DIR} ] && [ -x {DIR} ]; then "
    # augenrules' own loop: "for rules in $(/bin/ls -1v DIR | grep '\\.rules$')"
    f"for r in $(/bin/ls -1v {DIR} | grep '\\.rules$'); do echo \"@@rules $r\"; "
    f"sed 's/^/|/' \"{DIR}/$r\" || echo \"@@unreadable {DIR}/$r\"; done; "
    f"else echo \"@@unreadable {DIR}\"; fi; "
    "echo @@audit.rules; sed 's/^/|/' /etc/audit/audit.rules 2>/dev/null || echo '@@unreadable /etc/audit/audit.rules'"
)  # fmt: skip


def _covers(path: str, subtree: bool, target: str) -> bool:
    path = path.rstrip("/") or "/"
    return target == path or (subtree and target.startswith(path.rstrip("/") + "/"))


def watched(rules: list[str]) -> list[str]:
    """The targets that a change to would be audited by one of ``rules`` (auditctl syntax, in load order):
    ``-w PATH [-p PERM]`` (a directory watch is recursive) or ``-a always,exit`` with ``-F path=`` /
    ``-F dir=`` whose ``perm`` (if any) has w or a. ``-D`` clears what came before; ``-e 0`` turns auditing off."""
    found: set[str] = set()
    enabled = True
    for line in rules:
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if not words:
            continue
        if words[0] == "-D":
            found.clear()
            continue
        if words[0] == "-e" and len(words) > 1:
            enabled = words[1] != "0"
            continue
        opts: dict[str, list[str]] = {}
        for flag, value in zip(words, [*words[1:], ""], strict=True):
            if flag.startswith("-") and len(flag) == 2:
                opts.setdefault(flag, []).append(value)
            elif flag.startswith("-w") and len(flag) > 2:  # -w/etc/passwd
                opts.setdefault("-w", []).append(flag[2:])
        fields = dict(f.split("=", 1) for f in opts.get("-F", []) if "=" in f)
        if "-w" in opts:
            perm = (opts.get("-p") or ["rwxa"])[0]
            spots = [(opts["-w"][0], True)]
        elif "-a" in opts and set(opts["-a"][0].split(",")) == {"always", "exit"}:
            perm = fields.get("perm", "rwxa")
            spots = [(fields[k], k == "dir") for k in ("path", "dir") if k in fields]
        else:
            continue
        if "w" in perm or "a" in perm:
            found.update(t for t in TARGETS for p, sub in spots if _covers(p, sub, t))
    return sorted(found) if enabled else []


def augenrules_lines(texts: list[str]) -> list[str]:
    """augenrules' output: comments and blank lines dropped, -D first, -e last (its awk filter)."""
    kept = [line for text in texts for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    first = [x for x in kept if x.split()[:1] == ["-D"]][-1:]
    last = [x for x in kept if x.lstrip().startswith("-e")][-1:]
    return first + [x for x in kept if x.split()[:1] != ["-D"] and not x.lstrip().startswith("-e")] + last


@register
class AuditRulesFact(FactType):
    name = "audit_rules"

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SNIPPET]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "reading the audit rules")
        found = sections(raw.stdout)
        if "absent" in found:
            return {"installed": False, "loaded": None, "watched_count": 0, "watched": [], "summary": "auditctl absent"}
        rc = next((k for k in found if k.startswith("rc ")), "rc ?")[3:]
        listed = [line for line in found.get("auditctl-l", []) if line.strip()]
        status = " ".join(found.get("auditctl-s", []))
        if rc == "0" and "enabled" in status:
            rules = [] if listed == ["No rules"] else listed
            on = "enabled 0" not in status
            files = watched(rules) if on else []
            note = "" if on else " (auditing disabled: enabled 0)"
            summary = f"auditctl -l: {len(rules)} loaded rules watch " + (", ".join(files) or "none") + note
            return {
                "installed": True,
                "loaded": True,
                "watched_count": len(files),
                "watched": files,
                "summary": summary,
            }
        why = (listed or ["no answer"])[0]
        unreadable = [k[len("unreadable ") :] for k in found if k.startswith("unreadable ")]
        if f"{DIR}" in unreadable:
            raise FactUnreadable(f"auditctl -l: {why}; and {DIR} cannot be read (root needed)")
        sources: list[str] = []
        texts: list[str] = []
        if "no-rules-d" not in found:
            names = [k[len("rules ") :] for k in found if k.startswith("rules ")]
            sources += [f"{DIR}/{n}" for n in names]
            texts += ["\n".join(x[1:] for x in found[f"rules {n}"]) for n in names]
        # sysvinit's init script loads audit.rules as it is when told not to run augenrules
        no_augenrules = any(v.split("=", 1)[-1].strip("\"' ").lower() == "no" for v in found.get("default", []))
        if "no-rules-d" in found or no_augenrules:
            sources.append("/etc/audit/audit.rules")
            texts.append("\n".join(x[1:] for x in found.get("audit.rules", [])))
        files = watched(augenrules_lines(texts))
        if unreadable and not files:
            raise FactUnreadable(f"auditctl -l: {why}; cannot read " + ", ".join(unreadable))
        summary = (f"auditctl -l: {why}: the loaded rules are unknown; the rules loaded at boot ("
                   + (", ".join(sources) or f"none in {DIR}") + ") watch " + (", ".join(files) or "none"))  # fmt: skip
        if files:
            summary += ", which nothing is known to have loaded"
        return {"installed": True, "loaded": False, "watched": files, "summary": summary,
                "watched_count": {"at_least": 0, "at_most": len(files)} if files else 0}  # fmt: skip
