"""Waivers: reviewed, approved, expiring exceptions to checks, applied to a run's results after judging.

    waivers:
      - id: W-2026-001
        checks: [LNX-USB-STORAGE-BLOCKED]      # check ids or globs
        hosts: [kiosk01, workstations]         # host names, inventory groups, or all
        type: risk_accepted                    # risk_accepted | compensating_control | false_positive | not_applicable
        justification: "Máy tra cứu công cộng, cổng USB bị bịt vật lý"
        requested_by: Nguyễn Văn A
        approved_by: Trần Thị B               # must differ from requested_by
        approved_on: 2026-11-01
        expires: 2027-03-31                    # end of that day in Asia/Ho_Chi_Minh

The check still runs. A result that matches an active waiver and did not pass (fail, error, unknown)
on a host that was audited (reachable) becomes ``waived``: it keeps the verdict it had in
``waived_status`` and names its waiver. A waiver never touches a pass (nothing to excuse), nor
not_applicable or manual (already out of the score).
An expired waiver changes nothing and is listed; so is one that expires within ``waiver_warn_days``
and one that waived nothing. A waiver file with a mistake is bad input (file:line:field), refused
before any host is contacted.

Expiry is judged on the auditor's clock, never a host's. Viet Nam keeps UTC+7 all year (no daylight
saving since 1975), so the end of a day in Asia/Ho_Chi_Minh is a fixed offset: no tz database needed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.catalog import Catalog
from auditor.errors import CatalogError, InputError
from auditor.model import CheckResult, HostResult, Verdict
from auditor.yamlsource import NONBLANK_TEXT, YamlDoc, dates_as_text, load_yaml, schema_errors

FILE_NAME = "waivers.yaml"  # in the evidence folder
TYPES = ("risk_accepted", "compensating_control", "false_positive", "not_applicable")
WARN_DAYS_PARAM, MAX_DAYS_PARAM = "waiver_warn_days", "waiver_max_days"
DEFAULT_WARN_DAYS, DEFAULT_MAX_DAYS = 30, 365
WAIVABLE = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.UNKNOWN})
VIETNAM = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NAMES = {
    "oneOf": [NONBLANK_TEXT, {"type": "array", "items": NONBLANK_TEXT, "minItems": 1, "uniqueItems": True}],
}
WAIVER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"},
        "checks": _NAMES,
        "hosts": _NAMES,
        "type": {"enum": list(TYPES)},
        "justification": NONBLANK_TEXT,
        "requested_by": NONBLANK_TEXT,
        "approved_by": NONBLANK_TEXT,
        "approved_on": _DATE,
        "expires": _DATE,
        "note": {"type": "string"},
    },
    "required": [
        "id",
        "checks",
        "hosts",
        "type",
        "justification",
        "requested_by",
        "approved_by",
        "approved_on",
        "expires",
    ],
    "additionalProperties": False,
}
FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"waivers": {"type": "array"}},  # each waiver: parse()
    "required": ["waivers"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Waiver:
    id: str
    checks: tuple[str, ...]  # ids or globs
    hosts: tuple[str, ...]  # names, groups or "all"
    type: str
    justification: str
    requested_by: str
    approved_by: str
    approved_on: dt.date
    expires: dt.date
    where: str  # "waivers.yaml:12"
    note: str = ""

    @property
    def ends_at(self) -> float:
        """Epoch seconds when the waiver stops counting: the end of ``expires`` in Viet Nam."""
        return dt.datetime.combine(self.expires + dt.timedelta(days=1), dt.time(), VIETNAM).timestamp()

    def active(self, now: float) -> bool:
        return now < self.ends_at

    def days_left(self, now: float) -> int:
        """Whole days from ``now`` (in Viet Nam) to the expiry day: 0 on the last day, < 0 once expired."""
        today = dt.datetime.fromtimestamp(now, VIETNAM).date()
        return (self.expires - today).days

    def covers_check(self, check_id: str) -> bool:
        return any(fnmatch.fnmatchcase(check_id, pattern) for pattern in self.checks)

    def covers_host(self, host_name: str, groups: Iterable[str]) -> bool:
        names = {host_name, *groups}
        return any(h == "all" or h in names for h in self.hosts)

    def covers(self, check_id: str, host_name: str, groups: Iterable[str]) -> bool:
        return self.covers_check(check_id) and self.covers_host(host_name, groups)

    def stamp(self) -> dict[str, str]:
        """What a waived result carries in results.json."""
        return {"id": self.id, "type": self.type, "approved_by": self.approved_by, "expires": self.expires.isoformat()}


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def today_in_vietnam(now: float | None = None) -> dt.date:
    return dt.datetime.fromtimestamp(time.time() if now is None else now, VIETNAM).date()


def parse(
    doc: YamlDoc,
    raw_list: Any,
    prefix: tuple[Any, ...],
    catalog: Catalog,
    max_days: int = DEFAULT_MAX_DAYS,
    today: dt.date | None = None,
) -> list[Waiver]:
    """The waivers at ``prefix`` of ``doc`` (a waivers file's ``waivers``, or a playbook's), validated.
    ``today`` (in Viet Nam, on the auditor's clock by default) refuses an approval dated later: a typo
    there would make a waiver count before anyone approved it."""
    today = today or today_in_vietnam()
    data = dates_as_text(raw_list)
    if isinstance(data, list):  # a missing or blank field is named as the field, not as its waiver
        for index, raw in enumerate(data):
            for key in WAIVER_SCHEMA["required"] if isinstance(raw, dict) else ():
                if key not in raw:
                    raise doc.error(CatalogError, (*prefix, index, key), "required, missing")
                if isinstance(raw[key], str) and not raw[key].strip():
                    raise doc.error(CatalogError, (*prefix, index, key), "required, empty")
    schema_errors(doc, {"type": "array", "items": WAIVER_SCHEMA}, data, prefix)
    out: list[Waiver] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(data):
        here = (*prefix, index)
        if raw["id"] in seen:
            raise doc.error(
                CatalogError, (*here, "id"), f"waiver {raw['id']!r} is already declared at {seen[raw['id']]}"
            )
        checks = [raw["checks"]] if isinstance(raw["checks"], str) else raw["checks"]
        hosts = [raw["hosts"]] if isinstance(raw["hosts"], str) else raw["hosts"]
        for pos, pattern in enumerate(checks):
            if not fnmatch.filter(catalog.checks, pattern):
                where = (*here, "checks") if isinstance(raw["checks"], str) else (*here, "checks", pos)
                raise doc.error(CatalogError, where, f"unknown check {pattern!r}: no check of the catalog matches it")
        if _same_person(raw["requested_by"], raw["approved_by"]):
            raise doc.error(
                CatalogError, (*here, "approved_by"), "the approver must be another person than the requester"
            )
        dates = {}
        for key in ("approved_on", "expires"):
            try:
                dates[key] = dt.date.fromisoformat(raw[key])
            except ValueError:
                raise doc.error(CatalogError, (*here, key), f"{raw[key]!r} is not a calendar date") from None
        if dates["approved_on"] > today:
            raise doc.error(CatalogError, (*here, "approved_on"), f"is after today ({today}): not approved yet")
        span = (dates["expires"] - dates["approved_on"]).days
        if span < 0:
            raise doc.error(CatalogError, (*here, "expires"), "is before approved_on")
        if span > max_days:
            raise doc.error(
                CatalogError,
                (*here, "expires"),
                f"{span} days after approved_on: a waiver may last at most {max_days} days ({MAX_DAYS_PARAM})",
            )
        where = f"{doc.file}:{doc.line_of(here)}"
        seen[raw["id"]] = where
        out.append(
            Waiver(
                id=raw["id"],
                checks=tuple(checks),
                hosts=tuple(hosts),
                type=raw["type"],
                justification=raw["justification"].strip(),
                requested_by=raw["requested_by"].strip(),
                approved_by=raw["approved_by"].strip(),
                approved_on=dates["approved_on"],
                expires=dates["expires"],
                where=where,
                note=raw.get("note", ""),
            )
        )
    return out


def load_file(path: Path, catalog: Catalog, max_days: int = DEFAULT_MAX_DAYS) -> list[Waiver]:
    doc = load_yaml(path, CatalogError)
    data = doc.data if doc.data is not None else {"waivers": []}
    if not isinstance(data, dict):
        raise doc.error(CatalogError, (), "expected a mapping with 'waivers:'")
    schema_errors(doc, FILE_SCHEMA, dates_as_text(data))
    return parse(doc, data["waivers"], ("waivers",), catalog, max_days)


def _days_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"expected a whole number of days, got {value!r}", field=name)
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"expected a whole number of days, got {value!r}", field=name) from None
    if number != int(number) or number < 0:
        raise InputError(f"expected a whole number of days >= 0, got {value!r}", field=name)
    return int(number)


@dataclass
class Waivers:
    """The waivers of a run, from every source, validated before any host is contacted."""

    items: list[Waiver]
    sources: list[str]
    warn_days: int = DEFAULT_WARN_DAYS
    max_days: int = DEFAULT_MAX_DAYS


def prepare(catalog: Catalog, playbook_doc: YamlDoc | None, params: dict[str, Any], file: str | None) -> Waivers | None:
    """Every waiver the run is given, or None when none is: ``--waivers FILE``, the playbook's ``waivers:``
    (a list of waivers, or the name of a file beside the playbook) and ``evidence_dir/waivers.yaml``.
    A waiver id declared in two sources is bad input, like one declared twice in a file."""
    warn_days = _days_param(params, WARN_DAYS_PARAM, DEFAULT_WARN_DAYS)
    max_days = _days_param(params, MAX_DAYS_PARAM, DEFAULT_MAX_DAYS)
    found: list[tuple[str, list[Waiver]]] = []
    playbook_data = playbook_doc.data if playbook_doc is not None and isinstance(playbook_doc.data, dict) else {}
    inline = playbook_data.get("waivers")
    if playbook_doc is not None and inline is not None:
        if isinstance(inline, str):
            path = Path(playbook_doc.file).parent / inline
            found.append((str(path), load_file(path, catalog, max_days)))
        elif isinstance(inline, list):
            found.append((playbook_doc.file, parse(playbook_doc, inline, ("waivers",), catalog, max_days)))
        else:
            raise playbook_doc.error(CatalogError, ("waivers",), "expected a list of waivers or the name of a file")
    evidence_dir = params.get("evidence_dir")
    if evidence_dir not in (None, ""):
        path = Path(str(evidence_dir)).expanduser() / FILE_NAME
        if path.is_file():
            found.append((str(path), load_file(path, catalog, max_days)))
    if file is not None:
        found.append((file, load_file(Path(file), catalog, max_days)))
    if not found:
        return None
    items: list[Waiver] = []
    where: dict[str, str] = {}
    for _source, waivers in found:
        for w in waivers:
            if w.id in where:
                file_name, _, line = w.where.rpartition(":")
                raise CatalogError(
                    f"waiver {w.id!r} is already declared at {where[w.id]}",
                    file=file_name,
                    line=int(line) if line.isdigit() else None,
                    field="id",
                )
            where[w.id] = w.where
            items.append(w)
    return Waivers(items, [s for s, _ in found], warn_days, max_days)


# --- applying them to a run's results (pure, given the clock reading) -------------------------------------------


@dataclass
class Use:
    waiver: Waiver
    waived: int = 0  # results it turned into waived
    matched: int = 0  # results it covers, whatever their verdict
    hosts: set[str] = field(default_factory=set)  # hosts it waived a result of


def apply(hosts: list[HostResult], waivers: Waivers, now: float | None = None) -> dict[str, Any]:
    """Turn every non-pass result an active waiver covers into ``waived`` (in place), and return the
    ``waivers`` section of results.json: each waiver's state, and the lists a reader must act on.
    The first active waiver in file order that covers a result names it."""
    now = time.time() if now is None else now
    uses = {w.id: Use(w) for w in waivers.items}
    active = {w.id for w in waivers.items if w.active(now)}
    by_check: dict[str, list[Waiver]] = {}  # globs matched once per check, not once per host × check
    for host in hosts:
        on_host = {w.id for w in waivers.items if w.covers_host(host.host.name, host.host.groups)}
        if not on_host:
            continue
        for result in host.results:
            cid = result.check.id
            if cid not in by_check:
                by_check[cid] = [w for w in waivers.items if w.covers_check(cid)]
            covering = [w for w in by_check[cid] if w.id in on_host]
            for w in covering:
                uses[w.id].matched += 1
            chosen = next((w for w in covering if w.id in active), None)
            # A host that could not be audited ran no check: there is no finding to accept, and its
            # errors must stay errors (the run is incomplete), never look excused.
            if chosen is None or result.status not in WAIVABLE or host.status != "reachable":
                continue
            _waive(result, chosen)
            uses[chosen.id].waived += 1
            uses[chosen.id].hosts.add(host.host.name)
    return section(waivers, uses, now)


def _waive(result: CheckResult, waiver: Waiver) -> None:
    result.waived_status = result.status
    result.waiver = waiver.stamp()
    result.status = Verdict.WAIVED


def state_of(waiver: Waiver, now: float, warn_days: int) -> str:
    if not waiver.active(now):
        return "expired"
    return "expiring" if waiver.days_left(now) <= warn_days else "active"


def section(waivers: Waivers, uses: dict[str, Use], now: float) -> dict[str, Any]:
    items = []
    for w in waivers.items:
        use = uses[w.id]
        items.append(
            {
                "id": w.id,
                "type": w.type,
                "checks": list(w.checks),
                "hosts": list(w.hosts),
                "justification": w.justification,
                "requested_by": w.requested_by,
                "approved_by": w.approved_by,
                "approved_on": w.approved_on.isoformat(),
                "expires": w.expires.isoformat(),
                "where": w.where,
                "state": state_of(w, now, waivers.warn_days),
                "days_left": w.days_left(now),
                "waived": use.waived,
                "matched": use.matched,
                "waived_hosts": sorted(use.hosts),
            }
        )
    return {
        "sources": list(waivers.sources),
        "as_of": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "timezone": "Asia/Ho_Chi_Minh",
        "warn_days": waivers.warn_days,
        "max_days": waivers.max_days,
        "items": items,
        "expired": [i["id"] for i in items if i["state"] == "expired"],
        "expiring": [i["id"] for i in items if i["state"] == "expiring"],
        "unused": [i["id"] for i in items if i["state"] != "expired" and i["waived"] == 0],
    }


def validate_file(path: str, params: dict[str, Any], catalog: Catalog, now: float | None = None) -> list[str]:
    """``auditor validate --waivers FILE``: the file checked alone (InputError when bad), and what a
    run today would make of each waiver."""
    now = time.time() if now is None else now
    max_days = _days_param(params, MAX_DAYS_PARAM, DEFAULT_MAX_DAYS)
    warn_days = _days_param(params, WARN_DAYS_PARAM, DEFAULT_WARN_DAYS)
    items = load_file(Path(path), catalog, max_days)
    lines = []
    for w in items:
        state = state_of(w, now, warn_days)
        left = w.days_left(now)
        when = f"expired on {w.expires}" if state == "expired" else f"expires {w.expires} ({left} day(s) left)"
        lines.append(f"{w.id:<16} {state:<9} {w.type:<21} {when}; approved by {w.approved_by}  [{w.where}]")
    lines.append(f"waivers {path}: {len(items)} waiver(s), valid; ok")
    return lines
