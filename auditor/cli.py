"""Command line: click commands only; the work is done in the modules they call.

Exit codes: 0 no failures, 1 failures found, 2 bad input (inventory, playbook, catalog,
parameters), 3 run incomplete (interrupted, a host unreachable or in error, a check that could
not be read: ``error``) or the environment failed (an output that cannot be written), 4 another
run holds the output folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from auditor import organisation
from auditor import results as results_mod
from auditor.catalog import Catalog, load_catalog
from auditor.catalog.playbook import parse_cli_params
from auditor.catalog.yamlsource import read_source
from auditor.drill.commands import drill
from auditor.engine import RunOptions, collect
from auditor.errors import InputError
from auditor.model import HostResult
from auditor.network.plans import split as split_network
from auditor.output import FolderBusy, OutputError, write_file
from auditor.report import RENDERERS
from auditor.run import (
    EXIT_BAD_INPUT,
    EXIT_BUSY,
    EXIT_FAILURES,
    EXIT_INCOMPLETE,
    EXIT_OK,
    AuditOptions,
    Cancel,
    Hooks,
    Interrupted,
    audit,
    connect_options,
    prepare,
)


def main() -> None:
    """Every error a user can meet ends here as one line and its exit code, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:  # usage: a bad option is bad input
        exc.show()
        code = EXIT_BAD_INPUT
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        code = exc.exit_code
    except FolderBusy as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_BUSY
    except (OutputError, Interrupted) as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_INCOMPLETE
    except (click.Abort, KeyboardInterrupt):
        click.echo("error: interrupted", err=True)
        code = EXIT_INCOMPLETE
    except OSError as exc:  # the environment: a file that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        code = EXIT_INCOMPLETE
    sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auditor")
def cli() -> None:
    """Information-security compliance auditor (ISO/IEC 27001, TCVN ISO/IEC 27001, Vietnamese plan tasks)."""


cli.add_command(drill)


# Input files are opened by the loaders (readable=False here): unreadable is an environment error, exit 3.
_common = [
    click.option(
        "--inventory",
        "-i",
        type=click.Path(dir_okay=False, readable=False),
        help="Ansible INI or auditor YAML inventory. Default: this machine.",
    ),
    click.option("--playbook", "-p", default="baseline", show_default=True, help="Playbook name or file."),
    click.option(
        "--known-hosts",
        type=click.Path(dir_okay=False),
        help="known_hosts file for SSH host keys (default ~/.ssh/known_hosts).",
    ),
    click.option(
        "--trust-on-first-use",
        is_flag=True,
        help="Accept and record the key of a host not yet in known_hosts. A changed key is always refused.",
    ),
    click.option(
        "--param",
        "params",
        multiple=True,
        metavar="KEY=VALUE",
        help="Check parameter (repeatable); overrides playbook and inventory.",
    ),
    click.option(
        "--connect-timeout",
        type=float,
        default=10.0,
        show_default=True,
        help="Seconds to connect and log in.",
    ),
    click.option(
        "--fact-timeout", type=int, default=30, show_default=True, help="Seconds one fact may take on a host."
    ),
]


def common_options(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


@cli.command()
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
) -> None:
    """Audit hosts with a playbook; write results.json and report.html."""
    if output is not None and not output.strip():
        raise InputError("--output: an empty folder name (leave the option out for reports/<time>/)")
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
    )
    with _stop_on_signals() as cancel, _progress(cancel) as hooks:
        outcome = audit(inventory, playbook, parse_cli_params(params), options, hooks)
    _print_summary(outcome.document, outcome.out_dir, outcome.learned)
    if outcome.problem:
        click.echo(f"error: {outcome.problem}", err=True)
    if outcome.stopped:  # threads of aborted hosts may still be unwinding: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(outcome.exit_code)
    sys.exit(outcome.exit_code)


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
def _progress(cancel: Cancel) -> Iterator[Hooks]:
    if not sys.stderr.isatty():
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
            progress.update(task, advance=1, description=escape(_shown(result.host.name)))

        yield Hooks(cancel, on_start=lambda total: progress.update(task, total=total), on_host=tick)


# What a host may put in its name or error must not drive the terminal (ESC sequences set titles, colours,
# move the cursor) nor split the one-line-per-host summary (tabs, newlines): shown as visible symbols.
_TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    return _TERMINAL_CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() < " " else "\ufffd", text)


def _print_summary(document: dict[str, Any], out_dir: Path, learned: list[str]) -> None:
    if not sys.stdout.isatty():
        _print_plain_summary(document, out_dir, learned)
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
        cells = [escape(_shown(h["name"])), h["status"], "–" if h["score"] is None else f"{h['score']:.1f}"]
        for t in tasks:
            v = h["plan_tasks"].get(t, "")
            cells.append(f"[{colors.get(v, 'dim')}]{v}[/]" if v else "")
        table.add_row(*cells)
    console.print(table)
    for h in document["hosts"]:
        if h["error"]:
            console.print(f"[yellow]{escape(_shown(h['name']))}[/]: {escape(_shown(h['error']))}", highlight=False)
    for line in _summary_footer(document, out_dir, learned):
        console.print(line, markup=False, highlight=False)


def _print_plain_summary(document: dict[str, Any], out_dir: Path, learned: list[str], most: int = 50) -> None:
    """For logs and schedulers: one line per host (the worst first, at most ``most``), no colour."""
    hosts = sorted(document["hosts"], key=lambda h: (h["score"] is not None, h["score"] or 0))
    for h in hosts[:most]:
        tasks = " ".join(f"{t}={v}" for t, v in sorted(h["plan_tasks"].items()))
        score = "-" if h["score"] is None else f"{h['score']:.1f}"
        error = f"\t{_shown(h['error'])}" if h["error"] else ""
        click.echo(f"{_shown(h['name'])}\t{h['status']}\t{score}\t{tasks}{error}")
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
    lines += [f"trusted on first use: host key of {_shown(name)} recorded" for name in learned]
    return [*lines, f"results: {out_dir / 'results.json'}", f"report:  {out_dir / 'report.html'}"]


@cli.command()
@click.option(
    "--inventory", "-i", type=click.Path(dir_okay=False, readable=False), help="Inventory to validate as well."
)
@click.option("--playbook", "-p", default="baseline", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
def validate(inventory: str | None, playbook: str, params: tuple[str, ...]) -> None:
    """Check the catalog, a playbook and an inventory without contacting any host."""
    catalog, inv, book, plans = prepare(inventory, playbook, parse_cli_params(params))
    click.echo(f"catalog: {len(catalog.checks)} checks, {len(catalog.plan_tasks)} plan tasks")
    click.echo(f"playbook {book.name}: {len(book.plays)} play(s)")
    click.echo(
        f"inventory {inv.source}: {len(inv.hosts)} host(s), {sum(len(p.checks) for p in plans)} host × check pairs"
    )
    click.echo("ok")


@cli.command()
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


@cli.command()
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False, readable=False))
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="html", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, readable=False),
    help="An earlier results.json: the HTML report shows what changed since.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
def report(results_file: str, fmt: str, lang: str, previous: str | None, output: str) -> None:
    """Re-render a stored results.json as html, csv, junit or json."""
    document = _load_results(results_file)
    before = _load_results(previous) if previous else None
    text = RENDERERS[fmt](document, lang, before)
    write_file(Path(output), lambda fh: fh.write(text))  # a symlink at OUTPUT is replaced, never written through
    click.echo(output)


def _load_results(path: str) -> dict[str, Any]:
    """A stored results.json, validated against its schema; exit 2 naming the file otherwise."""
    try:
        document = json.loads(read_source(Path(path), InputError))
        results_mod.validate(document)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (ValueError, RecursionError) as exc:
        click.echo(f"error: {path}: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # jsonschema.ValidationError
        click.echo(f"error: {path} does not follow {results_mod.SCHEMA_ID}: {exc}".splitlines()[0], err=True)
        sys.exit(EXIT_BAD_INPUT)
    return document


# --- catalog: controls list | show ID | coverage | evidence DIR (issue 5) ------------------------------------


@cli.group()
def controls() -> None:
    """The ISO/IEC 27001 catalog: Annex A controls (2013, 2022; 2005 index), plan tasks, coverage."""


def _catalog_or_exit() -> Catalog:
    try:
        return load_catalog()
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


@controls.command("list")
@click.option("--edition", type=click.Choice(["2013", "2022", "2005", "plan"]), help="Only one edition, or plan tasks.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_list(edition: str | None, fmt: str) -> None:
    """Every control and plan task with how it is evidenced: automated (checks), manual (documents), or both."""
    from auditor.catalog import controls_view

    catalog = _catalog_or_exit()
    rows = controls_view.rows(catalog, edition)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        how = row["how"] + (f" [{', '.join(row['checks'])}]" if row["checks"] else "")
        flag = "" if row.get("verified", True) else " (UNVERIFIED)"
        click.echo(f"{row['edition']:<5} {row['id']:<18} {how:<40} {row['title']}{flag}")


@controls.command("show")
@click.argument("ident")
@click.option("--edition", type=click.Choice(["2013", "2022", "2005"]), help="When an id exists in several editions.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_show(ident: str, edition: str | None, fmt: str) -> None:
    """One control (A.12.2.1, 8.7), plan task (PT-AV), check (LNX-AV-ACTIVE) or document (DOC-ISMS-POLICY)."""
    from auditor.catalog import controls_view

    catalog = _catalog_or_exit()
    entry = controls_view.show(catalog, ident, edition)
    if entry is None:
        click.echo(f"error: {ident!r} is no control, plan task, check or document of the catalog", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if fmt == "json":
        click.echo(json.dumps(entry, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(controls_view.as_text(entry))


@controls.command("coverage")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_coverage(fmt: str) -> None:
    """How many controls and plan tasks are automated (a check) or manual (documents)."""
    from auditor.catalog.coverage import coverage

    numbers = coverage(_catalog_or_exit())
    if fmt == "json":
        click.echo(json.dumps(numbers))
        return
    for name, n in numbers.items():
        click.echo(
            f"{name:<15} {n['in_catalog']}/{n['total']} in the catalog: "
            f"{n['automated']} automated, {n['manual']} manual only"
        )


@controls.command("evidence")
@click.argument("evidence_dir", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_evidence(evidence_dir: str, fmt: str) -> None:
    """Judge the attestations in EVIDENCE_DIR/attestations.yaml (hashes, dates) without auditing any host."""
    catalog = _catalog_or_exit()
    try:
        org = organisation.prepare(catalog, {"evidence_dir": evidence_dir})
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    assert org is not None
    part = org.section()
    if fmt == "json":
        click.echo(json.dumps(part, ensure_ascii=False, indent=1))
    else:
        for r in part["results"]:
            if r["status"] != "manual":
                click.echo(f"{r['status']:<7} {r['requirement']:<24} {r['reason']}")
        click.echo(", ".join(f"{k}: {v}" for k, v in sorted(part["counts"].items())))
    statuses = [r["status"] for r in part["results"]]
    sys.exit(EXIT_INCOMPLETE if "error" in statuses else EXIT_FAILURES if "fail" in statuses else EXIT_OK)
