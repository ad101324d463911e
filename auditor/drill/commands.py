"""``auditor drill plan|run``: parse the options, call one function, print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.catalog.playbook import parse_cli_params
from auditor.drill import runner

_options = [
    click.option("--inventory", "-i", type=click.Path(dir_okay=False, readable=False), help="Inventory (required)."),
    click.option(
        "--scenario",
        "scenarios",
        multiple=True,
        metavar="NAME",
        help="Scenario name (playbooks/drills/NAME.yaml) or file; repeatable. Default: all built in.",
    ),
    click.option(
        "--limit", "limit", multiple=True, metavar="HOST|GROUP", help="Only these inventory hosts; repeatable."
    ),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="e.g. drill_source=ADDRESS."),
    click.option(
        "--known-hosts", type=click.Path(dir_okay=False), help="known_hosts file (default ~/.ssh/known_hosts)."
    ),
    click.option("--connect-timeout", type=float, default=10.0, show_default=True),
]


def _with_options(func: Any) -> Any:
    for option in reversed(_options):
        func = option(func)
    return func


@click.group()
def drill() -> None:
    """The annual incident-response drill: act on hosts, observe the defences' reaction, write the minutes."""


@drill.command("plan")
@_with_options
def plan_command(
    inventory: str | None, scenarios: tuple[str, ...], limit: tuple[str, ...], params: tuple[str, ...],
    known_hosts: str | None, connect_timeout: float,
) -> None:  # fmt: skip
    """Show what each act would do to which host. Changes nothing, contacts no host."""
    options = runner.DrillOptions(inventory, list(scenarios), params=parse_cli_params(params), limit=list(limit))
    for line in runner.plan(options):
        click.echo(line)


@drill.command("run")
@_with_options
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Output folder (default reports/<drill id>/).")
@click.option("--officer", "officers", multiple=True, metavar="NAME", help="An officer taking part; repeatable.")
@click.option("--lessons", default="", help="Lessons learned, for the minutes (else a blank field to fill in).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Minutes language.")
@click.option("--confirm", is_flag=True, help="Required: the drill changes the hosts while it runs.")
def run_command(
    inventory: str | None, scenarios: tuple[str, ...], limit: tuple[str, ...], params: tuple[str, ...],
    known_hosts: str | None,
    connect_timeout: float, output: str | None, officers: tuple[str, ...], lessons: str, lang: str, confirm: bool,
) -> None:  # fmt: skip
    """Run the scenarios; write drill.json and drill.html. Needs --confirm."""
    options = runner.DrillOptions(
        inventory,
        list(scenarios),
        output=Path(output) if output else None,
        officers=list(officers),
        params=parse_cli_params(params),
        known_hosts=known_hosts,
        connect_timeout=connect_timeout,
        lessons=lessons,
        lang=lang,
        limit=list(limit),
    )
    document, out_dir, code = runner.run(options, confirm)
    for scenario in document["scenarios"]:
        for act in scenario["acts"]:
            cleanup = "" if act["cleanup"]["ok"] else "  CLEANUP NOT DONE: " + act["cleanup"]["detail"]
            click.echo(f"{scenario['name']:16} {act['host']:20} {act['status']:5}  {act['reason']}{cleanup}")
    click.echo(f"drill {document['id']}: {document['outcome']}; minutes in {out_dir / 'drill.html'}")
    sys.exit(code)
