"""``time_sync``: whether the running time daemon says it is synchronised to a time server.

A configuration file that names a server proves nothing: chrony reads only the files its chrony.conf
includes (``confdir``, ``sourcedir``, ``include``), and a server that never answers synchronises
nothing. So the daemons are asked, each in its own words, and only their answer can pass:

- chronyd: ``chronyc -n -c tracking`` and ``chronyc -n -c sources`` (as root over its Unix socket,
  otherwise over UDP port 323 on localhost: no root needed). Synchronised = leap status is not
  "Not synchronised" AND one source is the selected one (state ``*``). Both, because tracking keeps
  the last reference (and "Normal") after every source became unreachable, and a ``local`` stratum
  reference is leap "Normal" with no source at all.
- systemd-timesyncd (only where systemd runs): ``timedatectl show-timesync`` names the server it
  talks to and ``timedatectl show -p NTPSynchronized`` the kernel's synchronised flag; both needed.
- ntpd/ntpsec: ``ntpq -pn``: a peer marked ``*`` (the system peer).

``synchronised`` is True when any daemon says so, False when every daemon that answered says no,
and None (unknown, with ``summary`` saying why) when no daemon's status could be read.
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, register, sections

SCRIPT = (
    "if command -v chronyc >/dev/null 2>&1; then "
    'echo @@chrony_tracking; chronyc -n -c tracking </dev/null 2>&1; echo "@@chrony_tracking_rc $?"; '
    'echo @@chrony_sources; chronyc -n -c sources </dev/null 2>&1; echo "@@chrony_sources_rc $?"; fi; '
    "if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1; then "
    "echo @@timesyncd; timedatectl show-timesync </dev/null 2>&1; timedatectl show -p NTPSynchronized </dev/null 2>&1; "
    'echo "@@timesyncd_rc $?"; fi; '
    'if command -v ntpq >/dev/null 2>&1; then echo @@ntpq; ntpq -pn </dev/null 2>&1; echo "@@ntpq_rc $?"; fi; true'
)

_SYNCED_LEAP = {"Normal", "Insert second", "Delete second"}
_LOCAL_REF = "7F7F0101"  # chrony's "local" reference: its own clock, not a server


def _rc(found: dict[str, list[str]], prefix: str) -> int | None:
    for key in found:
        if key.startswith(prefix + "_rc "):
            return int(key.split()[1])
    return None


def parse_chrony(tracking: list[str], sources: list[str]) -> dict[str, Any]:
    """chronyc's CSV answers (pure): leap status, reference, and the selected source."""
    fields = next((line.split(",") for line in tracking if line.count(",") >= 13), None)
    if fields is None:
        raise ValueError("chronyc tracking: " + (" ".join(s.strip() for s in tracking if s.strip()) or "no output"))
    leap = fields[13].strip()
    rows = [line.split(",") for line in sources if line.count(",") >= 9]
    selected = [r[2] for r in rows if r[1] == "*"]
    synced = leap in _SYNCED_LEAP and bool(selected) and fields[0] != _LOCAL_REF
    usable = ", ".join(f"{r[2]} ({r[1]}, reach {int(r[5], 10):o})" for r in rows if r[5].isdigit()) or "no sources"
    text = f"chronyd: leap status {leap}, reference {fields[1] or fields[0]}, sources: {usable}"
    return {"synchronised": synced, "source": selected[0] if selected else None, "summary": text}


def parse_timesyncd(lines: list[str]) -> dict[str, Any]:
    """``timedatectl show-timesync`` + ``show -p NTPSynchronized`` (pure)."""
    props = dict(line.strip().partition("=")[::2] for line in lines if "=" in line)
    server = props.get("ServerAddress") or props.get("ServerName") or ""
    synced = props.get("NTPSynchronized") == "yes" and bool(server)
    text = f"systemd-timesyncd: server {server or 'none'}, NTPSynchronized={props.get('NTPSynchronized', '?')}"
    return {"synchronised": synced, "source": server or None, "summary": text}


def parse_ntpq(lines: list[str]) -> dict[str, Any]:
    """``ntpq -pn`` (pure): the system peer is the row marked ``*``."""
    peers = [line.split()[0] for line in lines[2:] if line.strip() and line[0] in "*o+-x.#~ "]
    selected = [p[1:] for p in peers if p[:1] in "*o"]
    if not peers and not any(line.lstrip().startswith("remote") for line in lines):
        raise ValueError("ntpq -pn: " + (" ".join(s.strip() for s in lines if s.strip()) or "no output"))
    text = f"ntpd: system peer {selected[0] if selected else 'none'} among {len(peers)} peers"
    return {"synchronised": bool(selected), "source": selected[0] if selected else None, "summary": text}


@register
class TimeSyncFact(ScriptFact):
    name = "time_sync"
    script = SCRIPT

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        if raw.timed_out or raw.rc is None:
            raise FactUnreadable("the time daemons' status did not finish")
        found = sections(raw.stdout)
        answers: list[dict[str, Any]] = []
        problems: list[str] = []
        readers = (
            ("chrony", lambda: parse_chrony(found.get("chrony_tracking", []), found.get("chrony_sources", []))),
            ("timesyncd", lambda: parse_timesyncd(found.get("timesyncd", []))),
            ("ntpq", lambda: parse_ntpq(found.get("ntpq", []))),
        )
        for key, read in readers:
            rc = _rc(found, key if key != "chrony" else "chrony_tracking")
            if rc is None:
                continue  # the tool is not installed
            try:
                if rc != 0:
                    lines = found.get(key if key != "chrony" else "chrony_tracking", [])
                    said = " ".join(s.strip() for s in lines if s.strip()) or "no output"
                    raise ValueError(f"{key} exit {rc}: {said}")
                answers.append(read())
            except ValueError as exc:
                problems.append(str(exc))  # e.g. "506 Cannot talk to daemon": that daemon is not running
        synced = [a for a in answers if a["synchronised"]]
        verdict: bool | None = True if synced else (False if answers else None)
        parts = [a["summary"] for a in answers] + [f"no answer: {p}" for p in problems]
        return {
            "synchronised": verdict,
            "source": synced[0]["source"] if synced else None,
            "answered": len(answers),
            "summary": "; ".join(parts) or "no time daemon's tool installed (chronyc, timedatectl, ntpq)",
        }
