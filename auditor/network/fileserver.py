"""PT-USB's other half: the agency's file server answers and lists a folder for an authenticated user.

``file_server`` is a URL: ``sftp://user@host[:port]/path``. SFTP is read with
paramiko, the host key verified against the run's known_hosts (refused when
unknown, as for audited hosts) and the key file of ``file_server_key`` (or the
SSH agent and default keys). SMB and FTPS need passwords, which the auditor never
accepts: they are reported as ``error`` (not checkable), never as pass.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import paramiko

from auditor import addresses
from auditor.transports import ConnectOptions

SUPPORTED = ("sftp",)


@dataclass
class FileServerReport:
    url: str
    answered: bool | None = None
    listed: bool | None = None
    entries: list[str] = field(default_factory=list)
    error: str | None = None
    transcript: list[str] = field(default_factory=list)


def parse_url(url: str) -> tuple[str, str, int, str | None, str]:
    """(scheme, host, port, user, path) of a file_server URL, host by ``addresses``' strict grammar.
    Pure; raises ValueError."""
    try:
        parts = addresses.url(url, ("sftp", "smb", "ftps"), allow_user=True)
    except addresses.AddressError as exc:
        raise ValueError(
            f"file_server {exc}: expected sftp://[user@]host[:port]/path (smb:// and ftps:// "
            "are recognised but need passwords, which the auditor does not accept)"
        ) from None
    return parts.scheme, parts.host, parts.port, parts.user, parts.path


def probe(url: str, key_file: str | None, connect: ConnectOptions, timeout: float = 10.0) -> FileServerReport:
    report = FileServerReport(url)
    try:
        scheme, host, port, user, path = parse_url(url)
    except ValueError as exc:
        report.error = str(exc)
        return report
    if scheme not in SUPPORTED:
        report.error = f"{scheme}:// listing is not supported (it needs a password); use sftp:// to check it"
        return report
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        report.answered = False if isinstance(exc, ConnectionRefusedError) else None
        report.error = f"{host}:{port}: {exc.strerror or exc}"
        report.transcript.append(report.error)
        return report
    report.answered = True
    client = paramiko.SSHClient()
    for name, keys in connect.host_keys.keys.items():
        for key_type, key in keys.items():
            client.get_host_keys().add(name, key_type, key)
    client.set_missing_host_key_policy(connect.host_keys.policy())
    try:
        client.connect(
            host,
            port=port,
            username=user,
            key_filename=key_file,
            sock=sock,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            allow_agent=key_file is None,
            look_for_keys=key_file is None,
        )
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)
        report.entries = sorted(sftp.listdir(path))
        report.listed = True
        report.transcript.append(
            f"sftp {user or ''}@{host}:{port} ls {path}: {len(report.entries)} entries: "
            + ", ".join(report.entries[:20])
        )
    except paramiko.AuthenticationException as exc:
        report.listed = False
        report.error = f"authentication failed for {user!r}: {exc}"
    except (paramiko.SSHException, OSError, EOFError) as exc:
        text = str(exc)
        if "not found in known_hosts" in text:
            text = f"host key of {host} unknown: not in {connect.known_hosts}; refused before login"
        report.error = f"sftp {host}:{port} {path}: {text}"
        if isinstance(exc, FileNotFoundError | PermissionError):
            report.listed = False
    finally:
        client.close()
        sock.close()
    if report.error:
        report.transcript.append(report.error)
    return report
