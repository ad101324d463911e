"""Recorded runs: history list | show | export | prune; diff; trend."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import db_option, emit, format_option


@click.group()
def history() -> None:
    """Recorded runs: list, show, export, prune."""


@history.command("list")
@db_option
@format_option
def history_list(db: str | None, fmt: str) -> None:
    """Every recorded run, newest first."""
    from auditor.history import commands

    runs = commands.list_runs(commands.open_chosen(db))
    emit(runs, fmt, commands.runs_text(runs))


@history.command("show")
@click.argument("run_id", metavar="RUN")
@db_option
@format_option
def history_show(run_id: str, db: str | None, fmt: str) -> None:
    """One run and its hosts (RUN: an id, or its unique beginning)."""
    from auditor.history import commands

    shown = commands.show(commands.open_chosen(db), run_id)
    emit(shown, fmt, commands.show_text(shown))


@history.command("export")
@click.argument("run_id", metavar="RUN")
@click.option("--output", "-o", type=click.Path(), required=True, help="Folder for results.json and report.html.")
@click.option("--force", is_flag=True, help="Replace a previous run's files in the folder.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Report language.")
@db_option
@format_option
def history_export(run_id: str, output: str, force: bool, lang: str, db: str | None, fmt: str) -> None:
    """Write the run's results.json (as it was written) and its report into a folder."""
    from auditor.history import commands

    out = commands.export(commands.open_chosen(db), run_id, Path(output), force, lang)
    emit({"output": str(out)}, fmt, [str(out / "results.json"), str(out / "report.html")])


@history.command("prune")
@click.option("--keep-days", type=click.IntRange(0), help="Remove runs started more than N days ago.")
@click.option("--keep-last", type=click.IntRange(1), help="Keep the N newest runs, remove the others.")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@db_option
@format_option
def history_prune(keep_days: int | None, keep_last: int | None, dry_run: bool, db: str | None, fmt: str) -> None:
    """Remove old runs (never the newest) and the evidence only they used; print what goes."""
    from auditor.history import commands

    removed = commands.prune(commands.open_chosen(db), keep_days, keep_last, dry_run)
    emit(removed, fmt, commands.prune_text(removed, dry_run))


@click.command("diff")
@click.argument("run_a", required=False, metavar="[RUN_A]")
@click.argument("run_b", required=False, metavar="[RUN_B]")
@db_option
@format_option
def diff_command(run_a: str | None, run_b: str | None, db: str | None, fmt: str) -> None:
    """What changed from RUN_A to RUN_B (default: the last two runs of the same playbook and inventory)."""
    from auditor.history import commands

    changes = commands.diff(commands.open_chosen(db), run_a, run_b)
    emit(changes, fmt, commands.diff_text(changes))


@click.command("trend")
@click.option("--plan-task", metavar="PT-X", help="Only the checks of this plan task.")
@click.option("--host", metavar="H", help="Only this host's results.")
@click.option("--check", "check_id", metavar="ID", help="Only this check, on every host.")
@click.option("--last", type=click.IntRange(1), default=10, show_default=True, help="How many runs.")
@db_option
@format_option
def trend_command(
    plan_task: str | None, host: str | None, check_id: str | None, last: int, db: str | None, fmt: str
) -> None:
    """Score and verdict counts per run, oldest first, over the newest run's playbook and inventory."""
    from auditor.history import commands

    points = commands.trend_points(commands.open_chosen(db), last, plan_task, host, check_id)
    emit(points, fmt, commands.trend_text(points))
