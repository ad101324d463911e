"""Inventories: the project's YAML form and Ansible INI files as they are.

Ansible INI: ``[group]`` host lines with ``key=value`` variables, ``[group:vars]``,
``[group:children]``, hosts outside any section (group ``ungrouped``), host ranges
``web[01:20]`` / ``db-[a:c]``, comments with ``#`` or ``;``. Variables are merged
as Ansible does: ``all`` < parent groups < child groups < host line.

Connection variables understood: ``ansible_host``, ``ansible_port``, ``ansible_user``,
``ansible_ssh_private_key_file``, ``ansible_become``, ``ansible_connection`` (``local``).
Audit variables: ``os`` (linux/windows; also ``ansible_shell_type=powershell``) and
``level`` (security level 1-5 under Decree 85/2016). Every other variable is a
check parameter for that host (``log_server=10.0.0.5``).
"""

from __future__ import annotations

import re
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import addresses
from auditor.catalog.yamlsource import load_yaml
from auditor.errors import InventoryError
from auditor.model import Host

_CONNECTION_VARS = {
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_become",
    "ansible_connection",
    "ansible_shell_type",
    "os",
    "level",
    "security_level",
}
# Never carried into parameters (and so never into reports): they are secrets.
_SECRET_VARS = re.compile(r"(pass(word)?|secret|token|key_passphrase)$", re.IGNORECASE)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass
class Inventory:
    hosts: dict[str, Host]
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> host names (children expanded)
    source: str = ""

    def select(self, patterns: list[str]) -> list[Host]:
        """Hosts named by group names, host names or ``all``, in inventory order."""
        wanted: set[str] = set()
        for pattern in patterns:
            if pattern == "all":
                wanted.update(self.hosts)
            elif pattern in self.groups:
                wanted.update(self.groups[pattern])
            elif pattern in self.hosts:
                wanted.add(pattern)
        return [h for name, h in self.hosts.items() if name in wanted]


def local_inventory() -> Inventory:
    """The embedded default: this machine, through the local transport."""
    import socket

    host = Host(name=socket.gethostname() or "localhost", address="127.0.0.1", transport="local", groups=["local"])
    return Inventory(
        hosts={host.name: host}, groups={"all": [host.name], "local": [host.name]}, source="(this machine)"
    )


def load_inventory(path: Path) -> Inventory:
    if not path.exists():
        raise InventoryError("inventory file not found", file=str(path))
    if path.suffix in (".yaml", ".yml"):
        return _load_yaml_inventory(path)
    return _load_ini_inventory(path)


# --- values ----------------------------------------------------------------------------


def to_bool(value: Any, file: str, line: int | None, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InventoryError(f"expected yes/no/true/false, got {value!r}", file=file, line=line, field=name)


def to_int(value: Any, file: str, line: int | None, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InventoryError(f"expected a whole number, got {value!r}", file=file, line=line, field=name) from None
    if not low <= number <= high:
        raise InventoryError(f"must be between {low} and {high}, got {number}", file=file, line=line, field=name)
    return number


def scalar(text: str) -> Any:
    """INI values: numbers become numbers, the rest stays text (booleans are read where they are used)."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def make_host(name: str, variables: dict[str, Any], groups: list[str], file: str, line: int | None) -> Host:
    v = variables
    address = str(v.get("ansible_host") or v.get("ansible_ssh_host") or name)
    connection = str(v.get("ansible_connection", "ssh")).lower()
    if connection not in ("ssh", "local", "paramiko", "smart"):
        raise InventoryError(
            f"unsupported ansible_connection {connection!r} (ssh or local)",
            file=file,
            line=line,
            field=f"{name}.ansible_connection",
        )
    if connection != "local":  # the address reaches ssh, sockets and nmap: IP, CIDR or DNS name only
        try:
            address = addresses.target(address)
        except addresses.AddressError as exc:
            where = "ansible_host" if v.get("ansible_host") or v.get("ansible_ssh_host") else "host name"
            raise InventoryError(str(exc), file=file, line=line, field=f"{name}.{where}") from None
    os_name = str(
        v.get("os", "windows" if str(v.get("ansible_shell_type", "")).lower() == "powershell" else "linux")
    ).lower()
    if os_name not in ("linux", "windows"):
        raise InventoryError(f"os must be linux or windows, got {os_name!r}", file=file, line=line, field=f"{name}.os")
    level_value = v.get("level", v.get("security_level"))
    port_value = v.get("ansible_port", v.get("ansible_ssh_port", 22))
    key = v.get("ansible_ssh_private_key_file") or v.get("ansible_private_key_file")
    params = {
        k: val
        for k, val in v.items()
        if k not in _CONNECTION_VARS and not k.startswith("ansible_") and not _SECRET_VARS.search(k)
    }
    return Host(
        name=name,
        address=address,
        port=to_int(port_value, file, line, f"{name}.ansible_port", 1, 65535),
        user=str(v["ansible_user"])
        if "ansible_user" in v
        else (str(v["ansible_ssh_user"]) if "ansible_ssh_user" in v else None),
        key_file=str(key) if key else None,
        become=to_bool(v.get("ansible_become", False), file, line, f"{name}.ansible_become"),
        os=os_name,
        transport="local" if connection == "local" else "ssh",
        groups=groups,
        level=to_int(level_value, file, line, f"{name}.level", 1, 5) if level_value is not None else None,
        vars=params,
    )


# --- Ansible INI -------------------------------------------------------------------------

_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]")


def expand_range(pattern: str) -> list[str]:
    """``web[01:03]`` -> web01, web02, web03; ``db-[a:c]`` -> db-a, db-b, db-c (Ansible's host ranges)."""
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        items = [str(i).zfill(width) for i in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        letters = string.ascii_letters
        items = list(letters[letters.index(start) : letters.index(end) + 1 : step])
    else:
        raise ValueError(f"bad host range {m.group(0)!r}")
    if not items:
        raise ValueError(f"empty host range {m.group(0)!r}")
    return [name for item in items for name in expand_range(head + item + tail)]


def _load_ini_inventory(path: Path) -> Inventory:
    file = str(path)
    host_vars: dict[str, dict[str, Any]] = {}
    host_line: dict[str, int] = {}
    members: dict[str, list[str]] = {"all": [], "ungrouped": []}
    group_vars: dict[str, dict[str, Any]] = {}
    children: dict[str, list[str]] = {}
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            m = re.fullmatch(r"\[([A-Za-z0-9_.\-]+)(?::(vars|children))?\]", line)
            if not m:
                raise InventoryError(f"bad section header {line!r}", file=file, line=number)
            section, kind = m.group(1), m.group(2) or "hosts"
            members.setdefault(section, [])
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InventoryError(f"cannot split line: {exc}", file=file, line=number) from None
        if not words:
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise InventoryError("expected key=value", file=file, line=number, field=section + ":vars")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            group_vars.setdefault(section, {})[key.strip()] = scalar(value)
        elif kind == "children":
            children.setdefault(section, []).append(words[0])
        else:
            try:
                names = expand_range(words[0])
            except ValueError as exc:
                raise InventoryError(str(exc), file=file, line=number, field=words[0]) from None
            variables: dict[str, Any] = {}
            for word in words[1:]:
                key, sep, value = word.partition("=")
                if not sep:
                    raise InventoryError(f"expected key=value, got {word!r}", file=file, line=number, field=words[0])
                variables[key] = scalar(value)
            for name in names:
                host_vars.setdefault(name, {}).update(variables)
                host_line.setdefault(name, number)
                if name not in members[section]:
                    members[section].append(name)
    for group, kids in children.items():
        for kid in kids:
            if kid not in members:
                raise InventoryError(f"child group {kid!r} is not defined", file=file, field=f"{group}:children")
    return _assemble(file, list(host_vars), members, children, group_vars, host_vars, host_line)


def _expand_group(
    group: str, members: dict[str, list[str]], children: dict[str, list[str]], trail: tuple[str, ...] = ()
) -> list[str]:
    if group in trail:
        raise InventoryError(f"group cycle: {' -> '.join((*trail, group))}")
    names = list(members.get(group, []))
    for kid in children.get(group, []):
        names += [n for n in _expand_group(kid, members, children, (*trail, group)) if n not in names]
    return names


def _depth(group: str, children: dict[str, list[str]]) -> int:
    parents = [p for p, kids in children.items() if group in kids]
    return 1 + max((_depth(p, children) for p in parents), default=0)


def _assemble(
    file: str,
    order: list[str],
    members: dict[str, list[str]],
    children: dict[str, list[str]],
    group_vars: dict[str, dict[str, Any]],
    host_vars: dict[str, dict[str, Any]],
    host_line: dict[str, int],
) -> Inventory:
    groups = {g: _expand_group(g, members, children) for g in members}
    groups["all"] = list(order)
    groups["ungrouped"] = [
        h for h in order if not any(h in m for g, m in groups.items() if g not in ("all", "ungrouped"))
    ]
    hosts: dict[str, Host] = {}
    for name in order:
        mine = sorted((g for g, m in groups.items() if name in m and g != "all"), key=lambda g: _depth(g, children))
        merged: dict[str, Any] = dict(group_vars.get("all", {}))
        for group in mine:
            merged.update(group_vars.get(group, {}))
        merged.update(host_vars.get(name, {}))
        hosts[name] = make_host(name, merged, [g for g in mine if g != "ungrouped"], file, host_line.get(name))
    return Inventory(hosts=hosts, groups=groups, source=file)


# --- project YAML ------------------------------------------------------------------------


def _load_yaml_inventory(path: Path) -> Inventory:
    """``hosts: {name: {address, port, user, key_file, become, os, level, vars}}`` and
    ``groups: {name: {hosts: [...], children: [...], vars: {...}}}``; ``vars:`` at the top applies to all."""
    doc = load_yaml(path, InventoryError)
    data = doc.data or {}
    if not isinstance(data, dict) or not isinstance(data.get("hosts", {}), dict):
        raise doc.error(InventoryError, ("hosts",), "expected a mapping of host name -> settings")
    unknown = sorted(set(data) - {"hosts", "groups", "vars"})
    if unknown:
        raise doc.error(InventoryError, (unknown[0],), f"unknown key {unknown[0]!r} (allowed: hosts, groups, vars)")
    rename = {
        "address": "ansible_host",
        "port": "ansible_port",
        "user": "ansible_user",
        "key_file": "ansible_ssh_private_key_file",
        "become": "ansible_become",
        "connection": "ansible_connection",
    }
    host_vars: dict[str, dict[str, Any]] = {}
    host_line: dict[str, int] = {}
    members: dict[str, list[str]] = {"all": [], "ungrouped": []}
    for name, settings in data.get("hosts", {}).items():
        settings = settings or {}
        if not isinstance(settings, dict):
            raise doc.error(InventoryError, ("hosts", name), "expected a mapping")
        allowed = set(rename) | {"os", "level", "groups", "vars"}
        bad = sorted(set(settings) - allowed)
        if bad:
            raise doc.error(
                InventoryError,
                ("hosts", name, bad[0]),
                f"unknown key {bad[0]!r} (allowed: {', '.join(sorted(allowed))})",
            )
        variables = {rename.get(k, k): v for k, v in settings.items() if k not in ("groups", "vars")}
        variables.update(settings.get("vars") or {})
        host_vars[str(name)] = variables
        host_line[str(name)] = doc.line_of(("hosts", name)) or 0
        for group in settings.get("groups") or []:
            members.setdefault(group, []).append(str(name))
    group_vars: dict[str, dict[str, Any]] = {"all": dict(data.get("vars") or {})}
    children: dict[str, list[str]] = {}
    for group, spec in (data.get("groups") or {}).items():
        spec = spec or {}
        members.setdefault(group, [])
        for name in spec.get("hosts") or []:
            if str(name) not in host_vars:
                raise doc.error(InventoryError, ("groups", group, "hosts"), f"host {name!r} is not under hosts:")
            if str(name) not in members[group]:
                members[group].append(str(name))
        children[group] = list(spec.get("children") or [])
        group_vars[group] = dict(spec.get("vars") or {})
    return _assemble(doc.file, list(host_vars), members, children, group_vars, host_vars, host_line)
