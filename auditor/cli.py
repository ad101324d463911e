"""Command line: click commands only; the work is done in the modules they call.

Exit codes (design §6): 0 no failures, 1 failures found, 2 bad input (inventory,
playbook, catalog, parameters), 3 run incomplete (interrupted, a host unreachable
or in error, or a check that could not be read: ``error``).
"""

from __future__ import annotations

import json
import secrets
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from auditor import results as results_mod
from auditor.catalog import Catalog, load_catalog
from auditor.catalog.playbook import HostPlan, load_playbook, plan_run
from auditor.engine import RunOptions, collect, now, run_plans
from auditor.errors import InputError
from auditor.inventory import Inventory, load_inventory, local_inventory
from auditor.model import HostResult, Verdict
from auditor.report import RENDERERS
from auditor.transports import ConnectOptions

EXIT_OK, EXIT_FAILURES, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


def main() -> None:
    try:
        cli(standalone_mode=True)
    except InputError as exc:  # pragma: no cover - click already handles inside commands
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auditor")
def cli() -> None:
    """Information-security compliance auditor (ISO/IEC 27001, TCVN ISO/IEC 27001, Vietnamese plan tasks)."""


def _parse_params(values: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            params[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            params[key.strip()] = value
    return params


def _prepare(
    inventory: str | None, playbook: str, params: tuple[str, ...]
) -> tuple[Catalog, Inventory, Any, list[HostPlan], dict[str, Any]]:
    catalog = load_catalog()
    inv = load_inventory(Path(inventory)) if inventory else local_inventory()
    book = load_playbook(playbook, catalog)
    cli_params = _parse_params(params)
    plans = plan_run(book, catalog, inv, cli_params)
    return catalog, inv, book, plans, cli_params


def _connect_options(known_hosts: str | None, tofu: bool, connect_timeout: float) -> ConnectOptions:
    path = Path(known_hosts).expanduser() if known_hosts else Path("~/.ssh/known_hosts").expanduser()
    return ConnectOptions(known_hosts=path, trust_on_first_use=tofu, connect_timeout=connect_timeout)


_common = [
    click.option(
        "--inventory",
        "-i",
        type=click.Path(dir_okay=False),
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
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Output folder (default reports/<time>/).")
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=10, show_default=True, help="Hosts audited at once.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Report language.")
def run(
    inventory: str | None,
    playbook: str,
    known_hosts: str | None,
    trust_on_first_use: bool,
    params: tuple[str, ...],
    connect_timeout: float,
    fact_timeout: int,
    output: str | None,
    jobs: int,
    lang: str,
) -> None:
    """Audit hosts with a playbook; write results.json and report.html."""
    try:
        _, inv, book, plans, cli_params = _prepare(inventory, playbook, params)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    started = now()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    out_dir = Path(output) if output else Path("reports") / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / "hosts.jsonl"
    journal.write_text("")
    options = RunOptions(
        connect=_connect_options(known_hosts, trust_on_first_use, connect_timeout),
        jobs=jobs,
        fact_timeout=fact_timeout,
    )
    run_info = {
        "id": run_id,
        "started": started,
        "finished": started,
        "playbook": book.name,
        "params": {**book.params, **cli_params},
        "inventory": inv.source,
    }

    stop = threading.Event()
    interrupted: list[str] = []

    def on_signal(signum: int, _frame: Any) -> None:
        interrupted.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    lock = threading.Lock()

    def on_done(result: HostResult) -> None:
        # Journal each finished host at once: a run killed outright still leaves what it finished.
        with lock, journal.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(results_mod.host_to_dict(result), ensure_ascii=False) + "\n")

    try:
        hosts = _run_with_progress(plans, options, on_done, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    complete = not interrupted and len(hosts) == len(plans)
    run_info["finished"] = now()
    if interrupted:
        run_info["interrupted_by"] = interrupted[0]
    document = results_mod.build(run_info, hosts, complete=complete)
    results_mod.validate(document)
    results_mod.write_json(out_dir / "results.json", document)
    (out_dir / "report.html").write_text(RENDERERS["html"](document, lang), encoding="utf-8")
    journal.unlink(missing_ok=True)
    learned = options.connect.host_keys.learned if options.connect._host_keys else []
    _print_summary(document, out_dir, learned)
    sys.exit(exit_code(document))


def exit_code(document: dict[str, Any]) -> int:
    statuses = [r["status"] for h in document["hosts"] for r in h["results"]]
    if (
        not document["run"]["complete"]
        or any(h["status"] != "reachable" for h in document["hosts"])
        or Verdict.ERROR in statuses
    ):
        return EXIT_INCOMPLETE
    return EXIT_FAILURES if Verdict.FAIL in statuses else EXIT_OK


def _run_with_progress(
    plans: list[HostPlan], options: RunOptions, on_done: Any, stop: threading.Event
) -> list[HostResult]:
    if not sys.stderr.isatty():
        return run_plans(plans, options, on_done, stop)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]auditing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(plans))

        def tick(result: HostResult) -> None:
            on_done(result)
            progress.update(task, advance=1, description=result.host.name)

        return run_plans(plans, options, tick, stop)


def _print_summary(document: dict[str, Any], out_dir: Path, learned: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    tasks = sorted({t for h in document["hosts"] for t in h["plan_tasks"]})
    table = Table(title=f"auditor · {document['run']['playbook']}", show_lines=False)
    for column in ["host", "status", "score", *tasks]:
        table.add_column(column)
    colors = {"pass": "green", "fail": "red", "error": "yellow", "unknown": "yellow"}
    for h in document["hosts"]:
        cells = [h["name"], h["status"], "–" if h["score"] is None else f"{h['score']:.1f}"]
        for t in tasks:
            v = h["plan_tasks"].get(t, "")
            cells.append(f"[{colors.get(v, 'dim')}]{v}[/]" if v else "")
        table.add_row(*cells)
    console.print(table)
    for h in document["hosts"]:
        if h["error"]:
            console.print(f"[yellow]{h['name']}[/]: {h['error']}", markup=True, highlight=False)
    score = document["score"]
    console.print(
        f"score {score['value'] if score['value'] is not None else '–'} · coverage "
        f"{score['coverage'] if score['coverage'] is not None else '–'}"
        + ("" if document["run"]["complete"] else " · [yellow]INCOMPLETE run[/]")
    )
    for name in learned:
        console.print(f"[yellow]trusted on first use[/]: host key of {name} recorded")
    console.print(f"results: {out_dir / 'results.json'}\nreport:  {out_dir / 'report.html'}")


@cli.command()
@click.option("--inventory", "-i", type=click.Path(dir_okay=False), help="Inventory to validate as well.")
@click.option("--playbook", "-p", default="baseline", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
def validate(inventory: str | None, playbook: str, params: tuple[str, ...]) -> None:
    """Check the catalog, a playbook and an inventory without contacting any host."""
    try:
        catalog, inv, book, plans, _ = _prepare(inventory, playbook, params)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
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
    try:
        _, _, _, plans, _ = _prepare(inventory, playbook, params)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    plan = next((p for p in plans if p.host.name == host), None)
    if plan is None:
        click.echo(
            f"error: no host {host!r} in the inventory (known: {', '.join(p.host.name for p in plans)})",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    options = RunOptions(
        connect=_connect_options(known_hosts, trust_on_first_use, connect_timeout), fact_timeout=fact_timeout
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
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(sorted({"json", *RENDERERS})), default="html", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
def report(results_file: str, fmt: str, lang: str, output: str) -> None:
    """Re-render a stored results.json."""
    try:
        document = json.loads(Path(results_file).read_text(encoding="utf-8"))
        results_mod.validate(document)
    except (ValueError, OSError) as exc:
        click.echo(f"error: {results_file}: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # jsonschema.ValidationError
        click.echo(f"error: {results_file} does not follow {results_mod.SCHEMA_ID}: {exc}".splitlines()[0], err=True)
        sys.exit(EXIT_BAD_INPUT)
    text = json.dumps(document, ensure_ascii=False, indent=1) if fmt == "json" else RENDERERS[fmt](document, lang)
    Path(output).write_text(text, encoding="utf-8")
    click.echo(output)
