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

import ast
import itertools
import re
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor import addresses
from auditor.errors import InventoryError
from auditor.model import Host
from auditor.platforms import PLATFORMS
from auditor.yamlsource import parse_yaml, read_source

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
_SECRET_VARS = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|(secret|api|private)_?key|credentials?)$", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@")
REDACTED = "(secret: not recorded)"


def is_secret_name(name: object) -> bool:
    """A variable or parameter named like a secret (``db_password``, ``api_token``, ``aws_secret_key``)."""
    return isinstance(name, str) and bool(_SECRET_VARS.search(name))


def redact(value: Any) -> Any:
    """``value`` as it may be recorded (results.json's ``run.params``): what secret-named keys hold is
    replaced, at any depth, and a password inside a URL (``https://user:pw@host/``) is masked."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass
class Inventory:
    hosts: dict[str, Host]
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> host names (children expanded)
    source: str = ""
    # Where variables were set, to name the line of a bad value: group -> variable -> line, host -> ditto.
    var_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    host_var_lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def names(self, pattern: str) -> bool:
        """Whether ``pattern`` is ``all``, a group (even an empty one) or a host of this inventory."""
        return pattern == "all" or pattern in self.groups or pattern in self.hosts

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

    def origin(self, host: Host, name: str) -> int | None:
        """The line of ``source`` that set the value of variable ``name`` that ``host`` got, if known."""
        line = self.host_var_lines.get(host.name, {}).get(name)
        if line is None:
            scopes = [*reversed(host.groups), "all"] if host.groups else ["ungrouped", "all"]
            line = next((self.var_lines[g][name] for g in scopes if name in self.var_lines.get(g, {})), None)
        return line


def local_inventory() -> Inventory:
    """The embedded default: this machine, through the local transport."""
    import socket

    host = Host(name=socket.gethostname() or "localhost", address="127.0.0.1", transport="local", groups=["local"])
    return Inventory(
        hosts={host.name: host}, groups={"all": [host.name], "local": [host.name]}, source="(this machine)"
    )


def load_inventory(path: Path) -> Inventory:
    """An INI or YAML inventory; InventoryError (exit 2) for what is wrong in it, an empty one included."""
    text = read_source(path, InventoryError)
    if path.suffix in (".yaml", ".yml"):
        inventory = _load_yaml_inventory(path, text)
    else:
        inventory = _load_ini_inventory(path, text)
    if not inventory.hosts:
        raise InventoryError("no host in this inventory: an audit of nothing would pass", file=str(path))
    if len(inventory.hosts) > MAX_HOSTS:
        raise InventoryError(f"{len(inventory.hosts)} hosts: at most {MAX_HOSTS} in one inventory", file=str(path))
    return inventory


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
    if os_name not in PLATFORMS:
        known = " or ".join(PLATFORMS)
        raise InventoryError(f"os must be {known}, got {os_name!r}", file=file, line=line, field=f"{name}.os")
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
# Read as Ansible's ini inventory plugin reads it: a host line is split by shlex, where only '#' starts a
# comment; in a [group:vars] line everything after the first '=' is the value, comment included; values are
# Python literals when they parse as one (3, True, "quoted", [1, 2]) and text otherwise.

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_CHILD_LINE = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_BRACKETED_V6 = re.compile(r"\[([0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[^\]\s]+)?)\]:([0-9]+)")
# An unquoted value with " #" or " ;" in it: Ansible keeps the would-be comment in the value.
_INLINE_COMMENT = re.compile(r"\s[#;]")
# Hosts one inventory may hold, and so one host line's range: an agency has thousands, a province tens of
# thousands. A typo such as web[1:999999] is refused before a million hosts are planned.
MAX_HOSTS = 200_000
MAX_RANGE_HOSTS = MAX_HOSTS


def ansible_value(text: str) -> tuple[Any, bool]:
    """(value, whether it parsed as a Python literal), as Ansible's INI plugin reads a value."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text, False
    return _plain(value), True


def _plain(value: Any) -> Any:
    """Only the types a YAML inventory could give too: tuples and sets become lists, the rest text."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_plain(v) for v in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "..." if value is Ellipsis else str(value)


def expand_range(pattern: str, limit: int = MAX_RANGE_HOSTS) -> list[str]:
    """``web[01:03]`` -> web01, web02, web03; ``db-[a:c]`` -> db-a, db-b, db-c; ``n[0:4:2]`` -> n0, n2, n4.

    Ansible's host ranges, read strictly: a range that is unclosed, reversed, empty, mixes letters and
    numbers, or has a step below 1 is a ValueError, never a silently empty or literal host name.
    """
    parts: list[list[str]] = []
    rest = pattern
    while True:
        open_at, close_at = rest.find("["), rest.find("]")
        if open_at < 0 and close_at < 0:
            parts.append([rest])
            break
        if close_at < 0:
            raise ValueError(f"unclosed host range in {pattern!r}: '[' without ']'")
        if open_at < 0 or close_at < open_at:
            raise ValueError(f"']' without '[' in {pattern!r}")
        parts.append([rest[:open_at]])
        parts.append(_range_items(rest[open_at + 1 : close_at], pattern))
        rest = rest[close_at + 1 :]
    total = 1
    for items in parts:
        total *= len(items)
    if total > limit:
        raise ValueError(f"{pattern!r} expands to {total} hosts (at most {limit} a line)")
    return ["".join(combo) for combo in itertools.product(*parts)]


def _range_items(body: str, pattern: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise ValueError(f"host range [{body}] in {pattern!r} must be [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not _DIGITS.fullmatch(step_text) or int(step_text) < 1:
        raise ValueError(f"host range [{body}] in {pattern!r}: the step must be a whole number of at least 1")
    step = int(step_text)
    if _DIGITS.fullmatch(begin) and _DIGITS.fullmatch(end):
        width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
        if width and len(end) != width:
            raise ValueError(f"host range [{body}] in {pattern!r}: zero-padded bounds must have equal length")
        low, high = int(begin), int(end)
        if low > high:
            raise ValueError(f"host range [{body}] in {pattern!r}: begin is after end")
        if (high - low) // step + 1 > MAX_RANGE_HOSTS:
            raise ValueError(f"host range [{body}] in {pattern!r} is larger than {MAX_RANGE_HOSTS} hosts")
        return [str(i).zfill(width) for i in range(low, high + 1, step)]
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        low, high = letters.index(begin), letters.index(end)
        if low > high:
            raise ValueError(f"host range [{body}] in {pattern!r}: begin is after end")
        return list(letters[low : high + 1 : step])
    raise ValueError(f"host range [{body}] in {pattern!r}: bounds must be two numbers or two single letters")


def _host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """A host line's first word: names (ranges expanded) and the port written as ``name:port``, if any."""
    v6 = _BRACKETED_V6.fullmatch(pattern)
    if v6:
        return [v6.group(1)], int(v6.group(2))
    outside = re.sub(r"\[[^\]]*\]", "", pattern)  # colons inside ranges are no port separators
    port = None
    if pattern.endswith(":"):
        raise ValueError(f"{pattern!r} ends in ':' (a port must follow)")
    if outside.count(":") == 1 and "[" not in outside:  # an unclosed range is reported as such below
        pattern, _, port_text = pattern.rpartition(":")
        if not _DIGITS.fullmatch(port_text):
            raise ValueError(f"{port_text!r} after ':' is not a port number")
        port = int(port_text)
    if not pattern:
        raise ValueError("empty host name")
    return expand_range(pattern), port


def _load_ini_inventory(path: Path, text: str) -> Inventory:
    file = str(path)
    host_vars: dict[str, dict[str, Any]] = {}  # insertion order is inventory order
    host_line: dict[str, int] = {}
    host_var_lines: dict[str, dict[str, int]] = {}
    # Dicts as ordered sets: membership tests stay O(1) however many hosts a group has.
    members: dict[str, dict[str, None]] = {"all": {}, "ungrouped": {}}
    children: dict[str, dict[str, int]] = {}  # group -> child group -> line naming it
    group_vars: dict[str, dict[str, Any]] = {}
    var_lines: dict[str, dict[str, int]] = {}
    vars_only: dict[str, int] = {}  # [g:vars] sections of groups not (yet) declared, with their line
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = _SECTION.fullmatch(line)
        if header or (line.startswith("[") and not _BRACKETED_V6.fullmatch(line.split()[0])):
            if not header or not _GROUP_NAME.fullmatch(header.group(1)):
                raise InventoryError(f"bad section header {line!r}", file=file, line=number)
            section, kind = header.group(1), header.group(2) or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(
                    f"section [{section}:{kind}] has unknown type {kind!r} (vars or children)", file=file, line=number
                )
            if kind == "vars":
                if section not in members:
                    vars_only.setdefault(section, number)
            else:
                members.setdefault(section, {})
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            where = f"{section}:vars"
            if not sep or not key:
                raise InventoryError(f"expected key=value, got {line!r}", file=file, line=number, field=where)
            if not _VAR_NAME.fullmatch(key):
                raise InventoryError(f"{key!r} is not a variable name", file=file, line=number, field=where)
            parsed, literal = ansible_value(value)
            if not literal and _INLINE_COMMENT.search(value):
                raise InventoryError(
                    f"{value!r}: in a [group:vars] line Ansible keeps everything after '=' in the value, "
                    "comment included: put the comment on a line of its own",
                    file=file,
                    line=number,
                    field=f"{where}.{key}",
                )
            group_vars.setdefault(section, {})[key] = parsed
            var_lines.setdefault(section, {})[key] = number
        elif kind == "children":
            child = _CHILD_LINE.fullmatch(line)
            if not child or not _GROUP_NAME.fullmatch(child.group(1)):
                raise InventoryError(
                    f"expected a group name, got {line!r}", file=file, line=number, field=f"{section}:children"
                )
            children.setdefault(section, {}).setdefault(child.group(1), number)
        else:
            names, variables = _host_line(line, file, number)
            if len(host_vars) + len(names) > MAX_HOSTS:
                raise InventoryError(f"more than {MAX_HOSTS} hosts in one inventory", file=file, line=number)
            group = members[section]
            for name in names:
                if name not in host_vars:
                    host_vars[name] = {}
                    host_line[name] = number
                if variables:
                    host_vars[name].update(variables)
                    host_var_lines.setdefault(name, {}).update(dict.fromkeys(variables, number))
                group[name] = None
    for group, number in vars_only.items():
        if group not in members:
            raise InventoryError(f"section [{group}:vars] is for a group that is not defined", file=file, line=number)
    for group, kids in children.items():
        for kid, number in kids.items():
            if kid not in members:
                raise InventoryError(
                    f"child group {kid!r} is not defined", file=file, line=number, field=f"{group}:children"
                )
    return _assemble(file, members, children, group_vars, host_vars, host_line, var_lines, host_var_lines)


def _host_line(line: str, file: str, number: int) -> tuple[list[str], dict[str, Any]]:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InventoryError(f"cannot split host line: {exc}", file=file, line=number) from None
    if not words:
        raise InventoryError("expected a host name", file=file, line=number)
    try:
        names, port = _host_pattern(words[0])
    except ValueError as exc:
        raise InventoryError(str(exc), file=file, line=number, field=words[0]) from None
    variables: dict[str, Any] = {} if port is None else {"ansible_port": port}
    for word in words[1:]:
        if word.startswith(";"):
            raise InventoryError(
                "';' starts no comment on a host line (Ansible reads only '#' there): write '# ...'",
                file=file,
                line=number,
                field=words[0],
            )
        key, sep, value = word.partition("=")
        if not sep:
            raise InventoryError(f"expected key=value, got {word!r}", file=file, line=number, field=words[0])
        if not _VAR_NAME.fullmatch(key):
            raise InventoryError(f"{key!r} is not a variable name", file=file, line=number, field=words[0])
        variables[key] = ansible_value(value)[0]
    return names, variables


def _depths(members: dict[str, Any], children: dict[str, Any]) -> dict[str, int]:
    """Each group's depth under ``all`` (Ansible's merge order: shallow groups first); refuses cycles."""
    parents: dict[str, list[str]] = {}
    for parent, kids in children.items():
        for kid in kids:
            parents.setdefault(kid, []).append(parent)
    depth: dict[str, int] = {}
    for start in members:
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        on_path: set[str] = set()
        while stack:  # iterative DFS over parents: no recursion limit on deep hierarchies
            group, state = stack.pop()
            if state == 1:
                depth[group] = 1 + max((depth[p] for p in parents.get(group, [])), default=0)
                on_path.discard(group)
                path.pop()
                continue
            if group in depth:
                continue
            if group in on_path:
                cycle = [*path[path.index(group) :], group]
                raise InventoryError(f"group cycle: {' -> '.join(reversed(cycle))}")
            on_path.add(group)
            path.append(group)
            stack.append((group, 1))
            stack.extend((p, 0) for p in parents.get(group, []))
    return depth


def _assemble(
    file: str,
    members: dict[str, dict[str, None]],
    children: dict[str, dict[str, Any]],
    group_vars: dict[str, dict[str, Any]],
    host_vars: dict[str, dict[str, Any]],
    host_line: dict[str, int],
    var_lines: dict[str, dict[str, int]] | None = None,
    host_var_lines: dict[str, dict[str, int]] | None = None,
) -> Inventory:
    """Groups with their children's hosts, and each host's variables merged: linear in hosts × their groups."""
    depth = _depths(members, children)
    expanded: dict[str, dict[str, None]] = {}
    for group in sorted(members, key=lambda g: -depth[g]):  # deepest first: children are done before parents
        hosts = dict(members[group])
        for kid in children.get(group, {}):
            hosts.update(expanded[kid])
        expanded[group] = hosts
    host_groups: dict[str, list[str]] = {name: [] for name in host_vars}
    for group in sorted(expanded, key=lambda g: (depth[g], g)):
        if group in ("all", "ungrouped"):
            continue
        for name in expanded[group]:
            host_groups[name].append(group)
    groups = {g: list(m) for g, m in expanded.items()}
    groups["all"] = list(host_vars)
    groups["ungrouped"] = [name for name, mine in host_groups.items() if not mine]
    hosts: dict[str, Host] = {}
    for name, mine in host_groups.items():
        merged: dict[str, Any] = dict(group_vars.get("all", {}))
        if not mine:
            merged.update(group_vars.get("ungrouped", {}))
        for group in mine:
            merged.update(group_vars.get(group, {}))
        merged.update(host_vars[name])
        hosts[name] = make_host(name, merged, mine, file, host_line.get(name))
    return Inventory(
        hosts=hosts,
        groups=groups,
        source=file,
        var_lines=var_lines or {},
        host_var_lines=host_var_lines or {},
    )


# --- project YAML ------------------------------------------------------------------------


def _load_yaml_inventory(path: Path, text: str) -> Inventory:
    """``hosts: {name: {address, port, user, key_file, become, os, level, vars}}`` and
    ``groups: {name: {hosts: [...], children: [...], vars: {...}}}``; ``vars:`` at the top applies to all."""
    doc = parse_yaml(text, str(path), InventoryError)
    data = doc.data or {}
    if not isinstance(data, dict) or not isinstance(data.get("hosts", {}), dict):
        raise doc.error(InventoryError, ("hosts",), "expected a mapping of host name -> settings")
    unknown = sorted(set(data) - {"hosts", "groups", "vars"})
    if unknown:
        raise doc.error(InventoryError, (unknown[0],), f"unknown key {unknown[0]!r} (allowed: hosts, groups, vars)")
    for key in ("groups", "vars"):
        if not isinstance(data.get(key) or {}, dict):
            raise doc.error(InventoryError, (key,), "expected a mapping")
    rename = {
        "address": "ansible_host",
        "port": "ansible_port",
        "user": "ansible_user",
        "key_file": "ansible_ssh_private_key_file",
        "become": "ansible_become",
        "connection": "ansible_connection",
    }
    host_nodes = _index(_child(doc.root, "hosts"))  # one pass: doc.line_of per host would be quadratic
    host_vars: dict[str, dict[str, Any]] = {}
    host_line: dict[str, int] = {}
    host_var_lines: dict[str, dict[str, int]] = {}
    members: dict[str, dict[str, None]] = {"all": {}, "ungrouped": {}}
    allowed = set(rename) | {"os", "level", "groups", "vars"}
    for name, settings in data.get("hosts", {}).items():
        settings = settings or {}
        if not isinstance(settings, dict):
            raise doc.error(InventoryError, ("hosts", name), "expected a mapping")
        bad = sorted(set(settings) - allowed, key=str)
        if bad:
            raise doc.error(
                InventoryError,
                ("hosts", name, bad[0]),
                f"unknown key {bad[0]!r} (allowed: {', '.join(sorted(allowed))})",
            )
        own = settings.get("vars") or {}
        if not isinstance(own, dict):
            raise doc.error(InventoryError, ("hosts", name, "vars"), "expected a mapping")
        variables = {rename.get(k, k): v for k, v in settings.items() if k not in ("groups", "vars")}
        variables.update(own)
        key_node, value_node = host_nodes.get(str(name), (None, None))
        host_vars[str(name)] = variables
        host_line[str(name)] = key_node.start_mark.line + 1 if key_node is not None else 0
        lines = {k: line for k, line in _key_lines(value_node).items() if k not in ("groups", "vars")}
        lines.update(_key_lines(_child(value_node, "vars")))
        host_var_lines[str(name)] = lines
        for group in settings.get("groups") or []:
            members.setdefault(str(group), {})[str(name)] = None
    group_vars: dict[str, dict[str, Any]] = {"all": dict(data.get("vars") or {})}
    var_lines: dict[str, dict[str, int]] = {"all": _key_lines(_child(doc.root, "vars"))}
    group_nodes = _index(_child(doc.root, "groups"))
    children: dict[str, dict[str, None]] = {}
    for group, spec in (data.get("groups") or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise doc.error(InventoryError, ("groups", group), "expected a mapping")
        group = str(group)
        members.setdefault(group, {})
        for name in spec.get("hosts") or []:
            if str(name) not in host_vars:
                raise doc.error(InventoryError, ("groups", group, "hosts"), f"host {name!r} is not under hosts:")
            members[group][str(name)] = None
        children[group] = dict.fromkeys(str(kid) for kid in spec.get("children") or [])
        group_vars[group] = dict(spec.get("vars") or {})
        var_lines[group] = _key_lines(_child(group_nodes.get(group, (None, None))[1], "vars"))
    for group, kids in children.items():
        for kid in kids:
            if kid not in members:
                raise doc.error(InventoryError, ("groups", group, "children"), f"child group {kid!r} is not defined")
    return _assemble(doc.file, members, children, group_vars, host_vars, host_line, var_lines, host_var_lines)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node under ``key`` of a mapping node, if any."""
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def _index(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's entries by key, built once (line_of walks the mapping for every lookup)."""
    return {str(k.value): (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    return {key: k.start_mark.line + 1 for key, (k, _) in _index(node).items()}
