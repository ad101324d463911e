"""A worker of distributed runs."""

from __future__ import annotations

import click

from auditor.distributed.startup import WorkerRequest, start_worker


@click.command()
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
    start_worker(
        WorkerRequest(
            broker, db, credentials, queues, allow_nets, jobs, identity, known_hosts, visibility_timeout, name
        )
    )
