"""Helpers of the drill profiles (drillstrong, drillweak): backup archives made at lab time."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

CANARY = "/etc/drill-canary"


def tar_gz(members: dict[str, bytes], mtime: float) -> bytes:
    """A tar.gz as ``tar -czf X /etc/...`` writes it: member names without the leading "/"."""
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
            tar.addfile(info, io.BytesIO(data))
    return payload.getvalue()


def archive(root: Path, path: str, data: bytes, mtime: float) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    p.chmod(0o600)
    os.utime(p, (mtime, mtime))
