"""``kernel_module``: is loading a module blocked by configuration (``modprobe -n -v``)?

``modprobe -n -v NAME`` reads /etc/modprobe.d as a real load would and prints what it
would do: ``install /bin/false`` when an install directive blocks it, ``insmod ...``
when it would load. A ``blacklist`` line only stops alias-based autoloading, and a
kernel that lacks the module today is not "blocked": both are reported as not blocked.
"""

from __future__ import annotations

import os.path
from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, name_arg, name_schema, quote, register, sections

_BLOCKING_COMMANDS = {"true", "false"}


def snippet(module: str) -> str:
    name = name_arg(module)
    loaded = quote(module.replace("-", "_"))
    builtin = quote("/" + module.replace("-", "[-_]") + ".ko")
    return (
        'command -v modprobe >/dev/null 2>&1 || { echo "modprobe not found" >&2; exit 127; }; '
        f'echo @@probe; modprobe -n -v -- {name} 2>&1; echo "@@rc $?"; '
        "echo @@loaded; "
        f'{{ while read -r m _; do [ "$m" = {loaded} ] && echo "$m"; done < /proc/modules; }} 2>/dev/null; '
        "echo @@builtin; { read -r r < /proc/sys/kernel/osrelease; } 2>/dev/null; "
        # No grep (an exec) when the kernel's list is absent, as in containers.
        f'[ -f "/lib/modules/$r/modules.builtin" ] && grep -s -- {builtin} "/lib/modules/$r/modules.builtin"; true'
    )


def parse_probe(lines: list[str], rc: int) -> dict[str, Any]:
    """Interpret ``modprobe -n -v`` output lines (stdout and stderr merged) and its exit code."""
    install = next((ln.split(None, 1)[1].strip() for ln in lines if ln.startswith("install ")), None)
    text = "\n".join(lines)
    not_found = "not found" in text
    if install is None and rc != 0 and not not_found:
        raise FactUnreadable(f"modprobe -n -v failed (exit {rc}): {text.strip()[:200] or 'no output'}")
    blocked = bool(install) and os.path.basename(install.split()[0]) in _BLOCKING_COMMANDS
    would_load = any(ln.startswith("insmod ") for ln in lines)
    return {
        "install_command": install,
        "blocked": blocked,
        "would_load": would_load,
        "module_not_found": not_found,
    }


@register
class KernelModuleFact(FactType):
    name = "kernel_module"
    params_schema = {
        "type": "object",
        "properties": {"name": name_schema("A-Za-z0-9_-")},
        "required": ["name"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [snippet(params["name"])]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        if raw.rc == 127 or raw.timed_out or raw.rc is None:
            raise FactUnreadable((raw.stderr.strip() or "modprobe did not run")[:200])
        found = sections(raw.stdout)
        rc_key = next((k for k in found if k.startswith("rc ")), None)
        if "probe" not in found or rc_key is None:
            raise FactUnreadable("unexpected output from modprobe")
        result = parse_probe(found["probe"], int(rc_key.split()[1]))
        result["loaded"] = bool([ln for ln in found.get("loaded", []) if ln.strip()])
        result["builtin"] = bool([ln for ln in found.get("builtin", []) if ln.strip()])
        # Loaded now, or compiled into the kernel: configuration cannot stop what is already there.
        result["blocked_effective"] = result["blocked"] and not result["loaded"] and not result["builtin"]
        result["summary"] = _summary(params["name"], result)
        return result


def _summary(module: str, r: dict[str, Any]) -> str:
    if r["loaded"]:
        return f"{module} is loaded right now"
    if r["builtin"]:
        return f"{module} is built into the kernel; modprobe configuration cannot block it"
    if r["install_command"]:
        return f"modprobe would run 'install {r['install_command']}' instead of loading {module}"
    if r["would_load"]:
        return f"modprobe would load {module}: no install directive blocks it"
    if r["module_not_found"]:
        return f"no install directive blocks {module} (the module is merely absent from this kernel today)"
    return f"modprobe reports nothing that blocks {module}"
