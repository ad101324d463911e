"""``sysctl_effective``: kernel parameters as the kernel uses them now, and as the boot will set them.

Running: the values in /proc/sys (what ``sysctl -n`` prints), per interface for the IPv4 ``conf``
keys, because the kernel combines ``all`` with each interface's own value: redirects are accepted
or sent when EITHER is 1 (``IN_DEV_ORCONF``), source-routed packets accepted only when BOTH are
(``IN_DEV_ANDCONF``), and an interface whose own ``forwarding`` is 1 routes whatever ``ip_forward``
says. ``lo`` carries no other host's traffic and is left out.

After a reboot: the files in the order the boot program reads them. With systemd, systemd-sysctl
prints its own reading (``--cat-config``: files sorted by name across /etc, /run, /usr/local/lib,
/usr/lib; a name in /etc masks the same name further down; no /etc/sysctl.conf unless a sysctl.d
link names it). Without systemd, the boot runs procps' ``sysctl --system``: the same order, then
/etc/sysctl.conf last (checked against procps 4.0.2 in the lab). Its order is rebuilt here from the
host's archive, because ``sysctl --system --dry-run`` of procps 4.0.2 WRITES the values when run as
root (it did so in the lab): the auditor must never run it. In both, the last assignment of a key
wins; a key no file sets keeps the kernel's default.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, own_files, register, sections

_CONF = "/proc/sys/net/ipv4/conf/*/"
# Every value either check judges, in one grep: one process for both checks.
_RUNNING = " ".join(
    ["/proc/sys/fs/suid_dumpable", "/proc/sys/net/ipv4/ip_forward"]
    + [_CONF + k for k in ("forwarding", "accept_redirects", "send_redirects", "accept_source_route")]
)
SNIPPET = (
    f"echo @@running; grep -H . {_RUNNING} 2>&1; "
    "if [ -d /run/systemd/system ] && [ -x /lib/systemd/systemd-sysctl ]; then "
    'echo @@systemd; /lib/systemd/systemd-sysctl --cat-config --no-pager </dev/null 2>&1; echo "@@rc $?"; '
    "elif command -v sysctl >/dev/null 2>&1; then echo @@procps; "
    "else echo @@nosysctl; fi"
)
FILES = [
    "/etc/sysctl.d/*.conf", "/run/sysctl.d/*.conf", "/usr/local/lib/sysctl.d/*.conf",
    "/usr/lib/sysctl.d/*.conf", "/lib/sysctl.d/*.conf", "/etc/sysctl.conf",
]  # fmt: skip

# key -> its hardened value
KEYS: dict[str, str] = {
    "fs.suid_dumpable": "0",
    "net.ipv4.ip_forward": "0",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
}
_EITHER = {"accept_redirects", "send_redirects"}  # on when all OR the interface says 1
_BOTH = {"accept_source_route"}  # on only when all AND the interface say 1


def normalize(key: str) -> str:
    """sysctl.d(5): when the first separator is "/", "/" and "." swap (``net/ipv4/conf/eth0.1/rp_filter``)."""
    key = key.strip()
    slash, dot = key.find("/"), key.find(".")
    if slash != -1 and (dot == -1 or slash < dot):
        key = key.translate(str.maketrans("/.", "./"))
    return key


def assignments(text: str, source: str) -> list[tuple[str, str, str]]:
    """(key, value, "file:line") for each assignment: "#" and ";" start comments, "-" marks a key
    whose failure is ignored (it still assigns)."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        found.append((normalize(key.lstrip("-")), value.strip(), f"{source}:{n}"))
    return found


def cat_config(lines: list[str]) -> list[tuple[str, str, str]]:
    """Assignments from ``systemd-sysctl --cat-config``: each file's text after a ``# /path`` line."""
    found: list[tuple[str, str, str]] = []
    path, body = "", []
    for line in [*lines, "# /"]:
        if line.startswith("# /"):
            if path:
                found += assignments("\n".join(body), path)
            path, body = line[2:].strip(), []
        else:
            body.append(line)
    return found


_DIRS = ("/etc/sysctl.d/", "/run/sysctl.d/", "/usr/local/lib/sysctl.d/", "/usr/lib/sysctl.d/", "/lib/sysctl.d/")


def procps_order(paths: list[str]) -> list[str]:
    """The files ``sysctl --system`` applies, in its order: the *.conf files of its directories sorted
    by name, a name taken from the first directory that has it, then /etc/sysctl.conf."""
    chosen: dict[str, str] = {}
    for directory in _DIRS:
        for path in paths:
            name = path[len(directory) :]
            if path.startswith(directory) and "/" not in name and name.endswith(".conf"):
                chosen.setdefault(name, path)
    order = [chosen[name] for name in sorted(chosen, key=str.encode)]
    return order + (["/etc/sysctl.conf"] if "/etc/sysctl.conf" in paths else [])


def running_values(lines: list[str]) -> dict[str, str]:
    """``grep -H .`` over /proc/sys: dotted key -> value ("net.ipv4.conf.eth0.send_redirects": "1")."""
    values = {}
    for line in lines:
        path, sep, value = line.partition(":")
        if sep and path.startswith("/proc/sys/"):
            values[path[len("/proc/sys/") :].replace("/", ".")] = value.strip()
    return values


def kernel_default(name: str) -> str:
    """What the kernel starts with when no file sets ``name`` (read in a fresh network namespace):
    redirects 1 everywhere; source routing 0 for "all" but 1 for "default" and new interfaces."""
    conf = _conf(name)
    if conf and conf[1] in _EITHER:
        return "1"
    if conf and conf[1] in _BOTH:
        return "0" if conf[0] == "all" else "1"
    return "0"


def _conf(key: str) -> tuple[str, str] | None:
    """(interface, item) of a net.ipv4.conf key."""
    m = re.fullmatch(r"net\.ipv4\.conf\.([^.]+)\.(\w+)", key)
    return (m.group(1), m.group(2)) if m else None


def judge_running(key: str, values: dict[str, str]) -> tuple[bool | None, str]:
    """Whether the kernel uses the hardened value now, and why."""
    want = KEYS[key]
    if key not in values:
        return None, f"{key} cannot be read on this host"
    ifaces = sorted({c[0] for k in values if (c := _conf(k)) and c[0] not in ("all", "default", "lo")})
    if key == "net.ipv4.ip_forward":
        routing = [i for i in ifaces if values.get(f"net.ipv4.conf.{i}.forwarding") == "1"]
        if values[key] != want:
            return False, f"{key} = {values[key]}"
        if routing:
            return False, f"{key} = 0 but forwarding = 1 on {', '.join(routing)}"
        return True, f"{key} = 0"
    conf = _conf(key)
    if conf is None:
        return values[key] == want, f"{key} = {values[key]}"
    item = conf[1]
    own = {i: values.get(f"net.ipv4.conf.{i}.{item}") for i in ifaces}
    on = [i for i, v in own.items() if v not in (None, want)]
    unread = [i for i, v in own.items() if v is None]
    if item in _EITHER:
        if values[key] != want:
            return False, f"{key} = {values[key]}"
        if on:
            return False, f"{key} = 0 but {item} = 1 on {', '.join(on)} (either one enables it)"
    elif item in _BOTH and values[key] != want:
        if on:
            return False, f"{key} = {values[key]} and {item} = 1 on {', '.join(on)}"
        if unread:
            return None, f"{key} = {values[key]}; {item} of {', '.join(unread)} cannot be read"
        return True, f"{key} = {values[key]} but {item} = 0 on every interface (both must be 1)"
    if unread:
        return None, f"{item} of {', '.join(unread)} cannot be read"
    return True, f"{key} = {want}" + (f" and on {', '.join(ifaces)}" if ifaces and item in _EITHER else "")


def final_values(found: list[tuple[str, str, str]]) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """(key -> (value, where) of the last exact assignment, assignments by glob pattern)."""
    exact: dict[str, tuple[str, str]] = {}
    globs = []
    for key, value, where in found:
        if any(ch in key for ch in "*?["):
            globs.append((key, value, where))
        else:
            exact[key] = (value, where)
    return exact, globs


def judge_persisted(key: str, found: list[tuple[str, str, str]]) -> tuple[bool | None, str]:
    """Whether the boot leaves the hardened value, from the files' assignments in their order."""
    want = KEYS[key]
    exact, globs = final_values(found)
    conf = _conf(key)
    # The names a reboot's value depends on: for conf keys "default" too (interfaces made at boot
    # copy it) and every interface a file names (set when the interface appears).
    names = [key]
    if conf:
        names.append(f"net.ipv4.conf.default.{conf[1]}")
        own = ("all", "default", "lo")
        names += sorted(k for k in exact if (c := _conf(k)) and c[1] == conf[1] and c[0] not in own)
    elif key == "net.ipv4.ip_forward":
        names += sorted(k for k in exact if (c := _conf(k)) and c[1] == "forwarding" and c[0] != "lo")
    settled = {n: exact.get(n, (kernel_default(n), "kernel default")) for n in names}
    if key == "net.ipv4.ip_forward":
        bad = [f"{n} = {v} ({w})" for n, (v, w) in settled.items() if v != "0"]
    elif conf and conf[1] in _BOTH:
        # refused when "all" is 0, or when no interface can have 1
        bad = [] if settled[key][0] == want else [f"{n} = {v} ({w})" for n, (v, w) in settled.items() if v != want]
        if len(bad) < len(settled):
            bad = []
    else:
        bad = [f"{n} = {v} ({w})" for n, (v, w) in settled.items() if v != want]
    patterns = [(p, v, w) for p, v, w in globs if any(fnmatch.fnmatchcase(n, p) for n in names)]
    unsafe = [f"{p} = {v} ({w})" for p, v, w in patterns if v != want]
    if bad or unsafe:
        if patterns and not unsafe:  # a pattern sets the hardened value: the two programs differ here
            return None, "; ".join(bad) + " — a pattern (" + ", ".join(f"{p} ({w})" for p, _, w in patterns) + (
                ") also sets it: systemd-sysctl and procps order patterns differently"
            )
        return False, "; ".join(bad + unsafe)
    value, where = settled[key]
    if value != want:  # source routing: "all" alone is 1, nothing else is
        others = ", ".join(f"{n} = {v} ({w})" for n, (v, w) in settled.items() if n != key)
        return True, f"{key} = {value} ({where}) but {others}: both must be 1"
    return True, f"{key} = {value} ({where})"


@register
class SysctlEffectiveFact(FactType):
    name = "sysctl_effective"
    params_schema = {
        "type": "object",
        "properties": {"keys": {"type": "array", "items": {"enum": list(KEYS)}, "minItems": 1}},
        "required": ["keys"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SNIPPET]

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        if raw.timed_out or raw.rc is None:
            raise FactUnreadable("reading sysctl values did not finish")
        found = sections(raw.stdout)
        values = running_values(found.get("running", []))
        assigned, persisted_problem = self._assignments(found, outputs[-1])
        running, persisted = {}, {}
        for key in params["keys"]:
            running[key] = judge_running(key, values)
            persisted[key] = (None, persisted_problem) if persisted_problem else judge_persisted(key, assigned)
        return {
            "running": {k: values.get(k) for k in params["keys"]},
            "running_hardened": _all(running),
            "running_summary": "; ".join(why for _, why in running.values()),
            "persisted_hardened": _all(persisted),
            "persisted_summary": "; ".join(why for _, why in persisted.values()),
            "boot_reader": next((r for r in ("systemd", "procps") if r in found), None),
        }

    @staticmethod
    def _assignments(found: dict[str, list[str]], archive: RawOutput) -> tuple[list[tuple[str, str, str]], str]:
        """The files' assignments in the boot program's order, or the reason they cannot be had."""
        reader = next((r for r in ("systemd", "procps") if r in found), None)
        if reader is None:
            return [], "no sysctl program on this host: which files the boot applies is unknown"
        rc = next((k for k in found if k.startswith("rc ")), "rc 1").split()[1]
        if reader == "systemd":
            if rc != "0":
                return [], f"systemd-sysctl --cat-config failed (exit {rc})"
            return cat_config(found["systemd"]), ""
        texts, unreadable = own_files(archive, FILES)
        if unreadable:
            return [], "cannot read " + ", ".join(unreadable)
        return [a for path in procps_order(list(texts)) for a in assignments(texts[path], path)], ""


def _all(judged: dict[str, tuple[bool | None, str]]) -> bool | None:
    """False when any key is not hardened, None when any cannot be told, else True."""
    states = [state for state, _ in judged.values()]
    if False in states:
        return False
    return None if None in states else True
