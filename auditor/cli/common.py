"""What the command modules share: option sets (read into the run layer's requests), terminal-safe text."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from auditor.distributed.startup import DistributedRun
from auditor.drift_notices import NoticeOptions

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


def notice_options(options: dict[str, Any]) -> NoticeOptions:
    """The --notify-* and --smtp-* values taken out of ``options``."""
    return NoticeOptions(
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


def distributed_run(options: dict[str, Any]) -> DistributedRun:
    """The --distributed values taken out of ``options``."""
    return DistributedRun(*(options.pop(k) for k in _DISTRIBUTED_KEYS))


_DISTRIBUTED_KEYS = ("distributed", "broker", "credentials", "shard_size", "segment_timeout", "visibility_timeout")


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
