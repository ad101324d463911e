"""``process``: is a daemon running? And the process table that ``service`` and ``clamav_db`` read too.

The process table is the truth we trust everywhere (lab hosts have no systemd, and a
stale pidfile proves nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from auditor.facts.base import (
    FactType,
    FactUnreadable,
    RawOutput,
    name_schema,
    register,
    require_rc,
    sections,
)

# One snippet shared by every process/service fact of a host (deduplicated by its text).
# Network namespaces are listed too: a daemon inside a container (another netns) does not
# serve this host, yet the host's process table shows it. procps (3.3 and later) names each
# process's namespace itself, and $$, the batch's shell, is in ours. Another ps (busybox, an old
# procps) refuses the column: the processes then come from ps or /proc, the namespaces from ls.
# Without root, neither can read the namespace of another user's process. Any user can read each
# process's /proc/PID/net/netlink, where the kernel's own route socket (protocol 0, port 0: one per
# namespace) has an inode number unique to that namespace: that tells them apart. A process whose
# namespace no source names is undetermined, never counted as this host's.
PROCESS_TABLE = (
    'u=; while read -r k v _; do [ "$k" = Uid: ] && u=$v && echo "@@uid $v" && break; done < /proc/self/status; '
    "while read -r _ _ _ o _; do case $o in *hidepid=*) echo @@hidepid; break;; esac; done < /proc/mounts; "
    'echo "@@self $$"; echo @@psns; ps -eo pid=,netns=,comm=,args= 2>/dev/null || { '
    "echo @@ps; if command -v ps >/dev/null 2>&1; then ps -eo pid=,comm=,args=; "
    'else for p in /proc/[0-9]*; do read -r c < "$p/comm" 2>/dev/null && echo "${p#/proc/} $c $c"; done; fi; '
    "echo @@nslinks; ls -l /proc/self/ns/net /proc/[0-9]*/ns/net 2>/dev/null; }; "
    '[ "$u" = 0 ] || { echo @@nlsock; grep -sE "^[0-9a-f]+ +0 +0 " /proc/self/net/netlink /proc/[0-9]*/net/netlink; }; '
    "true"
)
_NS_LINK = re.compile(r"/proc/(\d+|self)/ns/net -> (\S+)")
_NL_SOCK = re.compile(r"/proc/(\d+|self)/net/netlink:[0-9a-f]+ +0 +0 .* (\d+) *$")

NAMES_SCHEMA = {
    "type": "array",
    "items": name_schema("A-Za-z0-9._@+-"),
    "minItems": 1,
}


@dataclass
class ProcessTable:
    rows: list[tuple[int, str, str]]  # (pid, comm, args) of processes in the audit shell's network namespace
    elsewhere: list[tuple[int, str, str]]  # processes seen in other network namespaces (containers)
    undetermined: list[tuple[int, str, str]]  # processes whose network namespace could not be read
    partial: bool  # hidepid and not root: other users' processes are invisible
    uid: str  # the auditing user's uid, as the host said it


def parse_process_table(raw: RawOutput) -> ProcessTable:
    require_rc(raw, "process listing")
    return _process_table(raw.stdout)


@lru_cache(maxsize=16)
def _process_table(stdout: str) -> ProcessTable:
    """Read once a host: every process and service fact of the host reads the same listing."""
    found = sections(stdout)
    uid = _header(found, "uid")
    if "ps" in found:  # no netns column: the namespaces from the /proc links
        links = {m.group(1): m.group(2) for line in found.get("nslinks", []) if (m := _NS_LINK.search(line))}
        own_ns = links.pop("self", None)  # the listing process shares the audit shell's namespace
        rows = [(pid, links.get(str(pid)), comm, args) for pid, comm, args in _rows(found["ps"], 2)]
    elif found.get("psns"):
        listed = _rows(found["psns"], 3)
        self_pid = _header(found, "self")  # the batch's shell: its namespace is the audit's
        own_ns = next((ns for pid, ns, _, _ in listed if str(pid) == self_pid), None)
        rows = [(pid, None if ns == "-" else ns, comm, args) for pid, ns, comm, args in listed]
    else:
        raise FactUnreadable("process listing printed nothing")
    own_ns = None if own_ns == "-" else own_ns
    sockets = {m.group(1): m.group(2) for line in found.get("nlsock", []) if (m := _NL_SOCK.match(line))}
    own_socket = sockets.pop("self", None)
    table = ProcessTable([], [], [], "hidepid" in found and uid != "0", uid or "unknown")
    for pid, ns, comm, args in rows:
        if ns is not None and own_ns is not None:
            bucket = table.elsewhere if ns != own_ns else table.rows
        elif own_socket is not None and str(pid) in sockets:
            bucket = table.elsewhere if sockets[str(pid)] != own_socket else table.rows
        else:  # not root, and no source names its namespace: it may be a container's
            bucket = table.undetermined
        bucket.append((pid, comm, args))
    if not rows:
        raise FactUnreadable("process listing is empty")
    return table


def undetermined(table: ProcessTable, names: list[str]) -> FactUnreadable | None:
    """The error when the named daemons run only where the network namespace could not be read."""
    unsure = sorted(running(table.undetermined, names))
    if not unsure:
        return None
    return FactUnreadable(
        f"{', '.join(unsure)} runs, but the user auditing (uid {table.uid}) cannot read its network namespace: "
        "it may serve a container, not this host; audit with root (become) to tell"
    )


def _header(found: dict[str, list[str]], name: str) -> str:
    """The value of a ``@@name value`` line ("" when there is none)."""
    return next((key.split()[1] for key in found if key.startswith(name + " ") and len(key.split()) > 1), "")


def _rows(lines: list[str], fields: int) -> list[tuple[Any, ...]]:
    """(pid, the fields after it..., args) of ``ps -o pid=,...,args=`` lines; args is comm when empty."""
    rows = []
    for line in lines:
        parts = line.split(None, fields)
        if len(parts) >= fields and parts[0].isdigit():
            rest = parts[1:fields]
            rows.append((int(parts[0]), *rest, parts[fields] if len(parts) > fields else rest[-1]))
    return rows


def running(rows: list[tuple[int, str, str]], names: list[str]) -> dict[str, list[int]]:
    """The pids each name runs as. comm is cut at 15 characters, so a longer name must match argv
    (systemd-journal-upload is not systemd-journald); interpreters (python, perl) show their script
    as argv[1]."""
    found: dict[str, list[int]] = {}
    for pid, comm, args in rows:
        bases = {a.rpartition("/")[2] for a in args.split(None, 2)[:2]}  # os.path.basename, inlined
        for name in names:
            if (len(name) <= 15 and comm == name) or name in bases:
                found.setdefault(name, []).append(pid)
    return found


@register
class ProcessFact(FactType):
    name = "process"
    params_schema = {
        "type": "object",
        "properties": {"names": NAMES_SCHEMA},
        "required": ["names"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [PROCESS_TABLE]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        table = parse_process_table(outputs[0])
        found = running(table.rows, params["names"])
        if not found and table.partial:
            raise FactUnreadable(
                "/proc is mounted with hidepid and the audit ran without root: other users' processes are invisible"
            )
        if not found and (unsure := undetermined(table, params["names"])):
            raise unsure
        elsewhere = sorted(running(table.elsewhere, params["names"]))
        return {
            "running": sorted(found),
            "any_running": bool(found),
            "pids": found,
            "in_other_namespaces": elsewhere,
            "summary": f"also running in other network namespaces (containers), not counted: {', '.join(elsewhere)}"
            if elsewhere and not found
            else "",
        }
