"""``apt_periodic``: whether APT's daily job would run unattended-upgrade, as APT itself reads its settings.

The settings are APT's effective configuration, ``apt-config dump``: the files of /etc/apt/apt.conf.d
are read in lexical order and the last value wins, ``#clear`` removes a tree, ``//`` and ``/* */``
are comments, ``APT::Periodic { Unattended-Upgrade "1"; };`` is the same key as the flat form.
A grep of the files gets all of these wrong in one direction or the other.

The values are judged as /usr/lib/apt/apt.systemd.daily (the job) judges them:
- ``APT::Periodic::Enable``: an integer 0 stops every periodic action (``[ $AutoAptEnable -eq 0 ]``);
- ``APT::Periodic::Unattended-Upgrade``: unset means 0; exactly "0" is off; "always" or digits with
  an optional s/m/h/d suffix is on (its ``check_stamp`` compares the string with "0", so "00" and
  "0d" run every time); anything else is unknown (the job's shell arithmetic would fail);
- ``Unattended-Upgrade::Origins-Pattern`` / ``Allowed-Origins``: with both empty it upgrades nothing.

And whether the job is scheduled where it runs: on a systemd host (/run/systemd/system) the
``apt-daily-upgrade.timer`` must be active; elsewhere cron runs /etc/cron.daily/apt-compat, which
must be executable (run-parts skips it otherwise; the check asks for a running cron besides).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, first_line, register, sections

SCRIPT = (
    "if ! command -v apt-config >/dev/null 2>&1; then echo @@none; exit 0; fi; "
    "echo @@config; out=$(LC_ALL=C apt-config dump --format '%f=%v%n' </dev/null 2>&1); rc=$?; "
    "printf '%s\\n' \"$out\" "
    "| grep -E '^(APT::Periodic::|Unattended-Upgrade::(Origins-Pattern|Allowed-Origins)::|[EW]: )'; "
    'echo "@@rc $rc"; echo @@job; '
    "if [ -d /run/systemd/system ]; then "
    'echo "systemd $(systemctl is-active apt-daily-upgrade.timer </dev/null 2>&1)"; '
    "elif [ -f /etc/cron.daily/apt-compat ]; then "
    "if [ -x /etc/cron.daily/apt-compat ]; then echo cron executable; else echo cron not-executable; fi; "
    "else echo cron absent; fi"
)

UU_KEY = "APT::Periodic::Unattended-Upgrade"
ENABLE_KEY = "APT::Periodic::Enable"
TIMER = "apt-daily-upgrade.timer"
CRON_JOB = "/etc/cron.daily/apt-compat"
_INTERVAL = re.compile(r"(always|[0-9]+[smhd]?)\Z")


def parse_config(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """(scalar settings, origin patterns) from ``apt-config dump --format '%f=%v%n'`` lines (pure)."""
    settings: dict[str, str] = {}
    origins: list[str] = []
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key.endswith("::"):  # a list item: Unattended-Upgrade::Origins-Pattern::=origin=Debian,...
            if value.strip():
                origins.append(value.strip())
        else:
            settings[key] = value  # dump prints each key once, with its effective value
    return settings, origins


def unattended_on(value: str | None) -> bool | None:
    """apt.systemd.daily's reading of APT::Periodic::Unattended-Upgrade (None: it cannot tell)."""
    if value is None or value == "0":
        return False
    return True if _INTERVAL.match(value) else None


def periodic_on(value: str | None) -> bool:
    """apt.systemd.daily's reading of APT::Periodic::Enable: only an integer 0 disables."""
    return not (value is not None and re.fullmatch(r"[+-]?[0-9]+", value.strip()) and int(value) == 0)


@register
class AptPeriodicFact(ScriptFact):
    name = "apt_periodic"
    script = SCRIPT

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        if raw.timed_out or raw.rc is None:
            raise FactUnreadable("apt-config dump did not finish")
        found = sections(raw.stdout)
        if "none" in found:
            raise FactUnreadable("apt-config not found (not a Debian-family host)")
        rc_keys = [k for k in found if k.startswith("rc ")]
        lines = found.get("config", [])
        if not rc_keys or "job" not in found:
            raise FactUnreadable("apt-config dump did not finish")
        rc = int(rc_keys[0].split()[1])
        errors = [s for s in lines if s.startswith("E: ")]
        if rc != 0 or errors:
            raise FactUnreadable(f"apt-config dump failed (exit {rc}): {first_line(chr(10).join(errors or lines))}")
        settings, origins = parse_config(lines)
        value = settings.get(UU_KEY)
        enable = settings.get(ENABLE_KEY)
        job_words = (found["job"] or [""])[0].split()
        if job_words[:1] == ["systemd"]:
            state = " ".join(job_words[1:]) or "unknown"
            job = TIMER if state == "active" else f"none ({TIMER} {state})"
        elif job_words[1:] == ["executable"]:
            job = CRON_JOB
        else:
            job = f"none ({CRON_JOB} {' '.join(job_words[1:]) or 'unknown'})"
        return {
            "unattended_upgrade": unattended_on(value),
            "unattended_upgrade_value": "unset (0)" if value is None else f'"{value}"',
            "periodic_enabled": periodic_on(enable),
            "periodic_enable_value": "unset (1)" if enable is None else f'"{enable}"',
            "origins": origins,
            "origins_count": len(origins),
            "security_origin": any("security" in o.lower() for o in origins),
            "job": job,
            "systemd": job_words[:1] == ["systemd"],
        }
