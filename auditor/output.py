"""Writing the run's files safely: one owner per output folder, no symlink followed, no half file.

Every file is written to a new temporary name in its folder (``O_CREAT|O_EXCL|O_NOFOLLOW``) and
renamed over the final name, relative to a descriptor of the folder opened once: a symlink planted
as ``report.html`` is replaced, never written through, and a folder swapped for a symlink after it
was opened changes nothing. A run holds the folder with ``flock`` on ``.auditor.lock`` from start
to end, so two runs cannot mix their files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import socket
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_NAME = ".auditor.lock"
# What a run writes; --force removes these (and only these) before a new run starts.
RUN_FILES = ("results.json", "report.html", "hosts.jsonl")
_TMP_SUFFIX = ".tmp"


class OutputError(Exception):
    """The environment refused an output (read-only, disk full, not ours): exit 3, one line."""


class FolderBusy(OutputError):
    """Another run holds the output folder: exit 4."""


def describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _open_dir(path: Path) -> int:
    """The folder, opened without following a symlink in its last component."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and path.is_symlink():
            raise OutputError(f"output folder {path} is a symbolic link: give the real folder") from None
        raise OutputError(f"cannot open output folder {path}: {describe(exc)}") from None


def _write_at(dir_fd: int, shown: Path, name: str, write: Callable[[IO[str]], None], mode: int = 0o600) -> None:
    """``name`` in the folder: a temporary file of our own, then rename (a symlink there is replaced)."""
    tmp = f".{name}.{secrets.token_hex(4)}{_TMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        raise OutputError(f"cannot write {shown / name}: {describe(exc)}") from None
    try:
        if mode != 0o600:
            os.fchmod(fd, mode)  # not through the umask: a unit or crontab must be readable whatever it is
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # a full disk or a failing device is reported here, not after the rename
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {shown / name}: {describe(exc)}") from None
        raise


def write_file(path: Path, write: Callable[[IO[str]], None], mode: int = 0o600) -> None:
    """One file outside a run folder (``auditor report --output``): same temporary file + rename."""
    folder = path.parent
    dir_fd = _open_followed(folder)
    try:
        _write_at(dir_fd, folder, path.name, write, mode)
    finally:
        os.close(dir_fd)


def _open_followed(path: Path) -> int:
    # The folder a user names for one file may be a link (e.g. ~/reports -> /srv/reports): that is
    # their choice; the file itself is still never written through a link.
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise OutputError(f"cannot open output folder {path}: {describe(exc)}") from None


class OutputFolder:
    """A run's output folder, held (locked) from ``take`` to ``release``."""

    def __init__(self, path: Path, dir_fd: int, lock_fd: int):
        self.path = path
        self._dir_fd = dir_fd
        self._lock_fd = lock_fd

    @classmethod
    def take(cls, path: Path, run_id: str, force: bool = False) -> OutputFolder:
        """Create or open the folder, refuse one another user owns, lock it, and clear a previous run.

        Without ``force`` a folder that holds anything but our lock file is refused: a second run
        would otherwise replace the first one's results. With ``force`` the previous run's files
        are removed first, so its complete results.json never stands beside this run's journal.
        """
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"output folder {path} exists and is not a folder") from None
        except OSError as exc:
            raise OutputError(f"cannot create output folder {path}: {describe(exc)}") from None
        dir_fd = _open_dir(path)
        try:
            info = os.fstat(dir_fd)
            if info.st_uid != os.geteuid():
                raise OutputError(
                    f"output folder {path} belongs to uid {info.st_uid}, not to this user (uid {os.geteuid()}): "
                    "refused, its owner could replace what the auditor writes"
                )
            lock_fd = lock_in(dir_fd, path, run_id)
        except BaseException:
            os.close(dir_fd)
            raise
        folder = cls(path, dir_fd, lock_fd)
        try:
            folder._clear(force)
        except BaseException:
            folder.release()
            raise
        return folder

    def _clear(self, force: bool) -> None:
        try:
            present = sorted(n for n in os.listdir(self._dir_fd) if n != LOCK_NAME)
        except OSError as exc:
            raise OutputError(f"cannot list output folder {self.path}: {describe(exc)}") from None
        if not present:
            return
        ours = [n for n in present if n in RUN_FILES or (n.startswith(".") and n.endswith(_TMP_SUFFIX))]
        if not force:
            shown = ", ".join(present[:5]) + (" …" if len(present) > 5 else "")
            raise OutputError(
                f"output folder {self.path} is not empty ({shown}): choose a new folder, "
                "or --force to replace a previous run's files"
            )
        for name in ours:  # unlink removes a symlink itself, never what it points to
            try:
                os.unlink(name, dir_fd=self._dir_fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OutputError(f"cannot remove {self.path / name}: {describe(exc)}") from None

    def write(self, name: str, write: Callable[[IO[str]], None]) -> None:
        _write_at(self._dir_fd, self.path, name, write)

    def write_text(self, name: str, text: str) -> None:
        self.write(name, lambda fh: fh.write(text))

    def scratch(self) -> int:
        """A read-write file of the folder that has no name (``O_TMPFILE``; elsewhere, a fresh name
        unlinked at once): room on disk for what a run holds until its files are written, gone with
        the descriptor. The caller closes it."""
        flags = os.O_RDWR | os.O_CLOEXEC
        try:
            return os.open(".", flags | os.O_TMPFILE, 0o600, dir_fd=self._dir_fd)
        except (AttributeError, OSError):  # no O_TMPFILE here, or not on this file system
            pass
        name = f".scratch-{secrets.token_hex(8)}{_TMP_SUFFIX}"
        try:
            fd = os.open(name, flags | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=self._dir_fd)
            os.unlink(name, dir_fd=self._dir_fd)
        except OSError as exc:
            raise OutputError(f"cannot create a scratch file in {self.path}: {describe(exc)}") from None
        return fd

    def unlink(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self._dir_fd)

    def journal(self, name: str = "hosts.jsonl") -> Journal:
        try:
            fd = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=self._dir_fd
            )
        except OSError as exc:
            raise OutputError(f"cannot write {self.path / name}: {describe(exc)}") from None
        return Journal(fd, self.path / name)

    def release(self) -> None:
        # The lock file stays: unlinking it would let a third run lock a new file while a second
        # one still waits on the old one.
        for fd in (self._lock_fd, self._dir_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._lock_fd = self._dir_fd = -1


def lock_in(dir_fd: int, path: Path, run_id: str, name: str = LOCK_NAME, what: str | None = None) -> int:
    """``flock`` on ``name`` in the folder, recording who holds it; FolderBusy (exit 4) naming the holder.

    The output folder's lock and the named run locks share this: the kernel drops a flock when its
    holder dies, so a lock left by a killed run is simply taken over.
    """
    what = what or f"output folder {path}"
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{path / name} is a symbolic link: refused") from None
        raise OutputError(f"cannot lock {what}: {describe(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise OutputError(f"{path / name} is not a file of this user: refused")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"{what} is in use by another run ({_holder(fd)})") from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run": run_id,
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        except OSError as exc:
            raise OutputError(f"cannot write {path / name}: {describe(exc)}") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = f", since {str(holder['since'])[:32]}" if "since" in holder else ""
        return f"pid {int(holder['pid'])} on {str(holder['host'])[:64]}, run {str(holder['run'])[:64]}{since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


class Journal:
    """``hosts.jsonl``: one whole line per finished host, or none (a full disk never leaves half a line)."""

    def __init__(self, fd: int, path: Path):
        self._fd = fd
        self.path = path
        self._size = 0

    def append(self, line: str) -> None:
        data = line.encode("utf-8")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # back to the last whole line
            raise OutputError(f"cannot write {self.path}: {describe(exc)}") from None
        self._size += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


@contextlib.contextmanager
def held(path: Path, run_id: str, force: bool = False) -> Iterator[OutputFolder]:
    folder = OutputFolder.take(path, run_id, force)
    try:
        yield folder
    finally:
        folder.release()
