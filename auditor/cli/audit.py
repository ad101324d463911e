"""Auditing: run (its progress bar and summary), validate, facts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import (
    common_options,
    db_option,
    distributed_options,
    distributed_run,
    notice_options,
    notify_options,
    terminal_safe,
)
from auditor.host_facts import host_facts
from auditor.input_check import check_inputs
from auditor.model import HostResult
from auditor.start import RunRequest, Watch, start


@click.command()
@common_options
# Not click.Path(file_okay=False): a folder that cannot be used is the environment's error (exit 3), said once.
@click.option("--output", "-o", type=click.Path(), help="Output folder (default reports/<time>/).")
@click.option(
    "--force",
    is_flag=True,
    help="Reuse an output folder that holds a previous run: its results.json, report.html, hosts.jsonl go first.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=10, show_default=True, help="Hosts audited at once.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Report language.")
@click.option(
    "--allow-wide-scan",
    is_flag=True,
    help="Let the network probes scan inventory networks wider than /16 (refused otherwise).",
)
@click.option("--no-network", is_flag=True, help="Skip the network probes (NET-* checks): host checks only.")
@click.option(
    "--output-root",
    type=click.Path(),
    help="Write into a fresh <run id> folder (it starts with the UTC time) under this folder.",
)
@click.option("--lock", "lock", metavar="NAME", help="Hold the run lock NAME: a second run of NAME exits 4.")
@click.option(
    "--waivers",
    type=click.Path(dir_okay=False, readable=False),
    help="Waivers file: approved, expiring exceptions (also the playbook's waivers: and EVIDENCE_DIR/waivers.yaml).",
)
@notify_options
@db_option
@click.option("--no-history", is_flag=True, help="Do not record this run in the history store.")
@distributed_options
def run(
    inventory: str | None,
    playbook: str,
    known_hosts: str | None,
    trust_on_first_use: bool,
    params: tuple[str, ...],
    connect_timeout: float,
    fact_timeout: int,
    output: str | None,
    force: bool,
    jobs: int,
    lang: str,
    allow_wide_scan: bool,
    no_network: bool,
    output_root: str | None,
    lock: str | None,
    waivers: str | None,
    db: str | None,
    no_history: bool,
    **other_options: Any,
) -> None:
    """Audit hosts with a playbook; write results.json and report.html; record the run in the history."""
    request = RunRequest(
        inventory, playbook, params, known_hosts, trust_on_first_use, connect_timeout, fact_timeout, output, force,
        jobs, lang, allow_wide_scan, no_network, output_root, lock, waivers, db, no_history,
        notice_options(other_options), distributed_run(other_options),
    )  # fmt: skip
    with _watch(bar=not request.distributed.distributed) as watch:
        started = start(request, watch)
    print_summary(started.result.document, started.result.out_dir, started.result.learned)
    for line in started.messages:
        click.echo(line, err=True)
    _exit(started.exit_code, started.result.stopped)


def _exit(code: int, stopped: bool) -> None:
    if stopped:  # threads of aborted hosts may still be unwinding: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _said_stopping(first: bool) -> None:
    # Called from the signal handler: one write to the descriptor, nothing buffered.
    os.write(
        2,
        b"stopping: hosts in flight are aborted, finished ones written (again to stop waiting)\n"
        if first
        else b"stopping now\n",
    )


def _segments(line: str) -> None:
    click.echo(terminal_safe(line), err=True)


@contextmanager
def _watch(bar: bool = True) -> Iterator[Watch]:
    """What the terminal shows while a run goes: a progress bar (a local run on a terminal), stop notices."""
    if not bar or not sys.stderr.isatty():
        yield Watch(on_segments=_segments, on_stop=_said_stopping)
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]auditing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)

        def tick(result: HostResult) -> None:
            progress.update(task, advance=1, description=escape(terminal_safe(result.host.name)))

        yield Watch(
            on_start=lambda total: progress.update(task, total=total),
            on_host=tick,
            on_segments=_segments,
            on_stop=_said_stopping,
        )


def print_summary(document: dict[str, Any], out_dir: Path, learned: list[str]) -> None:
    if not sys.stdout.isatty():
        print_plain_summary(document, out_dir, learned)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    tasks = sorted({t for h in document["hosts"] for t in h["plan_tasks"]})
    table = Table(title=f"auditor · {document['run']['playbook']}", show_lines=False)
    for column in ["host", "status", "score", *tasks]:
        table.add_column(column)
    colors = {"pass": "green", "fail": "red", "error": "yellow", "unknown": "yellow"}
    for h in document["hosts"]:
        cells = [escape(terminal_safe(h["name"])), h["status"], "–" if h["score"] is None else f"{h['score']:.1f}"]
        for t in tasks:
            v = h["plan_tasks"].get(t, "")
            cells.append(f"[{colors.get(v, 'dim')}]{v}[/]" if v else "")
        table.add_row(*cells)
    console.print(table)
    for h in document["hosts"]:
        if h["error"]:
            console.print(
                f"[yellow]{escape(terminal_safe(h['name']))}[/]: {escape(terminal_safe(h['error']))}", highlight=False
            )
    for line in _summary_footer(document, out_dir, learned):
        console.print(line, markup=False, highlight=False)


def print_plain_summary(document: dict[str, Any], out_dir: Path, learned: list[str], most: int = 50) -> None:
    """For logs and schedulers: one line per host (the worst first, at most ``most``), no colour."""
    outline = ({k: v for k, v in h.items() if k != "results"} for h in document["hosts"])  # not every evidence
    hosts = sorted(outline, key=lambda h: (h["score"] is not None, h["score"] or 0))
    for h in hosts[:most]:
        tasks = " ".join(f"{t}={v}" for t, v in sorted(h["plan_tasks"].items()))
        score = "-" if h["score"] is None else f"{h['score']:.1f}"
        error = f"\t{terminal_safe(h['error'])}" if h["error"] else ""
        click.echo(f"{terminal_safe(h['name'])}\t{h['status']}\t{score}\t{tasks}{error}")
    if len(hosts) > most:
        click.echo(f"... {len(hosts) - most} more hosts in results.json")
    for line in _summary_footer(document, out_dir, learned):
        click.echo(line)


def _summary_footer(document: dict[str, Any], out_dir: Path, learned: list[str]) -> list[str]:
    score = document["score"]
    lines = [
        f"score {score['value'] if score['value'] is not None else '-'} · coverage "
        f"{score['coverage'] if score['coverage'] is not None else '-'}"
        + ("" if document["run"]["complete"] else " · INCOMPLETE run")
    ]
    lines += [f"trusted on first use: host key of {terminal_safe(name)} recorded" for name in learned]
    return [*lines, f"results: {out_dir / 'results.json'}", f"report:  {out_dir / 'report.html'}"]


@click.command()
@click.option(
    "--inventory", "-i", type=click.Path(dir_okay=False, readable=False), help="Inventory to validate as well."
)
@click.option("--playbook", "-p", default="baseline", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
@click.option(
    "--waivers",
    type=click.Path(dir_okay=False, readable=False),
    help="Check this waivers file alone (not the playbook or inventory).",
)
def validate(inventory: str | None, playbook: str, params: tuple[str, ...], waivers: str | None) -> None:
    """Check the catalog, a playbook and an inventory without contacting any host."""
    for line in check_inputs(inventory, playbook, params, waivers):
        click.echo(line)


@click.command()
@click.argument("host")
@common_options
def facts(
    host: str,
    inventory: str | None,
    playbook: str,
    known_hosts: str | None,
    trust_on_first_use: bool,
    params: tuple[str, ...],
    connect_timeout: float,
    fact_timeout: int,
) -> None:
    """Show the facts collected from HOST for the playbook's checks (to debug a verdict)."""
    found = host_facts(
        host, inventory, playbook, params, known_hosts, trust_on_first_use, connect_timeout, fact_timeout
    )
    click.echo(json.dumps(found.document, indent=1, ensure_ascii=False, default=str))
    sys.exit(found.exit_code)
