"""``sudo_logging``: does sudo log the commands it runs, as sudo itself reads its configuration?

``sudo -V`` run as root prints the Defaults in force after sudo has read /etc/sudoers and what it
includes (``@include``/``@includedir``; files in an included directory whose name holds a "." or ends
in "~" are skipped) with later settings overriding earlier ones: "Syslog facility if syslog is being
used for logging" is printed only while syslog is on, "Path to log file" only when a log file is set,
"Log when a command is allowed by sudoers" only while ``log_allowed`` is on. A grep of the files
cannot know which file sudo skips or which line wins.

``sudo -V`` shows only the global Defaults. ``Defaults:user``, ``Defaults@host``, ``Defaults>runas``
and ``Defaults!cmnd`` lines that turn logging off for some commands are read from the files sudo
reads (the same include rules); any such line, or an included file that cannot be read, stops a pass.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Any

from auditor.facts.base import (
    FactType,
    FactUnreadable,
    RawOutput,
    own_files,
    register,
    require_rc,
    sections,
)

SNIPPET = "if ! command -v sudo >/dev/null 2>&1; then echo @@absent; exit 0; fi; echo @@sudo-V; sudo -V </dev/null"
MAIN = "/etc/sudoers"
FILES = [MAIN, "/etc/sudoers.d/*"]

SYSLOG = "Syslog facility if syslog is being used for logging:"
LOGFILE = "Path to log file:"
LOG_ALLOWED = "Log when a command is allowed by sudoers"
LOG_SERVERS = "Sudo log server(s) to connect to with optional port:"
POLICY = "Sudoers path:"  # printed only when sudo -V runs as root

_INCLUDE = re.compile(r"^\s*[#@](include|includedir)\s+(.+?)\s*$")
_SCOPED = re.compile(r"^\s*Defaults([:@>!])\s*(\S+)\s+(.*)$")
# A scope's setting that stops logging its allowed commands (syslog off matters only without a log file).
_OFF = {
    name: re.compile(rf"(?:^|,)\s*(?:!+\s*{name}|{name}\s*=\s*false)\s*(?=,|$)") for name in ("syslog", "log_allowed")
}


def parse_sudo_v(lines: list[str]) -> dict[str, Any]:
    """The logging Defaults in force, from the lines of ``sudo -V`` run as root."""
    syslog = logfile = None
    servers: list[str] = []
    log_allowed = privileged = False
    in_servers = False
    for line in lines:
        if in_servers and line.startswith("\t"):
            servers.append(line.strip())
            continue
        in_servers = line.startswith(LOG_SERVERS)
        if line.startswith(POLICY):
            privileged = True
        elif line.startswith(SYSLOG):
            syslog = line[len(SYSLOG) :].strip()
        elif line.startswith(LOGFILE):
            logfile = line[len(LOGFILE) :].strip()
        elif line.strip() == LOG_ALLOWED:
            log_allowed = True
    return {"privileged": privileged, "syslog": syslog, "logfile": logfile, "log_servers": servers,
            "log_allowed": log_allowed}  # fmt: skip


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with "\\" continuations joined, as sudo reads them."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _skipped_in_dir(name: str) -> bool:
    """sudo's @includedir reads no file whose name holds a "." or ends in "~" (editor and package backups)."""
    return "." in name or name.endswith("~")


def sudoers_files(files: dict[str, str]) -> tuple[list[str], list[str]]:
    """(files sudo reads, in order; included files missing from ``files``) starting at /etc/sudoers."""
    order: list[str] = []
    missing: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        if path not in files:
            missing.append(path)
            return
        order.append(path)
        for _, line in _logical_lines(files[path]):
            m = _INCLUDE.match(line)
            if not m:
                continue
            target = m.group(2).strip('"')
            if not target.startswith("/"):  # relative to the including file's directory
                target = posixpath.join(posixpath.dirname(path), target)
            if m.group(1) == "include":
                visit(target)
                continue
            directory = target.rstrip("/")
            names = sorted(p for p in files if posixpath.dirname(p) == directory)
            # a directory outside the archive cannot be listed: its files are unknown
            if not names and not fnmatch.fnmatch(directory + "/x", "/etc/sudoers.d/*"):
                missing.append(directory + "/")
            for name in names:
                if not _skipped_in_dir(posixpath.basename(name)):
                    visit(name)

    visit(MAIN)
    return order, missing


def scoped_off(files: dict[str, str], order: list[str], elsewhere: bool) -> list[str]:
    """``file:line Defaults<scope> ...`` lines that turn logging off for some users, hosts or commands;
    ``elsewhere``: sudo also logs to a log file or server, so turning syslog off leaves a log."""
    watched = ["log_allowed"] if elsewhere else ["log_allowed", "syslog"]
    found = []
    for path in order:
        for number, line in _logical_lines(files[path]):
            m = _SCOPED.match(line.split("#", 1)[0] if not line.lstrip().startswith("#") else "")
            if m and any(_OFF[name].search(m.group(3).strip()) for name in watched):
                found.append(f"{path}:{number} {line.strip()}")
    return found


@register
class SudoLoggingFact(FactType):
    name = "sudo_logging"

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SNIPPET]

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        found = sections(raw.stdout)
        if "absent" in found:
            return {"installed": False, "logged": None, "summary": "sudo is not installed"}
        require_rc(raw, "sudo -V")
        value = parse_sudo_v(found.get("sudo-V", []))
        if not value["privileged"]:
            raise FactUnreadable("sudo -V printed no sudoers defaults: it must run as root to show them")
        files, unreadable = own_files(outputs[-1], FILES)
        order, missing = sudoers_files(files)
        missing += [u for u in unreadable if u not in missing]
        scoped = scoped_off(files, order, bool(value["logfile"] or value["log_servers"]))
        where = [f"syslog ({value['syslog']})"] if value["syslog"] else []
        where += [f"log file {value['logfile']}"] if value["logfile"] else []
        where += [f"log server {s}" for s in value["log_servers"]]
        if not value["log_allowed"]:
            logged, why = False, "sudo does not log allowed commands (log_allowed is off)"
        elif not where:
            logged, why = False, "sudo logs nowhere (syslog off, no log file, no log server)"
        elif scoped:
            logged, why = False, "logging is turned off for some users or commands: " + "; ".join(scoped[:3])
        elif missing:
            logged, why = None, "cannot read " + ", ".join(missing) + ", which sudo includes"
        else:
            logged, why = True, "sudo logs allowed commands to " + ", ".join(where)
        if logged is None:
            raise FactUnreadable(why)
        return {
            "installed": True,
            **value,
            "files_read": order,
            "scoped_off": scoped,
            "logged": logged,
            "summary": why + " (sudo -V, as root)",
        }
