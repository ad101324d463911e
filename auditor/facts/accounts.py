"""``accounts``: local accounts as the system itself sees them (NSS: ``getent passwd``/``getent shadow``).

The C library, not a line reader, decides what an account is: it skips ``#`` lines, strips leading
blanks, and returns the first entry of a name (``getpwnam``/``getspnam``), so a later duplicate line
is never used. pam_unix takes the password from /etc/passwd unless that field is ``x`` (or
``##name``): an empty passwd field is an empty password whatever /etc/shadow says. The password
maximum age of an existing account is its shadow field 5; /etc/login.defs' PASS_MAX_DAYS only
seeds accounts created later, and is read as shadow-utils' getdef reads it (last value wins, the
number parsed by strtol base 0 and wholly, else useradd falls back to "never").

``getent passwd`` lists only what each source enumerates, and a lookup by name (login, su, sshd)
may find more: libnss-db's enumeration walks its ``0N`` keys, so an entry with only a ``.name`` key
logs on unlisted. The UID 0 accounts are therefore read per source of nsswitch.conf's passwd line
(as glibc reads it): the listing where a source lists everything it serves, libnss-db's whole
database (``makedb -u``), and doubt for any other source, which a pass must not rest on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, own_files, register, require_rc

# libnss-db's databases (Debian's path, then glibc's own nss_db's), by NSS database.
DB_FILES = {
    "passwd": ("/var/lib/misc/passwd.db", "/var/db/passwd.db"),
    "shadow": ("/var/lib/misc/shadow.db", "/var/db/shadow.db"),
}
# Fields of an entry of each database (getent and the database files write the same lines).
FIELDS = {"passwd": 7, "shadow": 9}
# getent shadow answers nothing (and exits 0) to a non-root caller: refuse to judge an empty list.
# A database's lines are prefixed with "|" (its keys are anyone's text: never a section marker) and
# end with makedb's exit status.
SNIPPET = (
    'if [ "$(id -u)" != 0 ]; then echo @@notroot; exit 0; fi; '
    "echo @@passwd; getent passwd </dev/null || exit $?; "
    "echo @@files; getent -s files passwd </dev/null || exit $?; "
    f"for f in {' '.join(DB_FILES['passwd'] + DB_FILES['shadow'])}; do "
    '[ -e "$f" ] || continue; echo "@@db $f"; { makedb -u "$f" </dev/null 2>&1; echo "rc=$?"; } | sed "s/^/|/"; '
    "done; echo @@shadow; getent shadow </dev/null"
)
LOGIN_DEFS = "/etc/login.defs"
NSSWITCH = "/etc/nsswitch.conf"
NEVER = -1  # PASS_MAX_DAYS unset, unparseable or not positive: passwords never expire
# NSS sources whose enumeration lists every account a lookup by name returns (nss_files, compat's
# file and NIS maps, libnss-extrausers' file, systemd's records, NIS maps); "db" is read whole.
LISTS_ALL = frozenset({"files", "compat", "extrausers", "systemd", "nis"})
_STATUSES = frozenset({"success", "notfound", "unavail", "tryagain"})
_ACTIONS = frozenset({"return", "continue", "merge"})


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


def split_output(text: str) -> dict[str, list[str]]:
    """The snippet's ``@@name`` sections. A header has no ":", which every line getent prints has: an
    account named ``@@shadow`` cannot open a section (the database lines carry a prefix)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@") and ":" not in line:
            current = out.setdefault(line[2:].strip(), [])
        elif current is not None:
            current.append(line)
    return out


def _criteria(text: str, notfound: str) -> tuple[str, str] | None:
    """(rest of the line, NOTFOUND's action) after one ``[STATUS=ACTION ...]`` block; None: glibc refuses it."""
    actions = {status: "continue" for status in _STATUSES} | {"success": "return", "notfound": notfound}
    rest = text[1:]
    while True:
        m = re.match(r"\s*(!?)([^\s=\]]*)\s*=\s*([^\s=\]]*)\s*", rest)
        if m is None or m.group(2).lower() not in _STATUSES or m.group(3).lower() not in _ACTIONS:
            return None
        status, action = m.group(2).lower(), m.group(3).lower()
        if m.group(1):
            actions = {other: (actions[other] if other == status else action) for other in _STATUSES}
        else:
            actions[status] = action
        rest = rest[m.end() :]
        if rest.startswith("]"):
            return rest[1:], actions["notfound"]


def nss_services(text: str | None, database: str = "passwd") -> list[str] | None:
    """The sources glibc asks for a name in ``database``, in order, as it reads nsswitch.conf: the last
    line naming the database wins, and a last line without a newline is never read (no line: files).
    Sources after one whose NOTFOUND action is return are never asked for a name the earlier ones
    lack: left out. None: a line glibc refuses (it then loads no configuration at all)."""
    chosen: str | None = None
    for raw in (text or "").split("\n")[:-1]:
        line = raw.lstrip(" \t\v\f\r") + "\n"
        m = re.match(r"[^ \t\n\v\f\r:]+[ \t\n\v\f\r:]*", line)
        if m is not None and m.group().rstrip(" \t\n\v\f\r:") == database:
            chosen = line[m.end() :]
    if chosen is None:
        return ["files"]
    services: list[str] = []
    rest = chosen
    while True:
        rest = rest.lstrip(" \t\n\v\f\r")
        m = re.match(r"[^\s\[]+", rest)
        if m is None:
            return services
        services.append(m.group())
        rest = rest[m.end() :].lstrip(" \t\n\v\f\r")
        notfound = "continue"
        if rest.startswith("["):
            parsed = _criteria(rest, notfound)
            if parsed is None:
                return None
            rest, notfound = parsed
        if notfound == "return":
            return services


def _uid0(fields: list[str]) -> bool:
    return fields[2].strip().isdigit() and int(fields[2]) == 0


def db_entries(lines: list[str], fields_wanted: int = 7) -> tuple[dict[str, list[str]], bool]:
    """(name -> entry a lookup by that name returns, whether makedb read the database) from the
    ``|``-prefixed ``makedb -u`` lines: each ``.NAME ENTRY`` is what libnss-db's getpwnam(NAME) gives."""
    body = [line[1:] for line in lines if line.startswith("|")]
    ok = bool(body) and body[-1] == "rc=0"
    out: dict[str, list[str]] = {}
    for line in body[:-1]:
        key, _, value = line.partition(" ")
        fields = value.split(":")
        if key.startswith(".") and len(key) > 1 and len(fields) >= fields_wanted:
            out.setdefault(key[1:], fields)
    return out, ok


def found_by_name_only(
    database: str, services: list[str] | None, databases: dict[str, list[str]]
) -> tuple[dict[str, list[str]], list[str]]:
    """(entries of ``database`` a lookup by name finds, read from libnss-db's whole database, and the
    doubts left): sources that list everything need nothing more; any other source is a doubt."""
    entries: dict[str, list[str]] = {}
    doubts: list[str] = []
    debian_db, glibc_db = DB_FILES[database]
    if services is None:
        doubts.append(f"glibc refuses the {database} line of /etc/nsswitch.conf")
    for service in services or []:
        if service == "db" and debian_db in databases:
            found, ok = db_entries(databases[debian_db], FIELDS[database])
            if not ok:
                doubts.append(f"db: makedb -u {debian_db} failed")
            for name, fields in found.items():
                entries.setdefault(name, fields)
        elif service == "db" and glibc_db in databases:
            doubts.append(f"db: {glibc_db} is glibc's own nss_db database, not read")
        elif service not in LISTS_ALL and service != "db":
            doubts.append(f"{service}: getent {database} may not list all its accounts")
    return entries, doubts


def sources_read(database: str, services: list[str] | None, doubts: list[str]) -> str:
    return "; ".join([f"{database}: " + (" ".join(services) if services else "(no source)"), *doubts])


def uid0_accounts(
    listed: dict[str, list[str]],
    in_files: set[str],
    services: list[str] | None,
    databases: dict[str, list[str]],
) -> dict[str, Any]:
    """The accounts with UID 0, each with where it comes from, as a lookup by name finds them.

    ``listed``: getent passwd (first entry of each name); ``in_files``: the names nss_files serves;
    ``databases``: libnss-db's ``makedb -u`` lines by path. ``uid0_other`` is None (unknown) when
    none was found but a source may serve one that no listing shows."""
    uid0 = [name for name, pw in listed.items() if _uid0(pw)]
    where = {name: "" if name in in_files else "not in /etc/passwd" for name in uid0}
    db_file = DB_FILES["passwd"][0]
    from_db, doubts = found_by_name_only("passwd", services, databases)
    for name, fields in from_db.items():
        if name in in_files or not _uid0(fields):
            continue
        if name in where:
            where[name] = f"from db {db_file}, not /etc/passwd"
        else:
            uid0.append(name)
            where[name] = f"from db {db_file}: getent passwd does not list it, a lookup by name finds it"
    other = [f"{name} ({where[name]})" if where[name] else name for name in uid0 if name != "root"]
    return {
        "uid0": uid0,
        "uid0_other": other if other or not doubts else None,
        "passwd_sources": sources_read("passwd", services, doubts),
    }


def password_findings(
    passwd: dict[str, list[str]],
    shadow: dict[str, list[str]],
    limit: int,
    doubts: Sequence[str] = (),
    origins: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Empty and long-lived passwords of the accounts read; with ``doubts`` (a source whose accounts
    may be unread) an empty list is unknown (None), never a pass. ``origins``: where an account's
    passwd entry comes from when that is not /etc/passwd."""
    empty, over, usable = [], [], 0
    for name, pw in passwd.items():
        origin = (origins or {}).get(name, "/etc/passwd")
        shadowed = pw[1] == "x" or pw[1] == "##" + name
        sp = shadow.get(name) if shadowed else None
        if shadowed and sp is None:
            continue  # pam_unix then compares with "x": no password can match
        password = sp[1] if sp is not None else pw[1]
        if password == "":
            empty.append(name if sp is not None else f"{name} (empty field in {origin})")
        if password.startswith(("!", "*")):
            continue  # locked, or no password was ever set: no password log-on
        usable += 1
        if sp is None:
            over.append(f"{name}: password in {origin}, no ageing")
        elif sp[2] == "":
            over.append(f"{name}: ageing disabled (no last-change date)")
        elif not sp[4].strip().lstrip("-").isdigit() or not 0 < int(sp[4]) <= limit:
            over.append(f"{name}: maximum age {sp[4] or 'never'}")
    return {
        "empty_password": empty if empty or not doubts else None,
        "over_max_age": over if over or not doubts else None,
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
        return [LOGIN_DEFS, NSSWITCH]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "getent passwd/shadow")
        found = split_output(raw.stdout)
        if "notroot" in found:
            raise FactUnreadable("reading the shadow entries (getent shadow) needs root")
        passwd = first_entries(found.get("passwd", []), 7)
        if not passwd:
            raise FactUnreadable("getent passwd listed no account")
        shadow = first_entries(found.get("shadow", []), 9)
        in_files = set(first_entries(found.get("files", []), 7))
        databases = {key[3:]: lines for key, lines in found.items() if key.startswith("db ")}
        limit = int(params.get("max_days", 90))
        files, _ = own_files(outputs[-1], [LOGIN_DEFS, NSSWITCH], all_readable=True)
        days, how = pass_max_days(files.get(LOGIN_DEFS, ""))
        services = nss_services(files.get(NSSWITCH))
        shadow_services = nss_services(files.get(NSSWITCH), "shadow")
        # Accounts only a lookup by name finds are judged too, with their password as pam_unix reads it.
        passwd_by_name, passwd_doubts = found_by_name_only("passwd", services, databases)
        shadow_by_name, shadow_doubts = found_by_name_only("shadow", shadow_services, databases)
        unlisted = {name: pw for name, pw in passwd_by_name.items() if name not in passwd}
        origins = {name: "its passwd source, not /etc/passwd" for name in passwd if name not in in_files}
        origins |= {name: f"db {DB_FILES['passwd'][0]}, unlisted" for name in unlisted}
        shadows = shadow | {name: sp for name, sp in shadow_by_name.items() if name not in shadow}
        return {
            **password_findings(passwd | unlisted, shadows, limit, passwd_doubts + shadow_doubts, origins),
            **uid0_accounts(passwd, in_files, services, databases),
            "account_sources": "; ".join(
                [
                    sources_read("passwd", services, passwd_doubts),
                    sources_read("shadow", shadow_services, shadow_doubts),
                ]
            ),
            "login_defs_max_days": days,
            "login_defs": how,
        }
