"""The catalog: controls list | show ID | coverage | evidence DIR."""

from __future__ import annotations

import json
import sys

import click

from auditor.attestations_check import attestations_text, judge_attestations
from auditor.catalog import load_catalog


@click.group()
def controls() -> None:
    """The ISO/IEC 27001 catalog: Annex A controls (2013, 2022; 2005 index), plan tasks, coverage."""


@controls.command("list")
@click.option("--edition", type=click.Choice(["2013", "2022", "2005", "plan"]), help="Only one edition, or plan tasks.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_list(edition: str | None, fmt: str) -> None:
    """Every control and plan task with how it is evidenced: automated (checks), manual (documents), or both."""
    from auditor.catalog import controls_view

    rows = controls_view.rows(load_catalog(), edition)
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

    entry = controls_view.show(load_catalog(), ident, edition)
    if fmt == "json":
        click.echo(json.dumps(entry, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(controls_view.as_text(entry))


@controls.command("coverage")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def controls_coverage(fmt: str) -> None:
    """How many controls and plan tasks are automated (a check) or manual (documents)."""
    from auditor.catalog.coverage import coverage

    numbers = coverage(load_catalog())
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
    judged = judge_attestations(evidence_dir)
    if fmt == "json":
        click.echo(json.dumps(judged.section, ensure_ascii=False, indent=1))
    else:
        for line in attestations_text(judged.section):
            click.echo(line)
    sys.exit(judged.exit_code)
