"""What the command modules share: option sets, the drift notices, distributed runs' settings, terminal-safe text."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from auditor.errors import InputError
from auditor.run import EXIT_FAILURES, EXIT_INCOMPLETE, EXIT_OK

db_option = click.option(
    "--db",
    metavar="URL",
    help="History store (SQLAlchemy URL: sqlite:///FILE, postgresql+psycopg://…). "
    "Default: $AUDITOR_DB, else /var/lib/auditor/history.db (root) or $XDG_DATA_HOME/auditor/history.db.",
)
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


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


def notice_settings(options: dict[str, Any]) -> Any:
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


def send_notices(notices: Any, diff: dict[str, Any] | None, code: int) -> int:
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


def distributed_settings(options: dict[str, Any], db: str | None = None) -> Any:
    """The distributed run's settings taken out of ``options``; None for a local run. A distributed
    run's ``--db`` holds no password either (it comes from $AUDITOR_DB or the credentials file)."""
    from auditor.distributed import credentials

    given = {k: options.pop(k) for k in ("distributed", "broker", "credentials")}
    sizes = {k: options.pop(k) for k in ("shard_size", "segment_timeout", "visibility_timeout")}
    if not given["distributed"]:
        for name in ("broker", "credentials"):
            if given[name] is not None:
                raise InputError("only with --distributed", field=f"--{name}")
        return None
    broker = credentials.resolve("broker", given["broker"], given["credentials"])
    if db is not None:
        credentials.resolve("db", db, None)
    if broker is None:
        raise InputError("a distributed run needs a broker: --broker URL or $AUDITOR_BROKER", field="--broker")
    # The history store's URL: $AUDITOR_DB or the credentials file (the run's --db is the history store's own).
    db = credentials.resolve("db", None, given["credentials"])
    return {"broker": broker, "db": db, **sizes}


def distributed_module(name: str) -> Any:
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


def worker_dispatcher(
    settings: dict[str, Any], inventory: str | None, playbook: str, params: dict[str, Any], connect: float, fact: int
) -> Any:
    """How a distributed run audits its hosts: shards to the workers, each segment's progress on stderr."""
    coordinator = distributed_module("coordinator")

    def show(counts: dict[str, tuple[int, int]]) -> None:
        click.echo(
            " · ".join(f"segment {terminal_safe(s)}: {d}/{n} hosts done" for s, (d, n) in counts.items()), err=True
        )

    options = coordinator.DistributedOptions(**settings)
    return coordinator.dispatcher(options, inventory, playbook, params, connect, fact, show)


# What a host may put in its name or error must not drive the terminal (ESC sequences set titles, colours,
# move the cursor) nor split the one-line-per-host summary (tabs, newlines): shown as visible symbols.
_TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    return _TERMINAL_CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() < " " else "\ufffd", text)


def emit(data: Any, fmt: str, text: list[str]) -> None:
    """``data`` as JSON, or ``text`` a line at a time with what a host wrote made terminal-safe (tabs kept)."""
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        for line in text:
            click.echo(terminal_safe(line).replace("\u2409", "\t"))
