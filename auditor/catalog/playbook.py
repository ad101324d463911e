"""Playbooks: which checks run on which hosts, with which parameters.

    name: baseline
    params: {av_max_signature_age_days: 7, log_server: null}
    plays:
      - hosts: [all]                 # groups, host names or "all"
        checks: ["LNX-*"]            # check ids or glob patterns
        plan: [PT-AV, PT-LOG]        # optional: only checks serving these plan tasks
        params: {...}                # optional: override for these hosts

Parameters, weakest first: playbook ``params`` < play ``params`` < ``levels[<host's level>]``
(security level under Decree 85/2016) < inventory variables (group, then host) < ``--param``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor import clock
from auditor.catalog import Catalog
from auditor.catalog.hostvalues import vet_plans
from auditor.catalog.params import problems, types_of
from auditor.errors import InputError, InventoryError, PlaybookError
from auditor.evaluate import params_used
from auditor.inventory import Inventory
from auditor.model import FactSpec, Host, HostPlan
from auditor.network.probes import REGISTRY as PROBES
from auditor.network.probes import required_params
from auditor.paths import playbooks_dir
from auditor.yamlsource import YamlDoc, load_yaml

_PLAY_KEYS = {"hosts", "checks", "plan", "params"}
_TOP_KEYS = {"name", "title", "description", "params", "levels", "plays", "waivers"}  # waivers: auditor.waivers


@dataclass
class Play:
    hosts: list[str]
    checks: list[str]
    plan: list[str] | None
    params: dict[str, Any]


@dataclass
class Playbook:
    name: str
    params: dict[str, Any]
    plays: list[Play]
    source: str
    title: dict[str, str] = field(default_factory=dict)
    # Parameters by security level (Decree 85/2016, 1-5), applied to hosts of that level after the play's
    # parameters and before the inventory's variables.
    levels: dict[int, dict[str, Any]] = field(default_factory=dict)
    doc: YamlDoc | None = None  # to name the line of a play or parameter found wrong when the run is planned

    def error(self, path: tuple[Any, ...], message: str) -> InputError:
        if self.doc is None:
            return PlaybookError(message, file=self.source)
        return self.doc.error(PlaybookError, path, message)


def resolve_playbook_path(name_or_file: str) -> Path:
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return playbooks_dir() / f"{name_or_file}.yaml"


def load_playbook(name_or_file: str, catalog: Catalog) -> Playbook:
    path = resolve_playbook_path(name_or_file)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in playbooks_dir().glob("*.yaml")))
        raise PlaybookError(f"no playbook {name_or_file!r} (built in: {known})", file=str(path))
    doc = load_yaml(path, PlaybookError)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(PlaybookError, (), "a playbook is a mapping with 'plays:'")
    for key in data:
        if key not in _TOP_KEYS:
            raise doc.error(PlaybookError, (key,), f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    if not isinstance(data.get("plays"), list) or not data["plays"]:
        raise doc.error(PlaybookError, ("plays",), "'plays' must be a non-empty list")
    params = data.get("params") or {}
    levels = _levels(doc, data.get("levels"))
    if not isinstance(params, dict):
        raise doc.error(PlaybookError, ("params",), "expected a mapping")
    plays = []
    for i, raw in enumerate(data["plays"]):
        if not isinstance(raw, dict):
            raise doc.error(PlaybookError, ("plays", i), "a play is a mapping")
        for key in raw:
            if key not in _PLAY_KEYS:
                raise doc.error(
                    PlaybookError,
                    ("plays", i, key),
                    f"unknown key {key!r} (allowed: {', '.join(sorted(_PLAY_KEYS))})",
                )
        hosts = raw.get("hosts", ["all"])
        hosts = [hosts] if isinstance(hosts, str) else hosts
        patterns = raw.get("checks", ["*"])
        patterns = [patterns] if isinstance(patterns, str) else patterns
        for j, pattern in enumerate(patterns):
            if not fnmatch.filter(catalog.checks, pattern):
                raise doc.error(PlaybookError, ("plays", i, "checks", j), f"{pattern!r} matches no check")
        plan = raw.get("plan")
        for j, task in enumerate(plan or []):
            if task not in catalog.plan_tasks:
                raise doc.error(PlaybookError, ("plays", i, "plan", j), f"unknown plan task {task!r}")
        plays.append(Play(hosts=list(hosts), checks=list(patterns), plan=plan, params=dict(raw.get("params") or {})))
    return Playbook(
        name=str(data.get("name", path.stem)),
        params=dict(params),
        plays=plays,
        source=str(path),
        title=data.get("title") or {},
        levels=levels,
        doc=doc,
    )


def _levels(doc: Any, raw: Any) -> dict[int, dict[str, Any]]:
    """``levels: {3: {param: value}, ...}``: keys are security levels 1-5, values parameter mappings."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error(PlaybookError, ("levels",), "expected a mapping of security level (1-5) to parameters")
    out: dict[int, dict[str, Any]] = {}
    for key, value in raw.items():
        if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 5:
            raise doc.error(PlaybookError, ("levels", key), f"{key!r} is not a security level (1-5)")
        if not isinstance(value, dict):
            raise doc.error(PlaybookError, ("levels", key), "expected a mapping of parameters")
        out[key] = dict(value)
    return out


def parse_cli_params(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE``: VALUE read as YAML (7, true, [a, b]); what YAML refuses or turns into
    anything but text, numbers, yes/no, lists and mappings (a date, say) stays the text given."""
    params: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        if not _PARAM_NAME.fullmatch(key):
            raise InputError(f"--param {key!r}: not a parameter name (letters, digits, _)")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
            parsed = value
        params[key] = parsed if _plain(parsed) else value
    return params


_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def plan_run(playbook: Playbook, catalog: Catalog, inventory: Inventory, cli_params: dict[str, Any]) -> list[HostPlan]:
    """Which checks run on which host, with the parameters each host gets.

    Raises on what would make the audit say less than it seems to: a play naming a group or host the
    inventory does not have, no host or no check at all, a missing parameter, a value of the wrong type.
    """
    plans: dict[str, HostPlan] = {}
    plays_of: dict[str, list[int]] = {}  # host -> the plays that chose it, to name where a parameter came from
    for index, play in enumerate(playbook.plays):
        for j, pattern in enumerate(play.hosts):
            if not inventory.names(str(pattern)):
                groups = ", ".join(g for g in inventory.groups if g not in ("all", "ungrouped")) or "none"
                raise playbook.error(
                    ("plays", index, "hosts", j),
                    f"{pattern!r} is no group or host of the inventory {inventory.source} (its groups: {groups}); "
                    "a group with no host is written as an empty [section]",
                )
        selected = [
            c
            for cid, c in catalog.checks.items()
            if any(fnmatch.fnmatchcase(cid, p) for p in play.checks)
            and (play.plan is None or set(c.plan) & set(play.plan))
        ]
        for host in inventory.select(play.hosts):
            by_level = playbook.levels.get(host.level, {}) if host.level is not None else {}
            params = {**playbook.params, **play.params, **by_level, **host.vars, **cli_params}
            plan = plans.setdefault(host.name, HostPlan(host, [], params))
            plan.params = {**plan.params, **play.params, **by_level, **host.vars, **cli_params}
            plays_of.setdefault(host.name, []).append(index)
            # Network checks (applies.probe) have no os: they run on the auditor against any host.
            have = {c.id for c in plan.checks}  # ids, not dataclass equality: O(checks) a host
            plan.checks += [c for c in selected if c.applies.get("os", host.os) == host.os and c.id not in have]
    if not plans:
        raise playbook.error(
            ("plays",),
            f"no host to audit: the plays select none of the {len(inventory.hosts)} host(s) of {inventory.source}",
        )
    if not any(plan.checks for plan in plans.values()):
        raise playbook.error(("plays",), "no check of the plays applies to any selected host (os, plan tasks?)")
    origin = ParamOrigin(playbook, inventory, cli_params, plays_of)
    for plan in plans.values():
        plan.origin = origin
    types = types_of(catalog.checks.values())
    needed_by: dict[str, set[str]] = {}  # check id -> parameters it needs, worked out once a run
    for plan in plans.values():
        try:
            clock.tolerance(plan.params)  # every host's ages are judged with it, whichever checks run
        except ValueError as exc:
            why = str(exc).removeprefix(f"{clock.TOLERANCE_PARAM}: ")
            raise origin.error(plan.host, clock.TOLERANCE_PARAM, why) from None
        for name, problem in problems(plan.params, types):
            raise origin.error(plan.host, name, problem)
        for check in plan.checks:
            needed = needed_by.get(check.id)
            if needed is None:
                needed = params_used(check.expect) | params_used({k: _needs(s) for k, s in check.facts.items()})
                needed -= set(check.applies.get("params_set", []))  # without them the check is not applicable
                needed_by[check.id] = needed
            missing = sorted(p for p in needed if plan.params.get(p) is None)
            if missing:
                raise PlaybookError(
                    f"check {check.id} needs parameter(s) {', '.join(missing)} for host "
                    f"{plan.host.name}: set them in the playbook, the inventory or with --param",
                    file=playbook.source,
                )
    vet_plans(list(plans.values()))  # before any host is contacted
    return list(plans.values())


def _needs(spec: FactSpec) -> dict[str, Any]:
    """The fact parameters a check cannot run without: all of a host fact's; a network probe's required
    ones (an optional one left unset keeps the probe's default)."""
    return required_params(spec.type, spec.params) if spec.type in PROBES else spec.params


@dataclass(frozen=True)
class ParamOrigin:
    """Where the parameters of a run's hosts were set, to name the source of a bad value."""

    playbook: Playbook
    inventory: Inventory
    cli_params: dict[str, Any]
    plays_of: dict[str, list[int]]  # host -> the plays that chose it

    def error(self, host: Host, name: str, problem: str) -> InputError:
        """The error naming the source that won: --param, inventory (file:line), level, play, playbook."""
        playbook, inventory, message = self.playbook, self.inventory, f"{problem} (host {host.name})"
        if name in self.cli_params:
            return InputError(message, field=f"--param {name}")
        if name in host.vars:
            return InventoryError(message, file=inventory.source, line=inventory.origin(host, name), field=name)
        if host.level is not None and name in playbook.levels.get(host.level, {}):
            return playbook.error(("levels", host.level, name), message)
        index = next((i for i in reversed(self.plays_of.get(host.name, [])) if name in playbook.plays[i].params), None)
        if index is not None:
            return playbook.error(("plays", index, "params", name), message)
        return playbook.error(("params", name), message)
