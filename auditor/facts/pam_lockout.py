"""``pam_lockout``: whether repeated failed log-ons lock an account, for each PAM service named.

Read as Linux-PAM reads /etc/pam.d: a service without a file uses ``other``; ``#`` starts a comment
anywhere on a line; a trailing backslash continues it; ``@include``, ``include`` and ``substack``
pull in another file's lines of the same type. The service's auth stack is then run, on paper, in
the two cases that make a lockout: a wrong password (pam_faillock ``authfail`` must record it, and
the stack must fail) and an account already locked given the right password (the stack must fail:
a ``preauth`` or ``authsucc`` line reached before a success ends it). pam_faillock's ``deny`` is
read from faillock.conf (or ``conf=``), the last value wins, module arguments override it; 0 never
locks. Modules other than the password checkers, pam_deny, pam_rootok and pam_faillock are taken to
succeed: in the locked case that is the worst they could do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, check_name, name_schema, own_files, register

PAM_DIR = "/etc/pam.d/"
FAILLOCK_CONF = "/etc/security/faillock.conf"
FILES = [PAM_DIR + "*", FAILLOCK_CONF]
DEFAULT_SERVICES = ["sshd", "login"]
PASSWORD_MODULES = {"pam_unix", "pam_sss", "pam_ldap", "pam_krb5", "pam_winbind", "pam_userdb"}
SIMPLE = {
    "required": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "bad"},
    "requisite": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "die"},
    "sufficient": {"success": "done", "new_authtok_reqd": "done", "default": "ignore"},
    "optional": {"success": "ok", "new_authtok_reqd": "ok", "default": "ignore"},
}
MAX_DEPTH = 16  # Linux-PAM's own include limit is of this order; deeper is a loop


class BrokenStack(Exception):
    """The stack cannot be loaded as written (missing include, unknown control): PAM refuses it."""


@dataclass
class Entry:
    control: dict[str, str]
    module: str  # basename without .so
    args: list[str]
    origin: str
    substack: list[Entry] | None = None
    conf_deny: int = 3
    reached: bool = field(default=False, compare=False)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with continuations joined and comments removed."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        if raw.endswith("\\"):
            buf += raw[:-1] + " "
            continue
        line = (buf + raw).split("#", 1)[0].strip()
        buf = ""
        if line:
            out.append((start, line))
    return out


def parse_control(word: str) -> dict[str, str]:
    if word in SIMPLE:
        return SIMPLE[word]
    if not (word.startswith("[") and word.endswith("]")):
        raise BrokenStack(f"unknown control {word!r}")
    control = {}
    for pair in word[1:-1].split():
        key, _, value = pair.partition("=")
        control[key.lower()] = value.lower()
    return control


def faillock_deny(files: dict[str, str], path: str) -> int:
    deny = 3  # pam_faillock's default
    for _, line in logical_lines(files.get(path, "")):
        key, _, value = line.partition("=")
        if key.strip() == "deny" and value.strip().isdigit():
            deny = int(value.strip())
    return deny


def load(files: dict[str, str], name: str, ptype: str, depth: int = 0) -> list[Entry]:
    path = PAM_DIR + name
    if depth > MAX_DEPTH:
        raise BrokenStack(f"includes nest deeper than {MAX_DEPTH} at {path}")
    if path not in files:
        raise BrokenStack(f"{path} is missing")
    entries: list[Entry] = []
    for number, line in logical_lines(files[path]):
        origin = f"{path}:{number}"
        if line.startswith("@include"):
            words = line.split()
            if len(words) < 2:
                raise BrokenStack(f"{origin}: @include names no file")
            entries += load(files, words[1], ptype, depth + 1)
            continue
        match = re.match(r"(-?)(\S+)\s+(\[[^\]]*\]|\S+)\s*(.*)", line)
        if not match or match.group(2).lower() != ptype:
            continue
        word, rest = match.group(3), match.group(4).split()
        if word in ("include", "substack"):
            if not rest:
                raise BrokenStack(f"{origin}: {word} names no file")
            sub = load(files, rest[0], ptype, depth + 1)
            if word == "include":
                entries += sub
            else:
                # its die/done end the substack only; its result counts like a required module's
                entries.append(Entry(SIMPLE["required"], "substack", [], origin, sub))
            continue
        if not rest:
            raise BrokenStack(f"{origin}: no module")
        module = rest[0].rsplit("/", 1)[-1].removesuffix(".so")
        entries.append(Entry(parse_control(word.lower()), module, rest[1:], origin))
    return entries


def deny_of(entry: Entry, files: dict[str, str]) -> int:
    conf = next((a[5:] for a in entry.args if a.startswith("conf=")), FAILLOCK_CONF)
    deny = faillock_deny(files, conf)
    for arg in entry.args:  # arguments are read after the configuration file: they win
        if arg.startswith("deny=") and arg[5:].isdigit():
            deny = int(arg[5:])
    return deny


def outcome(entry: Entry, locked: bool, files: dict[str, str]) -> str:
    if entry.module == "pam_faillock":
        mode = next((a for a in entry.args if a in ("preauth", "authfail", "authsucc")), "")
        if locked and deny_of(entry, files) > 0:
            return "auth_err"
        return "ignore" if mode == "authfail" else "success"
    if entry.module in PASSWORD_MODULES:
        return "success" if locked else "auth_err"
    if entry.module in ("pam_deny", "pam_rootok"):
        return "auth_err"
    return "success"


def run(stack: list[Entry], locked: bool, files: dict[str, str]) -> bool:
    """Whether the stack succeeds, with Linux-PAM's actions (ok, done, bad, die, ignore, reset, N)."""
    impression, status = None, "auth_err"
    i = 0
    while i < len(stack):
        entry = stack[i]
        entry.reached = True
        if entry.substack is not None:
            result = "success" if run(entry.substack, locked, files) else "auth_err"
        else:
            result = outcome(entry, locked, files)
        action = entry.control.get(result, entry.control.get("default", "bad"))
        i += 1
        if action == "reset":
            impression, status = None, "auth_err"
        elif action in ("ok", "done"):
            if (impression is None or (impression == "+" and status == "success")) and result != "ignore":
                impression, status = "+", result
            if action == "done":
                break
        elif action in ("bad", "die"):
            if impression != "-":
                impression, status = "-", result if result != "success" else "auth_err"
            if action == "die":
                break
        elif action.isdigit():
            i += int(action)
    return impression == "+" and status == "success"


def _flat(stack: list[Entry]) -> list[Entry]:
    return [e for entry in stack for e in ([entry] if entry.substack is None else _flat(entry.substack))]


def judge_service(files: dict[str, str], service: str) -> str | None:
    """None when the service's auth stack locks accounts out, else why not."""
    name = service if PAM_DIR + service in files else "other"
    try:
        wrong = load(files, name, "auth")
        locked = load(files, name, "auth")
    except BrokenStack as exc:
        return f"{service}: PAM configuration cannot be loaded ({exc})"
    faillock = [e for e in _flat(wrong) if e.module == "pam_faillock"]
    if not faillock:
        return f"{service}: no pam_faillock in its auth stack"
    if all(deny_of(e, files) == 0 for e in faillock):
        return f"{service}: pam_faillock deny = 0 (never locks)"
    if run(wrong, False, files):
        return f"{service}: a wrong password is accepted"
    if not any(e.reached and e.module == "pam_faillock" and "authfail" in e.args for e in _flat(wrong)):
        return f"{service}: a wrong password is never recorded (no pam_faillock authfail reached after it)"
    if run(locked, True, files):
        return f"{service}: a locked account still logs on with the right password (no preauth before a success)"
    return None


@register
class PamLockoutFact(FactType):
    name = "pam_lockout"
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"services": {"type": "array", "items": name_schema("A-Za-z0-9._-")}},
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return []

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        files, unreadable = own_files(outputs[-1], FILES)
        if unreadable:
            raise FactUnreadable("cannot read " + ", ".join(unreadable) + " (permission denied?)")
        if not any(path.startswith(PAM_DIR) for path in files):
            raise FactUnreadable(f"no PAM configuration under {PAM_DIR}")
        services = [check_name(s) for s in params.get("services", DEFAULT_SERVICES)]
        problems = [p for p in (judge_service(files, s) for s in services) if p]
        return {"services": services, "without_lockout": problems}
