"""Hand-written SSH methods the auditor is measured against, each run as its own process.

    python -m bench.ssh_methods floor|batched|naive TARGETS.json

TARGETS.json: {"hosts": [address, ...], "user", "key", "known_hosts", "concurrency", "snippets": [...]}
- floor:   TCP connect, SSH handshake with host-key check, public-key auth, close. Nothing is cheaper.
- batched: floor + one exec of ``sudo -n -- /bin/sh -s`` fed the same batch script the auditor sends.
- naive:   floor + one channel and one ``sudo`` per snippet, as InSpec/Train does.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko

from auditor import batch
from auditor.transports.ssh import quick_ack


def connect(address: str, user: str, key: paramiko.PKey, known: paramiko.HostKeys) -> paramiko.Transport:
    sock = socket.create_connection((address, 22), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(quick_ack(sock))  # as the auditor does: no 40 ms delayed-ACK stall
    transport.start_client(timeout=30)
    offered = transport.get_remote_server_key()
    if not known.check(address, offered):
        raise RuntimeError(f"{address}: host key not in known_hosts")
    transport.auth_publickey(user, key)
    return transport


def execute(transport: paramiko.Transport, command: str, stdin: str = "") -> tuple[int, bytes]:
    channel = transport.open_session()
    channel.exec_command(command)
    if stdin:
        channel.sendall(stdin.encode())
    channel.shutdown_write()
    out = bytearray()
    while chunk := channel.recv(65536):
        out += chunk
    rc = channel.recv_exit_status()
    channel.close()
    return rc, bytes(out)


def main() -> None:
    method, targets_file = sys.argv[1], Path(sys.argv[2])
    spec: dict[str, Any] = json.loads(targets_file.read_text())
    key = paramiko.Ed25519Key.from_private_key_file(spec["key"])
    known = paramiko.HostKeys(spec["known_hosts"])
    script = batch.build(spec["snippets"], timeout=30).script

    def one(address: str) -> int:
        transport = connect(address, spec["user"], key, known)
        try:
            if method == "batched":
                return execute(transport, "sudo -n -- /bin/sh -s", script)[0]
            if method == "naive":
                return max(execute(transport, "sudo -n -- /bin/sh -c " + shlex.quote(s))[0] for s in spec["snippets"])
            return 0
        finally:
            transport.close()

    with ThreadPoolExecutor(max_workers=spec["concurrency"]) as pool:
        list(pool.map(one, spec["hosts"]))


if __name__ == "__main__":
    main()
