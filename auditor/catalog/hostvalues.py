"""Parameter values that reach commands on hosts, checked for every host before any host is contacted.

A check's fact parameters may name playbook, inventory or ``--param`` values (``{{ backup_paths }}``);
rendered for a host, they must satisfy the fact type's schema with no template left (``strict_schema``):
absolute paths, names that cannot be read as options. Parameters the network probes give to a command
on a host (``log_marker_paths``, searched with ``find`` on the log server) are absolute paths too.
A refused value is bad input (exit 2), named with where it was set.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from auditor.errors import InputError
from auditor.evaluate import not_applicable_reason, params_used, render
from auditor.facts import REGISTRY
from auditor.facts.base import UnsafeValue, check_path, strict_schema
from auditor.model import FactSpec, HostPlan

# Parameters that become path operands of a command on a host outside any fact (the network probes).
PATH_PARAMS = ("log_marker_paths",)


def path_list(value: Any) -> list[str]:
    """A path-list parameter as its paths: a YAML list, or one string with commas between paths."""
    return [str(v) for v in value] if isinstance(value, list) else str(value).split(",")


def vet_plans(plans: list[HostPlan]) -> None:
    """Raise InputError for the first value of any host that would reach a command unsafely."""
    validators: dict[str, jsonschema.Draft202012Validator] = {}
    seen: set[str] = set()  # (check, fact, values of its parameters) already judged: hosts mostly share values
    by_check: dict[str, list[tuple[str, FactSpec, set[str]]]] = {}  # check id -> its facts with templates
    for plan in plans:
        for name in PATH_PARAMS:
            value = plan.params.get(name)
            if value in (None, "", []):
                continue
            for path in path_list(value):
                try:
                    check_path(path)
                except UnsafeValue as exc:
                    raise _refusal(plan, name, str(exc)) from None
        for check in plan.checks:
            templated = by_check.get(check.id)
            if templated is None:
                templated = by_check[check.id] = [
                    (name, spec, used)
                    for name, spec in check.facts.items()
                    if spec.type in REGISTRY and (used := params_used(spec.params))
                ]
            # No template: the catalog's schema judged it. Not applicable: nothing of it is rendered.
            if not templated or not_applicable_reason(check, plan.params):
                continue
            for fact_name, spec, used in templated:
                key = repr([check.id, fact_name, *(plan.params.get(p) for p in sorted(used))])
                if key in seen:
                    continue
                rendered = render(spec.params, plan.params)
                validator = validators.get(spec.type)
                if validator is None:
                    schema = strict_schema(REGISTRY[spec.type].params_schema)
                    validator = validators[spec.type] = jsonschema.Draft202012Validator(schema)
                error = jsonschema.exceptions.best_match(validator.iter_errors(rendered))
                if error is not None:
                    where = ".".join(str(p) for p in error.absolute_path)
                    why = (
                        f"{error.instance!r} is refused: a path must be absolute (start with /), a name must "
                        f"start with a letter, digit or _, and neither may hold a control character "
                        f"(check {check.id}, fact {fact_name}.{where})"
                    )
                    param = sorted(used)[0] if len(used) == 1 else ", ".join(sorted(used))
                    raise _refusal(plan, param, why)
                seen.add(key)


def _refusal(plan: HostPlan, name: str, why: str) -> InputError:
    """The error, naming the parameter, the host and where its value was set."""
    if plan.origin is not None:
        return plan.origin.error(plan.host, name, why)
    return InputError(f"{why} (host {plan.host.name})", field=name)
