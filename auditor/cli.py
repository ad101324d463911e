"""Command line: click commands only; the work is done in the modules they call.

Exit codes: 0 no failures, 1 failures found, 2 bad input (inventory, playbook, catalog,
parameters), 3 run incomplete (interrupted, a host unreachable or in error, a check that could
not be read: ``error``) or the environment failed (an output that cannot be written, a history store
that cannot be used: the run's files are still written), 4 another run holds the output folder or the run lock.
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
from auditor import waivers as waivers_mod
from auditor.catalog import Catalog, load_catalog
from auditor.catalog.playbook import parse_cli_params
from auditor.drill.commands import drill
from auditor.engine import RunOptions, collect
from auditor.errors import InputError
from auditor.history.url import StoreError, chosen_url
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
from auditor.yamlsource import read_source


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
    except StoreError as exc:  # the history store: the environment
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


_db_option = click.option(
    "--db",
    metavar="URL",
    help="History store (SQLAlchemy URL: sqlite:///FILE, postgresql+psycopg://…). "
    "Default: $AUDITOR_DB, else /var/lib/auditor/history.db (root) or $XDG_DATA_HOME/auditor/history.db.",
)
_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)

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


_notify = [
    click.option(
        "--notify-email",
        "notify_emails",
        multiple=True,
        metavar="ADDR",
        help="Mail a bilingual drift notice to ADDR (repeatable) after a run that drifted from the previous one.",
    ),
    click.option("--smtp-host", help="The agency's mail server (STARTTLS with a verified certificate, always)."),
    click.option("--smtp-port", type=int, default=587, show_default=True),
    click.option("--smtp-sender", metavar="ADDR", help="Sender address of the notices."),
    click.option(
        "--smtp-ca-file",
        type=click.Path(dir_okay=False, readable=False),
        help="CA certificate that signs the mail server's (default: the system's trust store).",
    ),
    click.option("--smtp-user", help="Log in after STARTTLS; the password comes from $AUDITOR_SMTP_PASSWORD."),
    click.option(
        "--notify-command",
        metavar="'PROGRAM ARG...'",
        help="Run PROGRAM (absolute path, no shell) with the diff JSON on stdin after a drifted run.",
    ),
    click.option("--notify-timeout", type=float, default=60.0, show_default=True, help="Seconds a notice may take."),
]


def notify_options(func: Any) -> Any:
    for option in reversed(_notify):
        func = option(func)
    return func


def _notice_settings(options: dict[str, Any]) -> Any:
    from auditor import notify

    return notify.settings(
        options.pop("notify_emails"),
        options.pop("smtp_host"),
        options.pop("smtp_port"),
        options.pop("smtp_sender"),
        options.pop("smtp_ca_file"),
        options.pop("smtp_user"),
        options.pop("notify_command"),
        options.pop("notify_timeout"),
    )


_distributed = [
    click.option(
        "--distributed", is_flag=True, help="Hand the hosts to workers, a queue per segment (docs/many-sites.md)."
    ),
    click.option(
        "--broker",
        metavar="URL",
        help="Redis broker (redis://, rediss://, redis+socket:///path). A URL with a password: $AUDITOR_BROKER.",
    ),
    click.option(
        "--credentials",
        type=click.Path(dir_okay=False, readable=False),
        help="YAML file with broker: and db: URLs, readable by its owner only.",
    ),
    click.option("--shard-size", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Hosts a task."),
    click.option(
        "--segment-timeout",
        type=click.FloatRange(1, 86_400),
        default=300.0,
        show_default=True,
        help="Seconds a segment's queue may go without a live worker before its hosts end in error.",
    ),
    click.option(
        "--visibility-timeout",
        type=click.FloatRange(20, 7 * 86_400),
        default=3600.0,
        show_default=True,
        help="Seconds before a shard whose worker died is delivered again; workers stop a shard before it.",
    ),
]


def distributed_options(func: Any) -> Any:
    for option in reversed(_distributed):
        func = option(func)
    return func


def _distributed_settings(options: dict[str, Any]) -> Any:
    """The distributed run's settings taken out of ``options``; None for a local run."""
    from auditor.distributed import credentials

    given = {k: options.pop(k) for k in ("distributed", "broker", "credentials")}
    sizes = {k: options.pop(k) for k in ("shard_size", "segment_timeout", "visibility_timeout")}
    if not given["distributed"]:
        for name in ("broker", "credentials"):
            if given[name] is not None:
                raise InputError("only with --distributed", field=f"--{name}")
        return None
    broker = credentials.resolve("broker", given["broker"], given["credentials"])
    if broker is None:
        raise InputError("a distributed run needs a broker: --broker URL or $AUDITOR_BROKER", field="--broker")
    # The history store's URL: $AUDITOR_DB or the credentials file (the run's --db is the history store's own).
    db = credentials.resolve("db", None, given["credentials"])
    return {"broker": broker, "db": db, **sizes}


def _distributed_module(name: str) -> Any:
    """A module of the Celery side; without the ``distributed`` extra, one line saying how to install it."""
    import importlib

    try:
        return importlib.import_module(f"auditor.distributed.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("celery", "kombu", "redis"):
            raise OSError(
                f"distributed runs need Celery and redis: pip install 'auditor[distributed]' ({exc.name} is missing)"
            ) from None
        raise


def _workers(
    settings: dict[str, Any], inventory: str | None, playbook: str, params: dict[str, Any], connect: float, fact: int
) -> Any:
    coordinator = _distributed_module("coordinator")

    def show(counts: dict[str, tuple[int, int]]) -> None:
        click.echo(" · ".join(f"segment {_shown(s)}: {d}/{n} hosts done" for s, (d, n) in counts.items()), err=True)

    options = coordinator.DistributedOptions(**settings)
    return coordinator.dispatcher(options, inventory, playbook, params, connect, fact, show)


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
@_db_option
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

    distributed = _distributed_settings(notice_options)

    if output is not None and not output.strip():
        raise InputError("--output: an empty folder name (leave the option out for reports/<time>/)")
    if output is not None and output_root is not None:
        raise InputError("--output and --output-root: give one", field="--output-root")
    if lock is not None:
        runlock.check_name(lock)
    notices = _notice_settings(notice_options)
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
            hooks.run_hosts = _workers(distributed, inventory, playbook, cli_params, connect_timeout, fact_timeout)
        outcome = audit(inventory, playbook, cli_params, options, hooks)
    _print_summary(outcome.document, outcome.out_dir, outcome.learned)
    if outcome.problem:
        click.echo(f"error: {outcome.problem}", err=True)
    if outcome.history_problem:
        click.echo(f"error: {outcome.history_problem} (its files are in {outcome.out_dir})", err=True)
    code = outcome.exit_code
    if notices is not None:
        code = _send_notices(notices, outcome.since_previous, code)
    if outcome.stopped:  # threads of aborted hosts may still be unwinding: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _send_notices(notices: Any, diff: dict[str, Any] | None, code: int) -> int:
    """After the run's files are written: a failed notice is reported and makes the run exit 3, nothing else."""
    from auditor import notify

    if diff is None:
        click.echo(
            "drift notice: no earlier run of this playbook and inventory to compare with; nothing sent", err=True
        )
        return code
    drifted, problems = notify.deliver(notices, diff)
    if not drifted:
        click.echo("drift notice: no new failure, error or host-key change since the last run; nothing sent", err=True)
    for problem in problems:
        click.echo(f"error: drift notice: {problem}", err=True)
    return EXIT_INCOMPLETE if problems and code in (EXIT_OK, EXIT_FAILURES) else code


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


# --- catalog: controls list | show ID | coverage | evidence DIR ----------------------------------------------


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


# --- drift notices and schedules ---------------------------------------------------------------------------


@cli.command("notify")
@click.option(
    "--diff",
    "diff_file",
    type=click.Path(dir_okay=False, readable=False, allow_dash=True),
    required=True,
    help="A diff JSON (auditor diff --format json), '-' for stdin.",
)
@notify_options
def notify_command(diff_file: str, **notice_options: Any) -> None:
    """Send the drift notices a diff calls for (the same as a run with --notify-* does after it)."""
    from auditor import notify

    notices = _notice_settings(notice_options)
    if notices is None:
        raise InputError("nothing to send with: give --notify-email and/or --notify-command")
    text = sys.stdin.read() if diff_file == "-" else read_source(Path(diff_file), InputError)
    try:
        diff = notify.check_diff(json.loads(text))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not JSON: {exc}", file=diff_file) from None
    sys.exit(_send_notices(notices, diff, EXIT_OK))


@cli.group()
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
    **notice_options: Any,
) -> None:
    """Install a schedule that runs `auditor run` with these options and the lock of its name."""
    from auditor import schedule as schedules

    request = schedules.Request(
        name, every, inventory, playbook, params, db, output_root, known_hosts, no_network,
        _notice_settings(notice_options),
    )  # fmt: skip
    the_plan = schedules.plan(request, kind)
    if dry_run:
        if fmt == "json":
            click.echo(json.dumps(the_plan.as_json(), ensure_ascii=False, indent=1))
        else:
            for path, text in the_plan.files.items():
                click.echo(f"--- {path}\n{text}")
        return
    written = schedules.install(the_plan, Path(root))
    if fmt == "json":
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


@cli.group()
def evidence() -> None:
    """Signed evidence packs for an inspector: a run, drills and attestations in one zip."""


@evidence.command("pack")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("drill_dirs", nargs=-1, type=click.Path(file_okay=False))
@click.option("--attestations", type=click.Path(file_okay=False), help="The attestations folder to include.")
@click.option("--key", required=True, type=click.Path(dir_okay=False), help="ed25519 private key (ssh-keygen).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The pack (.zip) to write.")
@click.option("--previous", type=click.Path(dir_okay=False), help="Last year's pack: this one names its SHA256SUMS.")
def evidence_pack(
    run_dir: str, drill_dirs: tuple[str, ...], attestations: str | None, key: str, output: str, previous: str | None
) -> None:
    """Pack RUN_DIR (and DRILL_DIRs), masked, listed in SHA256SUMS and signed with an OpenSSH signature."""
    from auditor.evidence_pack import SigningUnavailable
    from auditor.evidence_pack.build import PackRequest, make_pack

    request = PackRequest(
        Path(run_dir),
        [Path(d) for d in drill_dirs],
        None if attestations is None else Path(attestations),
        Path(key),
        Path(output),
        None if previous is None else Path(previous),
    )
    try:
        summary = make_pack(request)
    except SigningUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INCOMPLETE)
    click.echo(f"{summary.output}: {summary.files} files, signed by {summary.signer.fingerprint}")
    click.echo(f"SHA256SUMS sha256 {summary.sums_sha256}")
    if summary.redacted:
        click.echo(f"masked secret-looking values in: {', '.join(summary.redacted)}")
    click.echo(f'allowed_signers line: IDENTITY namespaces="auditor-evidence" {summary.signer.line}')


@evidence.command("verify")
@click.argument("pack", type=click.Path(dir_okay=False))
@click.option("--allowed-signers", required=True, type=click.Path(dir_okay=False), help="ssh-keygen allowed_signers.")
@click.option("--identity", help="The signer's identity in allowed_signers (default: whichever key signed).")
@click.option("--previous", type=click.Path(dir_okay=False), help="The pack before this one: verify it and the chain.")
def evidence_verify(pack: str, allowed_signers: str, identity: str | None, previous: str | None) -> None:
    """Exit 0 only when the signature is good and the pack holds exactly the files SHA256SUMS lists."""
    from auditor.evidence_pack import PackInvalid, SigningUnavailable
    from auditor.evidence_pack.verify import verify_pack

    try:
        verified = verify_pack(
            Path(pack), Path(allowed_signers), identity, None if previous is None else Path(previous)
        )
    except PackInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{_shown(pack)}: {_shown(problem)}", err=True)
        click.echo(f"{_shown(pack)}: NOT VERIFIED", err=True)
        sys.exit(EXIT_FAILURES)
    except SigningUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INCOMPLETE)
    run = verified.manifest.get("run") or {}
    drills = ", ".join(str(d.get("id")) for d in verified.manifest.get("drills") or []) or "none"
    click.echo(f"good signature by {_shown(verified.identity)} ({verified.fingerprint})")
    click.echo(f"{verified.files} files match SHA256SUMS; run {_shown(str(run.get('id')))}; drills {_shown(drills)}")
    for line in verified.chain:
        click.echo(_shown(line))
    click.echo(f"{_shown(pack)}: VERIFIED")


@cli.command()
@click.option("--run", "run_id", metavar="RUN_ID", help="A run of the history store (an id, or its unique beginning).")
@click.option(
    "--results", type=click.Path(dir_okay=False, readable=False), help="A run's results.json (instead of --run)."
)
@click.option("--edition", type=click.Choice(["2022", "2013"]), required=True, help="Annex A numbering.")
@click.option(
    "--applicability",
    type=click.Path(dir_okay=False, readable=False),
    help="Which controls apply and why, with version, owner, approver and date (YAML).",
)
@click.option("--format", "fmt", type=click.Choice(["html", "xlsx", "csv", "json"]), default="html", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
@_db_option
def soa(
    run_id: str | None,
    results: str | None,
    edition: str,
    applicability: str | None,
    fmt: str,
    lang: str,
    output: str,
    db: str | None,
) -> None:
    """Statement of Applicability: one row for every Annex A control of the edition, with its status."""
    from auditor import soa as soa_mod

    statement = soa_mod.write(load_catalog(), edition, results, run_id, applicability, fmt, lang, output, db)
    counts = ", ".join(f"{k}: {v}" for k, v in statement["counts"].items())
    click.echo(f"{output}: {len(statement['controls'])} controls ({counts})")


@cli.command()
@click.option("--status", type=click.Choice(["open", "waived", "fixed"]), help="Only the findings with this status.")
@click.option(
    "--findings",
    "assignments",
    type=click.Path(dir_okay=False, readable=False),
    help="Owner and due date of findings (YAML the officer edits).",
)
@_db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Language of titles.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of printing (xlsx: required)."
)
def findings(
    status: str | None, assignments: str | None, db: str | None, fmt: str, lang: str, output: str | None
) -> None:
    """The findings register: every (host, check) that failed in a recorded run, open, waived or fixed."""
    from auditor.history import commands

    content, register, unused = commands.findings(commands.open_chosen(db), status, assignments, fmt, output, lang)
    for fid in unused:
        click.echo(f"{_shown(assignments or '')}: {fid}: no such finding in the history (unused)", err=True)
    if output is not None:
        click.echo(f"{output}: {len(register)} findings")
    elif fmt == "text":
        _emit(None, "text", str(content).splitlines())
    else:
        click.echo(str(content), nl=False)


# --- history: list | show | export | prune; diff; trend --------------------------------------------------------


def _emit(data: Any, fmt: str, text: list[str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        for line in text:
            click.echo(_shown(line).replace("\u2409", "\t"))


@cli.group()
def history() -> None:
    """Recorded runs: list, show, export, prune."""


@history.command("list")
@_db_option
@_format_option
def history_list(db: str | None, fmt: str) -> None:
    """Every recorded run, newest first."""
    from auditor.history import commands

    runs = commands.list_runs(commands.open_chosen(db))
    _emit(runs, fmt, commands.runs_text(runs))


@history.command("show")
@click.argument("run_id", metavar="RUN")
@_db_option
@_format_option
def history_show(run_id: str, db: str | None, fmt: str) -> None:
    """One run and its hosts (RUN: an id, or its unique beginning)."""
    from auditor.history import commands

    shown = commands.show(commands.open_chosen(db), run_id)
    _emit(shown, fmt, commands.show_text(shown))


@history.command("export")
@click.argument("run_id", metavar="RUN")
@click.option("--output", "-o", type=click.Path(), required=True, help="Folder for results.json and report.html.")
@click.option("--force", is_flag=True, help="Replace a previous run's files in the folder.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Report language.")
@_db_option
@_format_option
def history_export(run_id: str, output: str, force: bool, lang: str, db: str | None, fmt: str) -> None:
    """Write the run's results.json (as it was written) and its report into a folder."""
    from auditor.history import commands

    out = commands.export(commands.open_chosen(db), run_id, Path(output), force, lang)
    _emit({"output": str(out)}, fmt, [str(out / "results.json"), str(out / "report.html")])


@history.command("prune")
@click.option("--keep-days", type=click.IntRange(0), help="Remove runs started more than N days ago.")
@click.option("--keep-last", type=click.IntRange(1), help="Keep the N newest runs, remove the others.")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@_db_option
@_format_option
def history_prune(keep_days: int | None, keep_last: int | None, dry_run: bool, db: str | None, fmt: str) -> None:
    """Remove old runs (never the newest) and the evidence only they used; print what goes."""
    from auditor.history import commands

    removed = commands.prune(commands.open_chosen(db), keep_days, keep_last, dry_run)
    _emit(removed, fmt, commands.prune_text(removed, dry_run))


@cli.command("diff")
@click.argument("run_a", required=False, metavar="[RUN_A]")
@click.argument("run_b", required=False, metavar="[RUN_B]")
@_db_option
@_format_option
def diff_command(run_a: str | None, run_b: str | None, db: str | None, fmt: str) -> None:
    """What changed from RUN_A to RUN_B (default: the last two runs of the same playbook and inventory)."""
    from auditor.history import commands

    changes = commands.diff(commands.open_chosen(db), run_a, run_b)
    _emit(changes, fmt, commands.diff_text(changes))


@cli.command("trend")
@click.option("--plan-task", metavar="PT-X", help="Only the checks of this plan task.")
@click.option("--host", metavar="H", help="Only this host's results.")
@click.option("--check", "check_id", metavar="ID", help="Only this check, on every host.")
@click.option("--last", type=click.IntRange(1), default=10, show_default=True, help="How many runs.")
@_db_option
@_format_option
def trend_command(
    plan_task: str | None, host: str | None, check_id: str | None, last: int, db: str | None, fmt: str
) -> None:
    """Score and verdict counts per run, oldest first, over the newest run's playbook and inventory."""
    from auditor.history import commands

    points = commands.trend_points(commands.open_chosen(db), last, plan_task, host, check_id)
    _emit(points, fmt, commands.trend_text(points))


@cli.command()
@click.option("--broker", metavar="URL", help="Redis broker; a URL with a password: $AUDITOR_BROKER.")
@click.option("--db", metavar="URL", help="History database (workers record nothing: the coordinator does).")
@click.option(
    "--credentials",
    type=click.Path(dir_okay=False, readable=False),
    help="YAML file with broker: and db: URLs, readable by its owner only.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="SEGMENT",
    help="Segment whose shards to audit (repeatable; default: default).",
)
@click.option(
    "--allow-net",
    "allow_nets",
    multiple=True,
    metavar="CIDR",
    help="A network this worker may audit (repeatable); every other host is refused.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=10, show_default=True, help="Hosts audited at once.")
@click.option(
    "--identity",
    type=click.Path(dir_okay=False),
    default="~/.ssh/id_ed25519",
    show_default=True,
    help="This worker's own SSH private key (tasks carry none).",
)
@click.option(
    "--known-hosts",
    type=click.Path(dir_okay=False),
    default="~/.ssh/known_hosts",
    show_default=True,
    help="This worker's known_hosts: a host whose key is not in it is refused.",
)
@click.option("--visibility-timeout", type=click.FloatRange(20, 7 * 86_400), default=3600.0, show_default=True)
@click.option("--name", metavar="NAME@HOST", help="Worker name (default auditor@<host>-<pid>).")
def worker(
    broker: str | None,
    db: str | None,
    credentials: str | None,
    queues: tuple[str, ...],
    allow_nets: tuple[str, ...],
    jobs: int,
    identity: str,
    known_hosts: str,
    visibility_timeout: float,
    name: str | None,
) -> None:
    """Audit the shards of distributed runs from the queues of its segments (docs/many-sites.md)."""
    url, networks = _worker_inputs(broker, db, credentials, queues, allow_nets)
    worker_mod = _distributed_module("worker")
    settings = worker_mod.WorkerSettings(networks, Path(identity).expanduser(), Path(known_hosts).expanduser(), jobs)
    worker_mod.serve(url, list(queues) or ["default"], settings, visibility_timeout, name)


def _worker_inputs(
    broker: str | None, db: str | None, credentials: str | None, queues: tuple[str, ...], allow_nets: tuple[str, ...]
) -> tuple[str, list[Any]]:
    """The broker's URL and the allowed networks, every input checked before anything connects."""
    from auditor.distributed import allow
    from auditor.distributed import credentials as creds
    from auditor.distributed.shards import check_segment

    for queue in queues:
        check_segment(queue, "--queue")
    url = creds.resolve("broker", broker, credentials)
    if url is None:
        raise InputError("a worker needs a broker: --broker URL or $AUDITOR_BROKER", field="--broker")
    creds.resolve("db", db, credentials)
    return url, allow.parse_networks(allow_nets)
