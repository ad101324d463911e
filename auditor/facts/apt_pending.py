"""``apt_pending``: upgrades the host's own apt state says are pending, and how fresh that state is.

One snippet, run as is on the host (nothing is downloaded, nothing is locked): the age of the newest
package index in /var/lib/apt/lists/ (``*_Packages*``, ``*_InRelease``, ``*_Release``) and the ``Inst``
lines of ``apt-get -s dist-upgrade`` (dist-upgrade, not upgrade: a security update that needs a new
dependency is "kept back" by upgrade and would go unseen). The simulation ignores holds (``apt-mark
hold``, dpkg's ``hold`` selection) and pin files (/etc/apt/preferences*): both keep a published security
update off the host, which leaves it pending, not applied; held ones are named (``apt-mark showhold``).
An ``Inst`` line reads
``Inst NAME [OLD] (NEW ORIGIN[, ORIGIN…] [ARCH])`` where each ORIGIN is apt's ``Label:Version/Suite``;
an update is a *security* update when one of its origins names ``-security`` or ``Debian-Security``.

The judged field is ``security_pending_count``. It is ``None`` (so the check is ``unknown``, never
``pass``) when the lists are missing or older than ``max_age_days``: "nothing pending" only means
something when apt knows what was published. A pending security update found in stale lists is
still pending, so a count > 0 is kept whatever the lists' age (a definite ``fail``).
No apt-get on the host: unreadable.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.clock import Dated, HostClock, age_of, epoch, evidence_line, host_clock, lower, newest, show, upper
from auditor.facts.base import FactType, FactUnreadable, RawOutput, existing_files, first_line, register, sections

SCRIPT = (
    'if command -v apt-get >/dev/null 2>&1; then echo @@now; echo "${_now:-$(date +%s)}"; echo @@lists; '
    "set --; "
    + existing_files(
        [
            "/var/lib/apt/lists/*_Packages",
            "/var/lib/apt/lists/*_Packages.*",
            "/var/lib/apt/lists/*_InRelease",
            "/var/lib/apt/lists/*_Release",
        ]
    )
    + '[ $# -eq 0 ] || stat -c "%Y|%n" -- "$@"; echo @@sim; '  # one stat for the 10 to 30 lists of a real host
    # Holds, pins and a Default-Release keep an update from being installed, not applied: ignore them.
    "LC_ALL=C apt-get -s -q -o Debug::NoLocking=1 -o APT::Ignore-Hold=1 -o Dir::Etc::preferences=/dev/null "
    "-o Dir::Etc::preferencesparts=/dev/null -o APT::Default-Release= dist-upgrade </dev/null 2>&1; "
    'echo "@@rc $?"; echo @@held; '
    "apt-mark showhold </dev/null 2>/dev/null; "
    "else echo @@none; fi; true"
)

# Inst NAME [OLD] (NEW ORIGINS [ARCH]) -- OLD is absent for a new package, [ARCH] may be absent.
_INST = re.compile(r"^Inst (\S+)(?: \[([^\]]*)\])? \((\S+)(?: (.*?))?\)")
_ARCH = re.compile(r"\s*\[([^\]]*)\]$")
_SECURITY = re.compile(r"-security|debian-security", re.IGNORECASE)


def parse_inst(lines: list[str]) -> list[dict[str, Any]]:
    """The ``Inst`` lines of an ``apt-get -s`` run, one dict each (pure; see the module docstring)."""
    out: list[dict[str, Any]] = []
    for line in lines:
        m = _INST.match(line.strip())
        if not m:
            continue
        name, old, new, rest = m.group(1), m.group(2), m.group(3), (m.group(4) or "").strip()
        arch = None
        a = _ARCH.search(rest)
        if a:
            arch, rest = a.group(1), rest[: a.start()].strip()
        origins = [o.strip() for o in rest.split(",") if o.strip()]
        out.append(
            {
                "name": name.split(":")[0],  # libssl3:i386 -> libssl3
                "old": old,
                "new": new,
                "origins": origins,
                "arch": arch,
                "security": any(_SECURITY.search(o) for o in origins),
            }
        )
    return out


@register
class AptPendingFact(FactType):
    name = "apt_pending"
    params_schema = {
        "type": "object",
        # a number, or a "{{ param }}" template rendered before parse
        "properties": {"max_age_days": {"type": ["number", "string"]}},
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SCRIPT]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        if raw.timed_out:
            raise FactUnreadable("apt-get -s dist-upgrade timed out")
        if raw.rc is None:
            raise FactUnreadable("apt-get -s dist-upgrade did not finish")
        try:
            max_age = float(params.get("max_age_days", 7))
        except (TypeError, ValueError):
            raise FactUnreadable(f"max_age_days is not a number: {params.get('max_age_days')!r}") from None
        found = sections(raw.stdout)
        if "none" in found or not found:
            raise FactUnreadable("apt-get not found (not a Debian-family host)")
        host = _host_clock(raw)
        rc_keys = [k for k in found if k.startswith("rc ")]
        if not rc_keys:
            raise FactUnreadable("apt-get -s dist-upgrade did not finish")
        sim = found.get("sim", [])
        rc = int(rc_keys[0].split()[1])
        if rc != 0:
            err = next((s.strip() for s in sim if s.startswith("E:")), "") or first_line("\n".join(sim))
            raise FactUnreadable(f"apt-get -s dist-upgrade failed (exit {rc}): {err or 'no output'}")
        lists: list[tuple[int, str]] = []
        for line in found.get("lists", []):
            mtime, _, path = line.partition("|")
            if mtime.strip().isdigit() and path:
                lists.append((int(mtime), path))
        # The lists' mtimes: apt sets them from the mirror's Last-Modified, or this host's clock wrote them.
        ages = [age_of(mtime, host, True) for mtime, _ in lists]
        dated = newest(ages) if lists else Dated(None)
        age = dated.age
        newest_list = min(
            ((upper(a.age), path) for a, (_, path) in zip(ages, lists, strict=True) if a.age is not None), default=None
        )
        fresh = age is not None and upper(age) <= max_age
        undecided = bool(lists) and not fresh and (age is None or lower(age) <= max_age)
        pending = parse_inst(sim)
        security = [p for p in pending if p["security"]]
        sec_names = sorted({p["name"] for p in security})
        held = sorted({h.strip().split(":")[0] for h in found.get("held", []) if h.strip()})
        if not lists:
            state = "missing"
        elif undecided:
            state = "undated"  # in the future, or old or not depending on whose clock: never "fresh"
        elif not fresh:
            state = "stale"
        else:
            state = "fresh"
        # The judged field: None unless the answer is known (see the module docstring).
        sec_count: int | None = len(sec_names) if (fresh or sec_names) else None
        undated = dated.problem or (host.describe() if undecided else None)
        summary = (
            ", ".join(
                f"{p['name']} {p['old'] or '-'} -> {p['new']} ({', '.join(p['origins'])})"
                + (" held" if p["name"] in held else "")
                for p in security
            )
            or None
        )
        if sec_count is None and lists:
            summary = f"package lists {state}: newest {show(age)} (limit {max_age:g})" + (
                f"; {undated}" if undated else ""
            )
        return {
            "lists": state,
            "lists_present": bool(lists),
            "lists_fresh": fresh,
            "lists_age_days": age,
            "lists_newest": newest_list[1] if newest_list else None,
            "max_age_days": max_age,
            "lists_undated": undated,
            "clock": host.as_dict(),
            "pending_count": len(pending),
            "pending_names": sorted({p["name"] for p in pending}),
            "security_pending_count": sec_count,
            "security_pending_names": sec_names,
            "security_summary": summary,
            "security_pending_held": [n for n in sec_names if n in held],
            "held": held,
            "pending": pending,
        }

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        text = outputs[0].stdout
        if not sections(text).get("now"):
            return text
        return text.rstrip("\n") + "\n" + evidence_line(_host_clock(outputs[0]))


def _host_clock(raw: RawOutput) -> HostClock:
    now_lines = [s for s in sections(raw.stdout).get("now", []) if s.strip()]
    try:
        return host_clock(epoch(now_lines[0] if now_lines else ""), raw.reference)
    except ValueError:
        raise FactUnreadable("unexpected output: no date") from None
