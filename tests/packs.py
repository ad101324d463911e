"""Helpers for the evidence-pack tests: real ed25519 keys made by ssh-keygen, an allowed_signers file,
a minimal drill folder, and the inspector's stock-tool check exactly as docs/evidence-packs.md shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IDENTITY = "officer@example.org"


def auditor(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


def make_key(folder: Path, name: str = "signing", passphrase: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(key)], check=True, timeout=30
    )
    return key


def allowed_signers(folder: Path, key: Path, identity: str = IDENTITY) -> Path:
    path = folder / f"allowed_signers.{key.name}"
    public = key.with_name(key.name + ".pub").read_text().strip()
    path.write_text(f'{identity} namespaces="auditor-evidence" {public}\n')
    return path


def minimal_drill(folder: Path, ident: str = "drill-2026-av") -> Path:
    """A drill output folder with only the drill.json fields the pack reads (schema and id): the drills
    themselves come from the drill command; the pack takes any folder that has a drill.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drill.json").write_text(json.dumps({"schema": "auditor.drill/1", "id": ident}) + "\n")
    (folder / "drill.html").write_text("<!doctype html><title>drill</title><p>minutes</p>\n")
    return folder


def stock_check(
    pack: Path, allowed: Path, workdir: Path, identity: str = IDENTITY
) -> list[subprocess.CompletedProcess]:
    """What an inspector runs: unzip, then the two lines of docs/evidence-packs.md, in the extracted folder."""
    workdir.mkdir(parents=True)
    unzip = subprocess.run(["unzip", "-q", str(pack), "-d", str(workdir)], capture_output=True, text=True, timeout=60)
    verify_line = ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", identity, "-n", "auditor-evidence"]
    with open(workdir / "SHA256SUMS", "rb") as sums:
        signature = subprocess.run(
            [*verify_line, "-s", "SHA256SUMS.sig"], stdin=sums, capture_output=True, text=True, cwd=workdir, timeout=60
        )
    digests = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], capture_output=True, text=True, cwd=workdir, timeout=60)
    return [unzip, signature, digests]
