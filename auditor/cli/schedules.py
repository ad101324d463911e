"""Drift notices and recurring audits: notify; schedule install | list | remove."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import notice_options, notify_options
from auditor.drift_notices import notify_from_diff


@click.command("notify")
@click.option(
    "--diff",
    "diff_file",
    type=click.Path(dir_okay=False, readable=False, allow_dash=True),
    required=True,
    help="A diff JSON (auditor diff --format json), '-' for stdin.",
)
@notify_options
def notify_command(diff_file: str, **other_options: Any) -> None:
    """Send the drift notices a diff calls for (the same as a run with --notify-* does after it)."""
    sent = notify_from_diff(diff_file, notice_options(other_options))
    for line in sent.messages:
        click.echo(line, err=True)
    sys.exit(sent.exit_code)


@click.group()
def schedule() -> None:
    """Recurring audits: a systemd timer where systemd runs, else /etc/cron.d/auditor-NAME."""


@schedule.command("install")
@click.option("--name", required=True, help="Schedule name: also its run lock and its units' or file's name.")
@click.option("--every", required=True, metavar="daily|weekly|'CRON'", help="daily, weekly or five cron fields.")
@click.option("--inventory", "-i", required=True, help="Inventory (absolute path).")
@click.option("--playbook", "-p", help="Playbook name or absolute path (default: baseline).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--db", help="History store URL, without a password.")
@click.option("--known-hosts", help="known_hosts file for the runs (absolute path).")
@click.option("--no-network", is_flag=True, help="Runs skip the network probes.")
@click.option(
    "--output-root", help="Each run writes a fresh <run id> folder here (default /var/lib/auditor/runs/NAME)."
)
@click.option("--kind", type=click.Choice(["systemd", "cron"]), help="Default: systemd when it is PID 1, else cron.")
@click.option("--root", "root", default="/", show_default=True, help="Write under this root (an image being built).")
@click.option("--dry-run", is_flag=True, help="Print what would be written, write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@notify_options
def schedule_install(
    name: str,
    every: str,
    inventory: str,
    playbook: str | None,
    params: tuple[str, ...],
    db: str | None,
    known_hosts: str | None,
    no_network: bool,
    output_root: str | None,
    kind: str | None,
    root: str,
    dry_run: bool,
    fmt: str,
    **other_options: Any,
) -> None:
    """Install a schedule that runs `auditor run` with these options and the lock of its name."""
    from auditor import schedule as schedules

    request = schedules.Request(
        name, every, inventory, playbook, params, db, output_root, known_hosts, no_network,
        notice_options(other_options).settings(),
    )  # fmt: skip
    the_plan, written = schedules.install_request(request, kind, Path(root), dry_run)
    if written is None:
        if fmt == "json":
            click.echo(json.dumps(the_plan.as_json(), ensure_ascii=False, indent=1))
        else:
            for path, text in the_plan.files.items():
                click.echo(f"--- {path}\n{text}")
    elif fmt == "json":
        click.echo(json.dumps({**the_plan.as_json(), "written": written}, ensure_ascii=False, indent=1))
    else:
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(f"runs: {the_plan.command}")


@schedule.command("list")
@click.option("--root", "root", default="/", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def schedule_list(root: str, fmt: str) -> None:
    """The schedules the auditor installed, with the command each runs."""
    from auditor import schedule as schedules

    found = schedules.listing(Path(root))
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=1))
        return
    for entry in found:
        click.echo(f"{entry['name']}\t{entry['kind']}\t{entry['every']}\t{entry['command']}")


@schedule.command("remove")
@click.argument("name")
@click.option("--root", "root", default="/", show_default=True)
def schedule_remove(name: str, root: str) -> None:
    """Stop and delete the schedule NAME (only files the auditor wrote)."""
    from auditor import schedule as schedules

    for path in schedules.remove(name, Path(root)):
        click.echo(f"removed {path}")


# --- evidence packs: pack | verify ------------------------------------------------------------------------
