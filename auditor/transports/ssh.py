"""SSH transport (paramiko): one connection, one exec per host.

Host keys are verified against a known_hosts file and an unknown or changed key is
refused before any authentication is attempted. Trust on first use only when asked,
and then the key is written to the known_hosts file so the next run verifies it.
"""

from __future__ import annotations

import base64
import functools
import getpass
import hashlib
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path

# paramiko imports `invoke` only to run ssh_config `Match exec` lines, which the auditor never reads:
# without it, start-up takes less time and memory (bench/README.md). An earlier import is left alone.
sys.modules.setdefault("invoke", None)  # type: ignore[arg-type]
import paramiko  # noqa: E402

from auditor import addresses  # noqa: E402
from auditor.transports.base import (  # noqa: E402
    HOST_OUTPUT_LIMIT,
    ExecResult,
    HostError,
    Transport,
    cut_reason,
)

# paramiko's reader thread logs a failed handshake with its traceback; without a handler of ours,
# Python prints it on the user's terminal. The reason reaches the user as the host's error instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
_KNOWN_HOSTS_LOCK = threading.Lock()


class _QuickAckSocket:
    """The socket paramiko reads from, acknowledging every read at once (Linux ``TCP_QUICKACK``).

    sshd leaves Nagle on for a session without a terminal. Right after authentication it sends two
    small messages nothing answers (hostkeys-00, a debug line); the reply to the first channel
    open then waits for their ACK, which the client's kernel delays by 40 ms. Acknowledging at
    once spares the first exec of every connection that wait (bench/README.md).
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def recv(self, size: int) -> bytes:
        data = self._sock.recv(size)
        if data:  # the kernel re-enters delayed-ACK mode on its own: ask again after every read
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


def quick_ack(sock: socket.socket) -> socket.socket | _QuickAckSocket:
    return _QuickAckSocket(sock) if hasattr(socket, "TCP_QUICKACK") else sock


class HostKeys:
    """The known_hosts file shared by all SSH transports of a run."""

    def __init__(self, path: Path, trust_on_first_use: bool = False):
        self.path = path
        self.trust_on_first_use = trust_on_first_use
        self.keys = paramiko.HostKeys()
        if path.exists():
            try:
                self.keys.load(str(path))
            except (OSError, paramiko.SSHException) as exc:
                raise HostError(f"cannot read known_hosts file {path}: {exc}") from None
        self.learned: list[str] = []
        self._index: dict[str, dict[str, paramiko.PKey]] | None = None

    def lookup(self, server: str) -> dict[str, paramiko.PKey]:
        """This server's keys. paramiko's lookup scans every entry; an index keeps a run O(hosts)."""
        with _KNOWN_HOSTS_LOCK:
            if self._index is None:
                self._index = {}
                # paramiko keeps its lines in _entries; without it (another version) the index stays
                # empty and every lookup goes to paramiko's own linear search below.
                for entry in getattr(self.keys, "_entries", []):
                    for name in entry.hostnames:
                        if not name.startswith("|1|"):  # hashed names are matched by paramiko below
                            self._index.setdefault(name, {})[entry.key.get_name()] = entry.key
            found = self._index.get(server)
        return found if found is not None else dict(self.keys.lookup(server) or {})

    def policy(self) -> paramiko.MissingHostKeyPolicy:
        return _TrustOnFirstUse(self) if self.trust_on_first_use else paramiko.RejectPolicy()

    def remember(self, name: str, key: paramiko.PKey) -> None:
        with _KNOWN_HOSTS_LOCK:
            self.keys.add(name, key.get_name(), key)
            self._index = None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="ascii") as fh:
                fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")
            self.learned.append(name)


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    # Only reached for *unknown* hosts: a changed key still raises BadHostKeyException.
    def __init__(self, store: HostKeys):
        self.store = store

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self.store.remember(hostname, key)


class SshTransport(Transport):
    def __init__(
        self,
        address: str,
        port: int,
        user: str | None,
        key_file: str | None,
        shell_command: str,
        host_keys: HostKeys,
        connect_timeout: float = 10.0,
    ):
        self.address = address
        self.port = port
        self.user = user or getpass.getuser()
        self.key_file = os.path.expanduser(key_file) if key_file else None
        self.host_keys = host_keys
        self.connect_timeout = connect_timeout
        self.shell_command = shell_command
        self.client: paramiko.SSHClient | None = None
        self._sock: socket.socket | None = None

    def connect(self) -> None:
        where = f"{self.address}:{self.port}"
        try:  # the inventory parsed it already; a network (CIDR) or anything else is no SSH peer
            addresses.host(self.address)
        except addresses.AddressError as exc:
            raise HostError(f"{self.address}: not a host address for SSH: {exc}", "error") from None
        pkey = _private_key(self.key_file)
        try:
            sock = socket.create_connection((self.address, self.port), timeout=self.connect_timeout)
        except TimeoutError:
            raise HostError(f"{where}: connection timed out after {self.connect_timeout:g} s", "unreachable") from None
        except OSError as exc:
            raise HostError(f"{where}: {exc.strerror or exc}", "unreachable") from None
        # paramiko leaves Nagle on; each protocol round trip would then stall ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = paramiko.SSHClient()
        self.client, self._sock = client, sock  # so that abort() can reach them during the handshake
        # Only this host's entries: copying the whole file into every client costs O(hosts²) per run.
        server = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        for key_type, key in self.host_keys.lookup(server).items():
            client.get_host_keys().add(server, key_type, key)
        client.set_missing_host_key_policy(self.host_keys.policy())
        try:
            client.connect(
                self.address,
                port=self.port,
                username=self.user,
                pkey=pkey,
                sock=quick_ack(sock),  # type: ignore[arg-type]
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                allow_agent=self.key_file is None,
                look_for_keys=self.key_file is None,
            )
        except paramiko.BadHostKeyException as exc:
            self._discard()
            raise HostError(
                f"{where}: HOST KEY MISMATCH: the {exc.key.get_name()} key offered "
                f"(SHA256:{_fingerprint(exc.key)}) is not the one in {self.host_keys.path}; refused before login"
            ) from None
        except paramiko.AuthenticationException as exc:
            self._discard()
            raise HostError(f"{where}: authentication failed for user {self.user!r}: {exc}") from None
        except paramiko.SSHException as exc:
            stalled = _stalled_stage(client)
            self._discard()
            text = str(exc)
            if stalled is not None:
                raise HostError(
                    f"{where}: SSH handshake did not complete within {self.connect_timeout:g} s ({stalled})",
                    "unreachable",
                ) from None
            if "not found in known_hosts" in text:
                text = (
                    f"host key unknown: not in {self.host_keys.path}; refused before login "
                    "(add it to known_hosts, or use --trust-on-first-use)"
                )
            raise HostError(f"{where}: {text}") from None
        except (OSError, EOFError) as exc:
            self._discard()
            raise HostError(f"{where}: connection lost during SSH handshake: {exc}", "unreachable") from None

    def run(self, script: str, timeout: float) -> ExecResult:
        assert self.client is not None, "connect() first"
        budget = self.budget
        start = time.monotonic()
        deadline = start + timeout
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise HostError(f"{self.address}: SSH session closed")
        out, err = bytearray(), bytearray()
        cut: str | None = None

        def result(rc: int | None) -> ExecResult:
            return ExecResult(
                rc,
                out.decode("utf-8", "replace"),
                err.decode("utf-8", "replace"),
                (time.monotonic() - start) * 1000,
                cut,
                len(out) if budget is not None else 0,
            )

        try:
            channel = transport.open_session(timeout=self.connect_timeout)
            channel.exec_command(self.shell_command)
            channel.sendall(script.encode())
            channel.shutdown_write()
            # The batch sends every snippet's stderr inside stdout; the channel's own stderr carries only
            # the shell's and sudo's few lines. So: block on stdout until EOF (or the deadline), then drain.
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                channel.settimeout(remaining)
                try:
                    chunk = channel.recv(65536)
                except TimeoutError:
                    break
                if not chunk:
                    break
                keep = min(len(chunk), HOST_OUTPUT_LIMIT - len(out))
                if budget is not None:
                    keep = budget.take(keep)
                out += chunk[:keep]
                if keep < len(chunk):  # the rest is never read: the batch is cut here
                    over_host = len(out) >= HOST_OUTPUT_LIMIT
                    cut = (
                        cut_reason(HOST_OUTPUT_LIMIT, False)
                        if over_host or budget is None
                        else cut_reason(budget.limit, True)
                    )
                    break
            finished = channel.eof_received and cut is None
            while channel.recv_stderr_ready() and len(err) < 65536:
                err += channel.recv_stderr(65536)
            if not finished:  # cut off: by the deadline or by an output limit
                channel.close()
                return result(None)
            # recv_exit_status() would wait without limit: wait on its event with what is left of the deadline.
            if not channel.status_event.wait(max(deadline - time.monotonic(), 1.0)):
                channel.close()
                return result(None)
            rc = channel.recv_exit_status()
            while channel.recv_stderr_ready() and len(err) < 65536:
                err += channel.recv_stderr(65536)
            channel.close()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if budget is not None:
                budget.give_back(len(out))
            raise HostError(f"{self.address}: SSH session failed: {exc}") from None
        return result(rc)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _discard(self) -> None:
        # After a failed handshake: close the client first so its reader thread ends quietly.
        self.close()
        if self._sock is not None:
            self._sock.close()

    def abort(self) -> None:
        # From another thread, mid-handshake: close the socket first so blocked reads return now.
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()
        self.close()


def _stalled_stage(client: paramiko.SSHClient) -> str | None:
    """Where a handshake that ended without an error of its own stopped; None when it did complete.

    paramiko gives up waiting without saying so and then reports "No existing session".
    """
    transport = client.get_transport()
    if transport is None or transport.is_authenticated():
        return None
    if not transport.remote_version:
        return "the server accepted the connection but sent no SSH banner"
    if not transport.initial_kex_done:
        return f"the server ({transport.remote_version[:80]}) did not finish the key exchange"
    return None


@functools.lru_cache(maxsize=32)
def _load_key(path: str, mtime: float) -> paramiko.PKey:
    return paramiko.PKey.from_path(path)


def _private_key(path: str | None) -> paramiko.PKey | None:
    """The key in ``path``, read once per run however many hosts use it (None: agent and default keys)."""
    if path is None:
        return None
    try:
        return _load_key(path, os.stat(path).st_mtime)
    except FileNotFoundError:
        raise HostError(f"private key file not found: {path}") from None
    except paramiko.PasswordRequiredException:
        raise HostError(f"private key {path} is encrypted: load it into ssh-agent (no passphrases)") from None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise HostError(f"cannot read private key {path}: {exc}") from None


def _fingerprint(key: paramiko.PKey) -> str:
    return base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
