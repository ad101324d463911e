"""Helpers of the PT-AV profiles (avloadedold, avloadedfresh, avnoclamd): dpkg states and ClamAV
databases where clamd's configuration, not a fixed folder, says they are."""

from __future__ import annotations

import shutil
from pathlib import Path

from . import common as c


def dpkg_status(root: Path, package: str, status: str) -> None:
    """Set a package's ``Status:`` line in dpkg's status database (what dpkg-query reads)."""
    path = root / "var/lib/dpkg/status"
    stanzas = path.read_text().split("\n\n")
    for i, stanza in enumerate(stanzas):
        lines = stanza.splitlines()
        if f"Package: {package}" in lines:
            stanzas[i] = "\n".join(f"Status: {status}" if line.startswith("Status: ") else line for line in lines)
    path.write_text("\n\n".join(stanzas))


def database_in(root: Path, folder: str, built: float, mtime: float | None = None) -> Path:
    """A daily.cud built at ``built`` in ``folder`` (made and owned by clamav when it is new)."""
    made = c.clamav_db(root, built=built, mtime=mtime)
    target = root / folder.lstrip("/") / "daily.cud"
    if target == made:
        return made
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copystat(made.parent, target.parent)
    uid, gid = made.stat().st_uid, made.stat().st_gid
    shutil.chown(target.parent, uid, gid)
    made.rename(target)
    return target


def clamd_conf_first(root: Path, line: str) -> None:
    """Put ``line`` at the top of clamd.conf: clamd keeps the first value of an option it reads twice."""
    path = root / "etc/clamav/clamd.conf"
    path.write_text(line + "\n" + path.read_text())
