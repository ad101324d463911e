"""A real redis-server for tests: a password (requirepass), a unix socket in a fresh folder, no disk.

    with running_redis() as redis:
        redis.url  # redis+socket://:<password>@/tmp/aud-redis-xxxx/redis.sock

A unix socket is a file: processes in other network namespaces (the lab's worker namespaces)
reach it as well, and nothing listens on any network address.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RedisServer:
    folder: Path
    password: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def url(self) -> str:
        return f"redis+socket://:{self.password}@{self.socket}"

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), password=self.password)

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None
        self.process = subprocess.Popen(
            [server, str(self.folder / "redis.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while not _answers(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text() if (self.folder / "redis.log").exists() else ""
                raise RuntimeError(f"redis-server did not start: {log[-2000:]}")
            time.sleep(0.05)

    def restart_empty(self) -> None:
        """Stopped without saving and started again: every queue, result and key is gone."""
        assert self.process is not None
        self.client().shutdown(nosave=True)
        self.process.wait(20)
        self.start()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"-NOAUTH")  # up, and refusing without the password
    except OSError:
        return False


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    server = shutil.which("redis-server")
    if server is None:
        from tests.conftest import skip_or_fail

        skip_or_fail("redis-server is not installed (install.sh --test installs it)")
    folder = Path(tempfile.mkdtemp(prefix="aud-redis-"))  # short: a socket path holds at most 107 bytes
    folder.chmod(0o700)
    redis = RedisServer(folder, secrets.token_hex(16))
    (folder / "redis.conf").write_text(
        f"port 0\nunixsocket {redis.socket}\nunixsocketperm 700\nrequirepass {redis.password}\n"
        f'dir {folder}\nsave ""\nappendonly no\nlogfile {folder}/redis.log\n'
    )
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
