"""Auditing: run (with its progress, signals and summary), validate, facts."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from auditor import waivers as waivers_mod
from auditor.catalog import load_catalog
from auditor.catalog.playbook import parse_cli_params
from auditor.cli.common import (
    common_options,
    db_option,
    distributed_options,
    distributed_settings,
    notice_settings,
    notify_options,
    send_notices,
    terminal_safe,
    worker_dispatcher,
)
from auditor.engine import RunOptions, collect
from auditor.errors import InputError
from auditor.history.url import chosen_url
from auditor.model import HostResult
from auditor.network.plans import split as split_network
from auditor.run import (
    EXIT_BAD_INPUT,
    EXIT_INCOMPLETE,
    EXIT_OK,
    AuditOptions,
    Cancel,
    Hooks,
    audit,
    connect_options,
    prepare,
)


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
    **notice_options: Any,
) -> None:
    """Audit hosts with a playbook; write results.json and report.html; record the run in the history."""
    from auditor import runlock

    distributed = distributed_settings(notice_options)

    if output is not None and not output.strip():
        raise InputError("--output: an empty folder name (leave the option out for reports/<time>/)")
    if output is not None and output_root is not None:
        raise InputError("--output and --output-root: give one", field="--output-root")
    if lock is not None:
        runlock.check_name(lock)
    notices = notice_settings(notice_options)
    options = AuditOptions(
        known_hosts,
        trust_on_first_use,
        connect_timeout,
        fact_timeout,
        jobs,
        None if output is None else Path(output),
        force,
        lang,
        allow_wide_scan,
        no_network,
        lock,
        None if output_root is None else Path(output_root),
        waivers,
        # A distributed run's store may come from its credentials file (a password never on the command line).
        None if no_history else chosen_url(db or (distributed or {}).pop("db", None)),
    )
    if distributed is not None:
        distributed.pop("db", None)
    cli_params = parse_cli_params(params)
    with _stop_on_signals() as cancel, _progress(cancel, distributed is None) as hooks:
        if distributed is not None:
            hooks.run_hosts = worker_dispatcher(
                distributed, inventory, playbook, cli_params, connect_timeout, fact_timeout
            )
        outcome = audit(inventory, playbook, cli_params, options, hooks)
    print_summary(outcome.document, outcome.out_dir, outcome.learned)
    if outcome.problem:
        click.echo(f"error: {outcome.problem}", err=True)
    if outcome.history_problem:
        click.echo(f"error: {outcome.history_problem} (its files are in {outcome.out_dir})", err=True)
    code = outcome.exit_code
    if notices is not None:
        code = send_notices(notices, outcome.since_previous, code)
    if outcome.stopped:  # threads of aborted hosts may still be unwinding: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@contextmanager
def _stop_on_signals() -> Iterator[Cancel]:
    """Ctrl-C or SIGTERM once: stop the run and write what finished. Twice: stop waiting for the probes."""
    cancel = Cancel()

    def on_signal(signum: int, _frame: Any) -> None:
        first = not cancel.stop.is_set()
        cancel.request(signal.Signals(signum).name)
        os.write(
            2,
            b"stopping: hosts in flight are aborted, finished ones written (again to stop waiting)\n"
            if first
            else b"stopping now\n",
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _progress(cancel: Cancel, bar: bool = True) -> Iterator[Hooks]:
    if not bar or not sys.stderr.isatty():
        yield Hooks(cancel)
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

        yield Hooks(cancel, on_start=lambda total: progress.update(task, total=total), on_host=tick)


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
    if waivers is not None:
        for line in waivers_mod.validate_file(waivers, parse_cli_params(params), load_catalog()):
            click.echo(line)
        return
    given = parse_cli_params(params)
    catalog, inv, book, plans = prepare(inventory, playbook, given)
    found = waivers_mod.prepare(catalog, book.doc, {**book.params, **given}, None)
    click.echo(f"catalog: {len(catalog.checks)} checks, {len(catalog.plan_tasks)} plan tasks")
    click.echo(f"playbook {book.name}: {len(book.plays)} play(s)")
    if found is not None:
        click.echo(f"waivers: {len(found.items)} from {', '.join(found.sources)}")
    click.echo(
        f"inventory {inv.source}: {len(inv.hosts)} host(s), {sum(len(p.checks) for p in plans)} host × check pairs"
    )
    click.echo("ok")


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
    _, _, _, plans = prepare(inventory, playbook, parse_cli_params(params))
    plans, _ = split_network(plans)  # NET-* facts are read from this machine, not collected on the host
    plan = next((p for p in plans if p.host.name == host), None)
    if plan is None:
        click.echo(
            f"error: no host {host!r} in the inventory (known: {', '.join(p.host.name for p in plans)})",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    options = RunOptions(
        connect=connect_options(known_hosts, trust_on_first_use, connect_timeout), fact_timeout=fact_timeout
    )
    collection = collect(plan, options)
    out = {
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
    click.echo(json.dumps(out, indent=1, ensure_ascii=False, default=str))
    sys.exit(EXIT_OK if collection.error is None else EXIT_INCOMPLETE)
