"""A named run lock: at most one run of a name (a schedule's, or one given by hand) at a time on a machine.

The lock is a file ``NAME.lock`` in a folder of this user's alone (root: ``/run/auditor/locks``;
others: ``$XDG_RUNTIME_DIR/auditor/locks``), held with the same ``flock`` as the output folder's
lock: a second run exits 4 naming the holder's pid, machine and start time, and a lock whose
holder died (even by SIGKILL) is free again, because the kernel drops a flock with its holder.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

from auditor.errors import InputError
from auditor.output import OutputError, describe, lock_in

# Also a file name, a systemd unit name part and a cron.d file name (run-parts skips names with dots).
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,47}")


def check_name(name: str, field: str = "--lock") -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(
            f"{name!r} is not a lock or schedule name: a letter, then up to 47 letters, digits, '_' or '-'",
            field=field,
        )
    return name


def lock_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/run/auditor/locks")
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if not runtime or not os.path.isabs(runtime):
        raise OutputError("run lock: XDG_RUNTIME_DIR is not set to an absolute folder (it holds this user's locks)")
    return Path(runtime) / "auditor" / "locks"


class RunLock:
    def __init__(self, name: str, dir_fd: int, fd: int):
        self.name = name
        self._dir_fd = dir_fd
        self._fd = fd

    def release(self) -> None:
        # The file stays (as the output folder's): unlinking it would let a third run lock a new
        # file while a second one still holds the old one.
        for fd in (self._fd, self._dir_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = self._dir_fd = -1


def _unsafe_ancestor(folder: Path) -> str | None:
    """A folder above the lock folder that someone else may change: they could rename the lock folder
    away while a run holds it, and the next run would lock a fresh one. Sticky folders (/tmp) are fine:
    there only an entry's owner may rename it, and each entry below is checked in turn."""
    for ancestor in folder.absolute().parents:
        try:
            info = os.stat(ancestor)
        except OSError as exc:
            return f"{ancestor}: {describe(exc)}"
        if info.st_uid not in (0, os.geteuid()):
            return f"{ancestor} belongs to another user"
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
            return f"{ancestor} may be written by others"
    return None


def take(name: str, run_id: str, folder: Path | None = None) -> RunLock:
    """Hold the lock ``name``: FolderBusy (exit 4) when a live run holds it, OutputError (exit 3) otherwise."""
    check_name(name)
    folder = folder or lock_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise OutputError(f"run lock folder {folder}: {describe(exc)}") from None
    unsafe = _unsafe_ancestor(folder)
    if unsafe:
        os.close(dir_fd)
        raise OutputError(f"run lock folder {folder}: {unsafe}, who could swap the lock folder: refused")
    try:
        info = os.fstat(dir_fd)
        # Anyone who may write the folder may swap the lock file: then the lock means nothing.
        if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise OutputError(f"run lock folder {folder} is not this user's alone: refused")
        fd = lock_in(dir_fd, folder, run_id, name=f"{name}.lock", what=f"run lock {name!r}")
    except BaseException:
        os.close(dir_fd)
        raise
    return RunLock(name, dir_fd, fd)
