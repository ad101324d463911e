"""``auditor validate``: the catalog, a playbook, an inventory and waivers read and checked as a run
reads them, without contacting any host; what was found, a line at a time."""

from __future__ import annotations

from auditor import waivers as waivers_mod
from auditor.catalog import load_catalog
from auditor.catalog.playbook import parse_cli_params
from auditor.run import prepare


def check_inputs(inventory: str | None, playbook: str, params: tuple[str, ...], waivers: str | None) -> list[str]:
    """The lines to print when every input is good; InputError (exit 2) naming the first that is not.

    A waivers file given alone is checked alone: not the playbook's or the inventory's."""
    if waivers is not None:
        return waivers_mod.validate_file(waivers, parse_cli_params(params), load_catalog())
    given = parse_cli_params(params)
    catalog, inv, book, plans = prepare(inventory, playbook, given)
    found = waivers_mod.prepare(catalog, book.doc, {**book.params, **given}, None)
    lines = [
        f"catalog: {len(catalog.checks)} checks, {len(catalog.plan_tasks)} plan tasks",
        f"playbook {book.name}: {len(book.plays)} play(s)",
    ]
    if found is not None:
        lines.append(f"waivers: {len(found.items)} from {', '.join(found.sources)}")
    pairs = sum(len(p.checks) for p in plans)
    return [*lines, f"inventory {inv.source}: {len(inv.hosts)} host(s), {pairs} host × check pairs", "ok"]
