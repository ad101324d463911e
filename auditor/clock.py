"""Ages measured against the auditor's clock, with the host's clock checked against it.

A host's clock can be wrong. Ages computed on the host (``now - mtime``) then lie: a host whose
clock is 38 days behind calls 40-day-old signatures 2 days old. So every age is measured against
the auditor's clock, and the host's clock is only a reading to check:

- The engine notes the auditor's time when it sent a host its script and when the output was
  back (``Reference``). The host printed its own clock in between, so its skew is how far that
  reading falls outside the window (0 inside it): ``HostClock``.
- A timestamp the host did not write (a ClamAV header's build time) has one age: auditor's now
  minus the timestamp.
- A timestamp the host's clock wrote (a file's mtime, an install date) was written by a clock of
  unknown skew at the time. Taking that skew between none and today's, the true age lies between
  the age on the auditor's clock and the age on the host's: within the tolerance that is one
  number, beyond it a range (``{"at_least": a, "at_most": b}``), which evaluation passes only
  when the whole range passes.
- A timestamp in the future of the auditor's clock beyond the tolerance has no age ("never
  fresh"): the field is ``None`` and the reason says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_TOLERANCE = 300.0  # seconds; the playbook parameter max_clock_skew_seconds
TOLERANCE_PARAM = "max_clock_skew_seconds"
DAY = 86400.0

Age = float | dict[str, float]  # days: exact, or {"at_least": a, "at_most": b}


def tolerance(params: dict[str, Any]) -> float:
    """``max_clock_skew_seconds`` from a host's parameters (default 300); ValueError when it is not
    a number of seconds >= 0."""
    raw = params.get(TOLERANCE_PARAM)
    if raw is None:
        return DEFAULT_TOLERANCE
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{TOLERANCE_PARAM}: expected a number of seconds >= 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class Reference:
    """The auditor's clock (epoch seconds) when a host's script was sent and when its output was back."""

    sent: float
    received: float
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class HostClock:
    host: float  # what the host's clock said
    auditor: float  # the auditor's clock at that moment (nearest point of the window)
    skew: float  # host - auditor, seconds: < 0 behind, > 0 ahead
    tolerance: float

    @property
    def off(self) -> bool:
        return abs(self.skew) > self.tolerance

    def describe(self) -> str:
        if not self.skew:
            how = "agrees with the auditor's"
        else:
            how = f"{_span(abs(self.skew))} {'behind' if self.skew < 0 else 'ahead of'} the auditor's"
        limit = f"beyond the {self.tolerance:g} s tolerance" if self.off else f"tolerance {self.tolerance:g} s"
        return f"host clock {how} ({limit})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "measured_against": "auditor clock",
            "host_epoch": self.host,
            "auditor_epoch": round(self.auditor, 3),
            "skew_seconds": round(self.skew, 3),
            "tolerance_seconds": self.tolerance,
            "off": self.off,
            "summary": self.describe(),
        }


def host_clock(host_epoch: float, reference: Reference | None) -> HostClock:
    """The host's reading against the auditor's window. Without a reference (a parser called on
    its own), the auditor's clock is read now."""
    if reference is None:
        now = time.time()
        reference = Reference(now, now)
    auditor = min(max(host_epoch, reference.sent), reference.received)
    return HostClock(host_epoch, auditor, host_epoch - auditor, reference.tolerance)


def epoch(text: str) -> int:
    """A host's ``date +%s`` reading; ValueError when it is not one."""
    text = text.strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"not a clock reading: {text[:40]!r}")
    return int(text)


def evidence_line(clock: HostClock) -> str:
    """What every age-based fact's evidence says about the clock its ages rest on."""
    return (
        f"# ages measured against the auditor's clock ({_utc(clock.auditor)}); host clock read "
        f"{_utc(clock.host)}, skew {clock.skew:+.0f} s, tolerance {clock.tolerance:g} s"
        + (": the host's clock is off" if clock.off else "")
    )


def _utc(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


@dataclass(frozen=True)
class Dated:
    """One timestamp's age in days (exact or a range), or None with why it has none."""

    age: Age | None
    problem: str | None = None


def age_of(timestamp: float, clock: HostClock, host_written: bool) -> Dated:
    on_auditor = clock.auditor - timestamp
    if on_auditor < -clock.tolerance:
        why = f"dated {_span(-on_auditor)} in the future of the auditor's clock"
        return Dated(None, why + (f" ({clock.describe()})" if clock.off else ""))
    if not (host_written and clock.off):
        return Dated(_days(max(on_auditor, 0.0)))
    on_host = on_auditor + clock.skew
    low, high = sorted((max(on_auditor, 0.0), max(on_host, 0.0)))
    return Dated({"at_least": _days(low), "at_most": _days(high)})


def newest(dated: Iterable[Dated]) -> Dated:
    """The age of the newest of several timestamps. One without an age could be the newest: then
    the newest is at most as old as the youngest dated one, and at least 0."""
    items = list(dated)
    ages = [d.age for d in items if d.age is not None]
    problems = [d.problem for d in items if d.age is None]
    if not ages:
        return Dated(None, problems[0] if problems else None)
    low = min(lower(a) for a in ages)
    high = min(upper(a) for a in ages)
    if problems:
        low = 0.0
    return Dated(high if low == high else {"at_least": low, "at_most": high}, problems[0] if problems else None)


def oldest(dated: Iterable[Dated]) -> Dated:
    items = list(dated)
    missing = next((d.problem for d in items if d.age is None), None)
    if missing or not items:
        return Dated(None, missing)
    ages = [d.age for d in items if d.age is not None]
    low, high = max(lower(a) for a in ages), max(upper(a) for a in ages)
    return Dated(high if low == high else {"at_least": low, "at_most": high})


def lower(age: Age) -> float:
    return age["at_least"] if isinstance(age, dict) else age


def upper(age: Age) -> float:
    return age["at_most"] if isinstance(age, dict) else age


def show(age: Age | None) -> str:
    if age is None:
        return "of unknown age"
    if isinstance(age, dict):
        return f"between {age['at_least']:g} and {age['at_most']:g} days old"
    return f"{age:g} days old"


def _days(seconds: float) -> float:
    return round(seconds / DAY, 2)


def _span(seconds: float) -> str:
    if seconds >= DAY:
        return f"{seconds / DAY:.2f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds:.0f} s"
