"""``accounts``: local accounts as the system itself sees them (NSS: ``getent passwd``/``getent shadow``).

The C library, not a line reader, decides what an account is: it skips ``#`` lines, strips leading
blanks, and returns the first entry of a name (``getpwnam``/``getspnam``), so a later duplicate line
is never used. pam_unix takes the password from /etc/passwd unless that field is ``x`` (or
``##name``): an empty passwd field is an empty password whatever /etc/shadow says. The password
maximum age of an existing account is its shadow field 5; /etc/login.defs' PASS_MAX_DAYS only
seeds accounts created later, and is read as shadow-utils' getdef reads it (last value wins, the
number parsed by strtol base 0 and wholly, else useradd falls back to "never").
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, own_files, register, require_rc, sections

# getent shadow answers nothing (and exits 0) to a non-root caller: refuse to judge an empty list.
SNIPPET = (
    'if [ "$(id -u)" != 0 ]; then echo @@notroot; exit 0; fi; '
    "echo @@passwd; getent passwd </dev/null || exit $?; echo @@shadow; getent shadow </dev/null"
)
LOGIN_DEFS = "/etc/login.defs"
NEVER = -1  # PASS_MAX_DAYS unset, unparseable or not positive: passwords never expire


def strtol0(text: str) -> int | None:
    """C ``strtol(text, &end, 0)`` that must consume all of ``text`` (shadow-utils' getlong)."""
    s = text.lstrip(" \t\n\v\f\r")
    sign = -1 if s[:1] == "-" else 1
    s = s[1:] if s[:1] in "+-" and s else s
    if s[:2].lower() == "0x" and len(s) > 2:
        digits, base = s[2:], 16
    elif s[:1] == "0" and len(s) > 1:
        digits, base = s[1:], 8
    else:
        digits, base = s, 10
    try:
        return sign * int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        return None


def login_defs_value(text: str, name: str) -> str | None:
    """The value getdef.c's def_load keeps for ``name``: the last line that sets it wins."""
    found = None
    for raw in text.splitlines():
        line = raw.rstrip().lstrip(" \t")
        if not line or line.startswith("#"):
            continue
        cut = next((i for i, ch in enumerate(line) if ch in " \t"), -1)
        if cut < 0:
            continue  # a name without a value sets nothing
        if line[:cut] == name:
            found = line[cut:].lstrip(' "\t').split('"', 1)[0]
    return found


def pass_max_days(text: str) -> tuple[int, str]:
    """(days, how it was read) for PASS_MAX_DAYS as useradd applies it (NEVER when it would not)."""
    value = login_defs_value(text, "PASS_MAX_DAYS")
    if value is None:
        return NEVER, "PASS_MAX_DAYS not set (useradd: never expires)"
    days = strtol0(value)
    if days is None:
        return NEVER, f"PASS_MAX_DAYS {value!r} cannot be parsed (useradd: never expires)"
    return (days if days > 0 else NEVER), f"PASS_MAX_DAYS {value}"


def first_entries(lines: list[str], fields: int) -> dict[str, list[str]]:
    """name -> fields of the first entry of each name (what getpwnam/getspnam return)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        parts = line.split(":")
        if len(parts) >= fields and parts[0]:
            out.setdefault(parts[0], parts)
    return out


def judge(passwd: dict[str, list[str]], shadow: dict[str, list[str]], limit: int) -> dict[str, Any]:
    uid0, empty, over, usable = [], [], [], 0
    for name, pw in passwd.items():
        if pw[2].strip().isdigit() and int(pw[2]) == 0:
            uid0.append(name)
        shadowed = pw[1] == "x" or pw[1] == "##" + name
        sp = shadow.get(name) if shadowed else None
        if shadowed and sp is None:
            continue  # pam_unix then compares with "x": no password can match
        password = sp[1] if sp is not None else pw[1]
        if password == "":
            empty.append(name if sp is not None else f"{name} (empty field in /etc/passwd)")
        if password.startswith(("!", "*")):
            continue  # locked, or no password was ever set: no password log-on
        usable += 1
        if sp is None:
            over.append(f"{name}: password in /etc/passwd, no ageing")
        elif sp[2] == "":
            over.append(f"{name}: ageing disabled (no last-change date)")
        elif not sp[4].strip().lstrip("-").isdigit() or not 0 < int(sp[4]) <= limit:
            over.append(f"{name}: maximum age {sp[4] or 'never'}")
    return {
        "uid0": uid0,
        "uid0_other": [name for name in uid0 if name != "root"],
        "empty_password": empty,
        "over_max_age": over,
        "usable_passwords": usable,
    }


@register
class AccountsFact(FactType):
    name = "accounts"
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"max_days": {"type": "integer", "minimum": 1, "maximum": 99999}},
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SNIPPET]

    def files(self, params: dict[str, Any]) -> list[str]:
        return [LOGIN_DEFS]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "getent passwd/shadow")
        found = sections(raw.stdout)
        if "notroot" in found:
            raise FactUnreadable("reading the shadow entries (getent shadow) needs root")
        passwd = first_entries(found.get("passwd", []), 7)
        if not passwd:
            raise FactUnreadable("getent passwd listed no account")
        shadow = first_entries(found.get("shadow", []), 9)
        limit = int(params.get("max_days", 90))
        files, _ = own_files(outputs[-1], [LOGIN_DEFS], all_readable=True)
        days, how = pass_max_days(files.get(LOGIN_DEFS, ""))
        return {**judge(passwd, shadow, limit), "login_defs_max_days": days, "login_defs": how}
