"""A real PostgreSQL server (15 on Debian 12) for the tests: initdb into a temporary folder, started on a unix socket
folder and a free loopback port, stopped and removed afterwards.

initdb refuses root: as root the server runs as the ``postgres`` account (``runuser``). The tests
log in over TCP with a password (scram-sha-256), as a site's history store would.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _pg_bin() -> Path:
    """Debian 12's PostgreSQL 15, else the newest one installed (Ubuntu 24.04 ships 16)."""
    preferred = Path("/usr/lib/postgresql/15/bin")
    if preferred.is_dir():
        return preferred
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    return found[-1] if found else preferred


PG_BIN = Path(os.environ.get("AUDITOR_PG_BIN") or _pg_bin())
ACCOUNT = "postgres"


def unavailable_reason() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 binaries not found in {PG_BIN} (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(ACCOUNT)
        except KeyError:
            return f"no {ACCOUNT!r} account to run PostgreSQL as (initdb refuses root)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'auditor[postgresql]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    socket_dir: Path
    password: str
    user: str = "auditor"

    def _as_server(self, *cmd: str) -> list[str]:
        return ["runuser", "-u", ACCOUNT, "--", *cmd] if os.geteuid() == 0 else list(cmd)

    def psql(self, sql: str) -> None:
        subprocess.run(
            self._as_server(str(PG_BIN / "psql"), "-h", str(self.socket_dir), "-p", str(self.port),
                            "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def new_database(self) -> str:
        """A fresh, empty database the test user owns: its SQLAlchemy URL."""
        name = "t_" + secrets.token_hex(6)
        self.psql(f"CREATE DATABASE {name} OWNER {self.user}")
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def running_postgres() -> Iterator[Server]:
    top = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    data, sockets = top / "data", top / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        account = pwd.getpwnam(ACCOUNT)
        for path in (top, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    top.chmod(0o700)
    server = Server(_free_port(), sockets, secrets.token_urlsafe(12))
    log = top / "server.log"
    try:
        subprocess.run(
            server._as_server(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-k {sockets} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            server._as_server(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"),
            check=True,
            capture_output=True,
            timeout=120,
        )
        try:
            server.psql(f"CREATE ROLE {server.user} LOGIN PASSWORD '{server.password}'")
            yield server
        finally:
            subprocess.run(
                server._as_server(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"),
                capture_output=True, timeout=120,
            )  # fmt: skip
    finally:
        shutil.rmtree(top, ignore_errors=True)
