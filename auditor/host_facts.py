"""``auditor facts HOST``: the facts one host gives for the playbook's checks, to debug a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.catalog.playbook import parse_cli_params
from auditor.engine import Collection, RunOptions, collect
from auditor.errors import InputError
from auditor.network.plans import split as split_network
from auditor.run import EXIT_INCOMPLETE, EXIT_OK, connect_options, prepare


@dataclass
class HostFacts:
    document: dict[str, Any]  # host, status, error, not_applicable, facts by check and name
    exit_code: int  # 3 when the host could not be read


def facts_document(host: str, collection: Collection) -> dict[str, Any]:
    return {
        "host": host,
        "status": collection.status,
        "error": collection.error,
        "not_applicable": collection.not_applicable,
        "facts": {
            cid: {
                name: {
                    "type": f.spec.type,
                    "params": f.spec.params,
                    "value": f.value,
                    "error": f.error,
                    "evidence": f.evidence.to_dict(),
                }
                for name, f in fs.items()
            }
            for cid, fs in collection.facts.items()
        },
    }


def host_facts(
    host: str,
    inventory: str | None,
    playbook: str,
    params: tuple[str, ...],
    known_hosts: str | None,
    trust_on_first_use: bool,
    connect_timeout: float,
    fact_timeout: int,
) -> HostFacts:
    """Collected from HOST; InputError (exit 2) when the inventory has no such host."""
    _, _, _, plans = prepare(inventory, playbook, parse_cli_params(params))
    plans, _ = split_network(plans)  # NET-* facts are read from this machine, not collected on the host
    plan = next((p for p in plans if p.host.name == host), None)
    if plan is None:
        raise InputError(f"no host {host!r} in the inventory (known: {', '.join(p.host.name for p in plans)})")
    options = RunOptions(
        connect=connect_options(known_hosts, trust_on_first_use, connect_timeout), fact_timeout=fact_timeout
    )
    collection = collect(plan, options)
    return HostFacts(facts_document(host, collection), EXIT_OK if collection.error is None else EXIT_INCOMPLETE)
