"""Tiny paramiko helpers for the lab tests (strict host-key checking)."""

from __future__ import annotations

from pathlib import Path

import paramiko


def connect(
    address: str, key: Path, known_hosts: Path, user: str = "auditor", timeout: float = 10.0
) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        address, username=user, key_filename=str(key), timeout=timeout,
        allow_agent=False, look_for_keys=False,
    )  # fmt: skip
    return client


def run(client: paramiko.SSHClient, command: str, timeout: float = 30.0) -> tuple[int, str, str]:
    _, out, err = client.exec_command(command, timeout=timeout)
    rc = out.channel.recv_exit_status()
    return rc, out.read().decode(errors="replace"), err.read().decode(errors="replace")
