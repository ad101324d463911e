"""Bring a store's schema to this version's: create it, upgrade an older one in place, refuse a newer one.

A store already at this version costs one query (no Alembic import): every run opens the store.
A new store is created from the metadata and stamped, as Alembic's own guide does.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select

from auditor.history.schema import HEAD_REVISION, metadata
from auditor.history.url import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_version_meta = MetaData()
alembic_version = Table("alembic_version", _version_meta, Column("version_num", String(32), primary_key=True))


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(select(alembic_version.c.version_num)).scalar()


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def upgrade(conn: Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, target)


def ensure_schema(conn: Connection, shown_url: str) -> None:
    revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        if inspect(conn).has_table("runs"):
            raise StoreError(f"history store {shown_url}: has a 'runs' table but no schema version: not ours")
        metadata.create_all(conn)
        _version_meta.create_all(conn)
        conn.execute(alembic_version.insert().values(version_num=HEAD_REVISION))
        return
    if revision not in known_revisions():
        raise StoreError(
            f"history store {shown_url}: its schema (revision {revision}) is newer than this auditor's "
            f"({HEAD_REVISION}); upgrade auditor to use it (the store was left unchanged)"
        )
    upgrade(conn)
