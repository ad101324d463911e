"""Tiny paramiko helpers for the lab tests (strict host-key checking), and one command on a lab host."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko

if TYPE_CHECKING:
    from tests.lab.lab import Lab


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


def on_host(lab: Lab, name: str, command: str) -> tuple[int, str, str]:
    """COMMAND as the audit account on the lab host NAME: (exit code, stdout, stderr)."""
    with connect(lab.host(name).address, lab.key, lab.known_hosts) as ssh:
        return run(ssh, command)


def output_of(lab: Lab, name: str, command: str) -> str:
    """COMMAND's stdout on the lab host NAME; it must succeed."""
    rc, out, err = on_host(lab, name, command)
    assert rc == 0, err
    return out


def root_output(lab: Lab, name: str, command: str) -> str:
    """COMMAND's stdout as root (``sudo -n sh -c``) on the lab host NAME, whatever its exit code."""
    return on_host(lab, name, f"sudo -n sh -c {shlex.quote(command)}")[1]
