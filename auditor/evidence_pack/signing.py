"""OpenSSH signatures through ``ssh-keygen -Y``: the tool an inspector already has, so what we sign is
exactly what ``ssh-keygen -Y verify`` accepts.

ssh-keygen is always called with an argument list (no shell) and paths made absolute, so no file name
can be read as an option; it runs in a new session without a terminal and with a time limit, so a key
that wants a passphrase is an error message, never a prompt that hangs the pack.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.evidence_pack import NAMESPACE, SIGNATURE, PackInputError, PackInvalid, SigningUnavailable

_TIMEOUT = 60.0
_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


@dataclass(frozen=True)
class PublicKey:
    line: str  # "ssh-ed25519 AAAA…", without the key's comment
    key_type: str
    fingerprint: str  # "SHA256:…", as ssh-keygen -l and -Y verify print it


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningUnavailable("ssh-keygen not found: install openssh-client")
    return found


def _run(args: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [_ssh_keygen(), *args],
            input=data,
            capture_output=True,
            timeout=_TIMEOUT,
            start_new_session=True,  # no controlling terminal: ssh-keygen cannot prompt
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},  # no SSH_ASKPASS, no agent
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SigningUnavailable(f"ssh-keygen {args[0]} {args[1]} did not finish in {_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise SigningUnavailable(f"cannot run ssh-keygen: {exc.strerror or exc}") from None


def _said(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {proc.returncode}"


def fingerprint(key_line: str) -> str:
    """``SHA256:`` + unpadded base64 of the SHA-256 of the key blob (what ssh-keygen -l prints)."""
    try:
        blob = base64.b64decode(key_line.split()[1], validate=True)
    except (IndexError, binascii.Error):
        raise PackInputError(f"not an OpenSSH public key: {key_line[:60]!r}") from None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def public_key(key: Path) -> PublicKey:
    """The public half of a private key file, read with an empty passphrase (so a locked key fails here)."""
    path = key.absolute()
    if not path.is_file():
        raise PackInputError(f"signing key {key}: no such file")
    proc = _run(["-y", "-P", "", "-f", str(path)])
    if proc.returncode != 0:
        said = _said(proc)
        if "passphrase" in said:
            raise PackInputError(
                f"signing key {key} is protected by a passphrase: packs are signed without prompting; "
                "use a key made with `ssh-keygen -t ed25519 -N ''` kept where only the officer can read it"
            )
        if "bad permissions" in said:
            raise PackInputError(f"signing key {key} is readable by others: ssh-keygen refuses it (chmod 600 it)")
        raise PackInputError(f"signing key {key}: ssh-keygen cannot read it: {said}")
    # The type and the key only: the comment is free text (a newline in it would start a second line in
    # the allowed_signers line we print for the inspector, trusting whatever key follows it).
    fields = proc.stdout.decode("ascii", "replace").split()[:2]
    key_type = fields[0] if fields else ""
    if key_type != "ssh-ed25519":
        raise PackInputError(f"signing key {key} is {key_type or 'unknown'}: an ed25519 key is required")
    line = " ".join(fields)
    return PublicKey(line, key_type, fingerprint(line))


def sign(key: Path, data: bytes) -> bytes:
    """An armoured OpenSSH signature of ``data`` (namespace auditor-evidence)."""
    proc = _run(["-Y", "sign", "-n", NAMESPACE, "-f", str(key.absolute())], data)
    if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
        raise SigningUnavailable(f"ssh-keygen -Y sign failed: {_said(proc)}")
    return proc.stdout


def check_identity(identity: str) -> None:
    if not identity or any(c in _CONTROL for c in identity):
        raise PackInputError(f"--identity {identity!r}: an empty name or one with control characters")


def principals(allowed_signers: Path, signature: bytes) -> list[str]:
    """The identities of ``allowed_signers`` whose key made ``signature`` (none: the key is unknown)."""
    with _signature_file(signature) as sig:
        proc = _run(["-Y", "find-principals", "-f", str(allowed_signers.absolute()), "-s", sig])
    if proc.returncode != 0:
        return []
    return [p for p in proc.stdout.decode("utf-8", "replace").splitlines() if p.strip()]


def verify(allowed_signers: Path, identity: str, signature: bytes, data: bytes) -> str:
    """``ssh-keygen -Y verify``; its "Good … signature" line, or PackInvalid with what it said."""
    with _signature_file(signature) as sig:
        args = ["-Y", "verify", "-f", str(allowed_signers.absolute()), "-I", identity, "-n", NAMESPACE, "-s", sig]
        proc = _run(args, data)
    if proc.returncode != 0:
        raise PackInvalid([f"{SIGNATURE}: signature not valid for identity {identity!r}: {_said(proc)}"])
    return proc.stdout.decode("utf-8", "replace").strip()


@contextlib.contextmanager
def _signature_file(signature: bytes) -> Iterator[str]:
    """The signature in a private temporary folder (mode 0700): ssh-keygen reads it only from a file."""
    with tempfile.TemporaryDirectory(prefix="auditor-sig-") as folder:
        path = os.path.join(folder, SIGNATURE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(signature)
        yield path
