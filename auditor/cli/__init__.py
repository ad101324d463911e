"""Command line: click commands only; the work is done in the modules they call.

Exit codes: 0 no failures, 1 failures found, 2 bad input (inventory, playbook, catalog,
parameters), 3 run incomplete (interrupted, a host unreachable or in error, a check that could
not be read: ``error``) or the environment failed (an output that cannot be written, a history store
that cannot be used: the run's files are still written), 4 another run holds the output folder or the run lock.
"""

from __future__ import annotations

import sys

import click

from auditor.cli.audit import facts, run, validate
from auditor.cli.catalog import controls
from auditor.cli.distributed import worker
from auditor.cli.evidence_packs import evidence
from auditor.cli.reports import findings, report, soa
from auditor.cli.run_history import diff_command, history, trend_command
from auditor.cli.schedules import notify_command, schedule
from auditor.drill.commands import drill
from auditor.errors import InputError
from auditor.history.url import StoreError
from auditor.output import FolderBusy, OutputError
from auditor.run import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_INCOMPLETE, EXIT_OK, Interrupted

# Importable from here as before the commands had modules of their own: the tests call these.
__all__ = ["cli", "main"]


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


cli.add_command(run)
cli.add_command(validate)
cli.add_command(facts)
cli.add_command(report)
cli.add_command(soa)
cli.add_command(findings)
cli.add_command(controls)
cli.add_command(history)
cli.add_command(diff_command)
cli.add_command(trend_command)
cli.add_command(notify_command)
cli.add_command(schedule)
cli.add_command(evidence)
cli.add_command(worker)
cli.add_command(drill)
