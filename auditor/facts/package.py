"""``package``: are these packages installed (dpkg or rpm)? Asks only for the named packages."""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactType, FactUnreadable, RawOutput, name_arg, name_schema, register, sections

# dpkg's status "<want> <error flag> <state>", abbreviated: installed means state "installed" ("i")
# with no error flag (" "), wanted installed or held ("ii ", "hi "). Not: "rc " (removed, config files
# left), "iU "/"iF " (unpacked, half-configured), "iiR" (reinstall required: broken), "ri " (marked
# for removal by the next dpkg run).
_INSTALLED = frozenset({"ii ", "hi "})


def _installed(abbrev: str) -> bool:
    return abbrev[:3].ljust(3) in _INSTALLED


@register
class PackageFact(FactType):
    name = "package"
    params_schema = {
        "type": "object",
        "properties": {"names": {"type": "array", "items": name_schema("A-Za-z0-9.+_:-"), "minItems": 1}},
        "required": ["names"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        names = " ".join(name_arg(n) for n in params["names"])
        return [
            "if command -v dpkg-query >/dev/null 2>&1; then echo @@dpkg; "
            f"dpkg-query -W -f='${{Package}}|${{db:Status-Abbrev}}|${{Version}}\\n' -- {names} 2>/dev/null; "
            "elif command -v rpm >/dev/null 2>&1; then echo @@rpm; "
            f"rpm -q --qf '%{{NAME}}|ii |%{{VERSION}}-%{{RELEASE}}\\n' -- {names} 2>/dev/null | grep '|ii |'; "
            "else echo @@none; fi; true"
        ]

    def merge_params(self, params: list[dict[str, Any]]) -> dict[str, Any] | None:
        return {"names": sorted({n for p in params for n in p["names"]})}  # one dpkg-query per host

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        found = sections(raw.stdout)
        if "none" in found or not found:
            raise FactUnreadable("no package manager found (dpkg-query, rpm)")
        manager, lines = next(iter(found.items()))
        names = params["names"]
        installed: dict[str, str] = {}
        for line in lines:
            parts = line.split("|")
            name = parts[0].split(":")[0]
            # Only this fact's names count: the output may be shared with other package facts (merge_params).
            if len(parts) == 3 and _installed(parts[1]) and name in names:
                installed[name] = parts[2]
        return {
            "manager": manager,
            "installed": installed,
            "installed_names": sorted(installed),
            "any_installed": bool(installed),
            "all_installed": all(n in installed for n in names),
            "missing": [n for n in names if n not in installed],
        }
