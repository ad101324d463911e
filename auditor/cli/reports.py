"""What is written from recorded runs: report (re-rendered results.json), soa, findings."""

from __future__ import annotations

import click

from auditor.catalog import load_catalog
from auditor.cli.common import db_option, emit, terminal_safe
from auditor.report import RENDERERS
from auditor.rerender import rerender


@click.command()
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
    rerender(results_file, fmt, lang, previous, output)
    click.echo(output)


@click.command()
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
@db_option
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


@click.command()
@click.option("--status", type=click.Choice(["open", "waived", "fixed"]), help="Only the findings with this status.")
@click.option(
    "--findings",
    "assignments",
    type=click.Path(dir_okay=False, readable=False),
    help="Owner and due date of findings (YAML the officer edits).",
)
@db_option
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
        click.echo(f"{terminal_safe(assignments or '')}: {fid}: no such finding in the history (unused)", err=True)
    if output is not None:
        click.echo(f"{output}: {len(register)} findings")
    elif fmt == "text":
        emit(None, "text", str(content).splitlines())
    else:
        click.echo(str(content), nl=False)
