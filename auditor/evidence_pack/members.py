"""Reading a zip that nobody vouches for yet: every entry name, type and size is checked before any
byte is read, members are read into memory under limits (nothing is extracted to disk), and a damaged
or truncated archive is a reason to refuse, never a traceback."""

from __future__ import annotations

import hashlib
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.evidence_pack import PackInvalid

# A year's evidence for a few thousand hosts is tens of MB; these leave room without letting a crafted
# archive make us inflate gigabytes.
MAX_PACK_BYTES = 4 << 30
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_MEMBERS = 100_000
# Deflate of JSON reaches ~20:1; 1000:1 on a large member is a bomb, not evidence.
MAX_RATIO = 1000
_RATIO_FLOOR = 1 << 20
_CHUNK = 1 << 20
_NAME_LIMIT = 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# What Windows will not create (an inspector extracts packs there too): these characters, device names
# (with any extension: NUL.txt is the device as well), a component ending in a dot or a space (dropped).
_WINDOWS_REFUSED = frozenset('<>:"|?*')
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]]
)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a path inside a pack (None when it can): relative, plain, no way out.

    Backslashes and control characters are refused too: sha256sum escapes such names in its lines,
    which would make SHA256SUMS differ from what ``sha256sum -c`` expects. So is every other character
    that is not printable (U+0085, U+2028: line breaks to some readers of SHA256SUMS, not to others),
    and every name Windows cannot extract as it is written."""
    if not name:
        return "an empty name"
    if len(name) > _NAME_LIMIT:
        return f"a name longer than {_NAME_LIMIT} characters"
    if "\\" in name or not name.isprintable():
        return "a backslash, control character or line separator in the name"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' component (escapes the pack)"
    if any(p in ("", ".") for p in parts):
        return "an empty or '.' component"
    return next(filter(None, map(windows_problem, parts)), None)


def windows_problem(part: str) -> str | None:
    """Why Windows cannot extract a file or folder named ``part`` as it is named (None when it can):
    refused, renamed or opened as a device there, and the inspector's ``sha256sum -c`` fails."""
    refused = sorted(_WINDOWS_REFUSED.intersection(part))
    if refused:
        return f"{' '.join(refused)} in {part!r}: characters Windows does not allow in file names"
    if part.endswith((".", " ")):
        return f"{part!r} ends with a dot or a space: Windows drops it"
    if part.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return f"{part!r} is a device name on Windows (CON, NUL, COM1…), with any extension"
    return None


def collisions(names: Iterable[str]) -> list[str]:
    """Names that are one file where case or Unicode normalisation does not tell names apart (Windows,
    macOS): extracted there, one overwrites the other and the inspector's ``sha256sum -c`` fails."""
    first: dict[str, str] = {}
    problems = []
    for name in names:
        key = unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())
        if first.setdefault(key, name) != name:
            problems.append(f"{name!r} and {first[key]!r} differ only by case or Unicode normalisation")
    return problems


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    problem = name_problem(info.filename)
    if problem:
        return problem
    mode = info.external_attr >> 16
    # Whatever system the entry names: unzip reads these bits as a Unix mode for several besides Unix
    # (Atari, BeOS, VMS…) and extracts a link.
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a directory" if stat.S_ISDIR(mode) else "a special file"
        return f"{kind}, not a regular file"
    if info.is_dir():
        return "a directory entry, not a regular file"
    if info.flag_bits & 0x1:
        return "an encrypted member"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"{info.file_size} bytes unpacked (limit {MAX_MEMBER_BYTES})"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"compressed {info.file_size // max(info.compress_size, 1)}:1 (a zip bomb?)"
    return None


@contextmanager
def opened(path: Path) -> Iterator[tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]]:
    """The archive and its entries, once every entry passed the checks; PackInvalid naming each one that did not."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PackInvalid([exc.strerror or str(exc)]) from None
    if size > MAX_PACK_BYTES:
        raise PackInvalid([f"{size} bytes, larger than any pack this tool makes ({MAX_PACK_BYTES})"])
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise PackInvalid([f"not a complete zip archive (truncated or damaged: {exc})"]) from None
    with archive:
        entries = archive.infolist()
        problems: list[str] = []
        if len(entries) > MAX_MEMBERS:
            problems.append(f"{len(entries)} entries (limit {MAX_MEMBERS})")
        seen: set[str] = set()
        total = 0
        for info in entries[:MAX_MEMBERS]:
            problem = _entry_problem(info)
            if problem:
                problems.append(f"entry {info.filename!r}: {problem}")
            if info.filename in seen:
                problems.append(f"entry {info.filename!r}: appears twice (which copy is the evidence?)")
            seen.add(info.filename)
            total += info.file_size
        problems += [f"entries {p}" for p in collisions(info.filename for info in entries[:MAX_MEMBERS])]
        if total > MAX_TOTAL_BYTES:
            problems.append(f"{total} bytes unpacked in all (limit {MAX_TOTAL_BYTES})")
        if problems:
            raise PackInvalid(problems)
        yield archive, entries


def read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member (the list, the signature, the manifest) whole, refused past ``limit`` bytes."""
    if info.file_size > limit:
        raise PackInvalid([f"{info.filename}: {info.file_size} bytes (at most {limit} expected)"])
    data = b"".join(_chunks(archive, info))
    return data


def sha256(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(archive, info):
        digest.update(chunk)
    return digest.hexdigest()


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes; zipfile stops at the declared size and checks the CRC at the end."""
    try:
        with archive.open(info) as fh:
            read = 0
            while chunk := fh.read(_CHUNK):
                read += len(chunk)
                if read > info.file_size:  # a lying header; zipfile should already stop here
                    raise PackInvalid([f"{info.filename}: more data than its header declares"])
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise PackInvalid([f"{info.filename}: damaged in the archive ({exc})"]) from None
