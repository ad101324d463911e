"""What a fact type is, and the registry the catalog and engine look fact types up in.

A fact type knows two things: the POSIX sh snippet(s) that read it on a host, and
how to turn the snippets' raw output into a small dict of values. Snippets are
deduplicated by their exact text, so ten checks asking for the process table cost
one ``ps`` on the host. Parsing is pure and runs on the auditor.
"""

from __future__ import annotations

import base64
import io
import re
import shlex
import tarfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from auditor.clock import Reference


@dataclass(frozen=True)
class RawOutput:
    stdout: str
    stderr: str
    rc: int | None  # None: the snippet never finished (host batch cut short)
    timed_out: bool = False
    # The auditor's clock around the run that printed this: ages are measured against it, not the host's.
    reference: Reference | None = None


class FactUnreadable(Exception):
    """The fact could not be read; the reason becomes the verdict's reason (error, never pass)."""


class FactType(ABC):
    name: ClassVar[str]
    os: ClassVar[frozenset[str]] = frozenset({"linux"})
    # JSON Schema of the parameters, checked when the catalog loads.
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}

    @abstractmethod
    def snippets(self, params: dict[str, Any]) -> list[str]:
        """Shell snippets to run on the host (each one deduplicated across the batch)."""

    def files(self, params: dict[str, Any]) -> list[str]:
        """Absolute path patterns (only ``*`` and ``?`` active, as in ``shell_glob``) of the files this
        fact reads whole: configuration it parses itself.

        A host's facts share one archive of all their files (one ``tar`` for sshd, syslog and logrotate
        instead of one each). The engine gives its output to ``parse`` last, after the outputs of the
        fact's own snippets; ``own_files`` reads this fact's files from it.
        """
        return []

    def merge_params(self, params: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Parameters whose one snippet serves every one of these facts (None: they cannot share).

        When a type can merge, the engine runs the merged snippet once per host and ``parse`` gets the
        shared output with each fact's own parameters, so it must judge only what its own asked for.
        """
        return None

    @abstractmethod
    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        """Turn raw outputs (same order as snippets) into values; raise FactUnreadable when it cannot tell."""

    def evidence_command(self, params: dict[str, Any], ran: list[str]) -> str:
        """The command kept as this fact's evidence: the snippets that ran (a type whose shared
        snippet is long may name its own equivalent instead, as long as it gives the same reading).
        A fact that reads files names the archive of its own files, not the host's shared one."""
        own_files = self.files(params)
        if not own_files:
            return "\n".join(ran)
        archive = files_snippet(own_files)
        shared = "" if ran[-1] == archive else "  # its files, from one archive shared by the host's facts"
        return "\n".join([*ran[:-1], archive + shared, "# the archive is shown decoded: each file after ==> path <=="])

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        """The output kept as this fact's evidence: all of it, unless the type shares its snippet
        (merge_params) and can pick out its own part. Files read (``files``) are shown decoded, this
        fact's only. Raise FactUnreadable when it cannot."""
        own = self.files(params)
        if not own:
            return "\n".join(r.stdout for r in outputs)
        texts, unreadable = own_files(outputs[-1], own)
        shown = [f"==> {path} <==\n{text}" for path, text in texts.items()]
        shown += [f"==> {path} <== unreadable" for path in unreadable]
        return "\n".join([*(r.stdout for r in outputs[:-1]), *shown])


class ScriptFact(FactType):
    """A fact read by one fixed snippet (``script``), whatever the parameters."""

    script: ClassVar[str]

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [self.script]


REGISTRY: dict[str, FactType] = {}


_T = TypeVar("_T", bound=type[FactType])


def register(cls: _T) -> _T:
    REGISTRY[cls.name] = cls()
    return cls


# --- helpers shared by fact types -------------------------------------------------

_GLOB_CHARS = re.compile(r"([*?])")


def quote(value: Any) -> str:
    """Quote one value for POSIX sh. Every value from a catalog, playbook or inventory goes through here."""
    return shlex.quote(str(value))


# --- values that become arguments of a command on a host ----------------------------------
# Quoting keeps a value one word; it does not stop a word that starts with "-" from being read as
# an option (find's -exec runs anything). So every such value is one of two kinds, checked before any
# host is contacted (the parameter schemas below) and again where the snippet is built (the helpers):
# an absolute path (it starts with "/", so no command reads it as an option), or a name that starts
# with a letter, digit or "_". No control character in either: a newline ends a shell line, and
# grep reads it as a second pattern.


class UnsafeValue(ValueError):
    """A value that would reach a command on a host in a form the command could read as an option."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Schema fragments for parameters that become arguments (jsonschema uses re.search: \Z, not $, which
# would accept a trailing newline).
ABS_PATH = {"type": "string", "pattern": r"^/[^\x00-\x1f\x7f]*\Z"}
# A whole-string "{{ param }}": allowed where the catalog declares it; the rendered value must then
# satisfy the rest of the schema (strict_schema), checked for every host before any is contacted.
TEMPLATE = {"type": "string", "pattern": r"^\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}\Z"}


def name_schema(chars: str = "A-Za-z0-9._@+:-") -> dict[str, Any]:
    """A name operand (package, unit, module, process): its first character cannot be "-"."""
    return {"type": "string", "pattern": f"^[A-Za-z0-9_][{chars}]*\\Z"}


def strict_schema(schema: Any) -> Any:
    """``schema`` without its ``TEMPLATE`` alternatives: what a rendered value must satisfy."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_schema(v) for k, v in schema.items()}
    if "anyOf" in schema:
        kept = [strict_schema(s) for s in schema["anyOf"] if s is not TEMPLATE]
        del out["anyOf"]
        if len(kept) == 1:
            out.update(kept[0])
        else:
            out["anyOf"] = kept
    return out


def check_path(value: Any) -> str:
    """``value`` if it is an absolute path (or path pattern) without control characters, else UnsafeValue."""
    text = str(value)
    if not text.startswith("/"):
        raise UnsafeValue(f"{text!r} is not an absolute path (it must start with /)")
    if _CONTROL.search(text):
        raise UnsafeValue(f"{text!r} holds a control character (newline, tab...)")
    return text


def check_name(value: Any) -> str:
    """``value`` if it is a name no command can read as an option, else UnsafeValue."""
    text = str(value)
    if not text or not (text[0].isascii() and (text[0].isalnum() or text[0] == "_")):
        raise UnsafeValue(f"{text!r} must start with a letter, a digit or _ (else a command may read it as an option)")
    if _CONTROL.search(text):
        raise UnsafeValue(f"{text!r} holds a control character (newline, tab...)")
    return text


def path_arg(value: Any) -> str:
    """An absolute path as one shell word (checked, then quoted)."""
    return quote(check_path(value))


def name_arg(value: Any) -> str:
    """A name operand as one shell word (checked, then quoted)."""
    return quote(check_name(value))


def glob_arg(pattern: Any) -> str:
    """An absolute path pattern with only ``*`` and ``?`` active (checked, then ``shell_glob``). What it
    expands to starts with "/" as well."""
    return shell_glob(check_path(pattern))


def shell_glob(pattern: str) -> str:
    """Quote a path pattern so that only ``*`` and ``?`` stay active as globs.

    ``/var/backups/db 1/*.tar.gz`` -> ``'/var/backups/db 1/'*'.tar.gz'``: spaces, quotes,
    ``$`` and ``;`` in the pattern can never reach the shell unquoted.
    """
    parts = _GLOB_CHARS.split(pattern)
    return "".join(p if p in ("*", "?") else (shlex.quote(p) if p else "") for p in parts)


def existing_files(paths: list[str], then: str = "", keep: str = '"$f"') -> str:
    """A loop appending ``keep`` (the path, by default) to "$@" for each existing regular file among
    ``paths``, after running ``then``; one process then reads them all. Start "$@" with ``set --``."""
    globs = " ".join(glob_arg(p) for p in paths)
    return f'for f in {globs}; do [ -f "$f" ] && {{ {then}set -- "$@" {keep}; }}; done; '


def files_snippet(patterns: list[str]) -> str:
    """Existing regular files among ``patterns`` as one tar archive, base64-encoded, after ``@@tar``.

    One archive carries names and contents, so file content can never fake a boundary, and two
    processes (tar, base64) read any number of files. Unreadable files are named on stderr by tar.
    """
    return (
        "set --; " + existing_files(patterns, keep='"${f#/}"')  # relative to -C /: no tar warning
        + 'echo @@tar; [ $# -eq 0 ] || tar -C / -chf - -- "$@" | base64'
    )  # fmt: skip


def parse_files(lines: list[str], stderr: str = "") -> tuple[dict[str, str], list[str]]:
    """(absolute path -> text, unreadable paths) from the output of ``files_snippet``."""
    files: dict[str, str] = {}
    data = "".join(lines).strip()
    if data:
        try:
            with tarfile.open(fileobj=io.BytesIO(base64.b64decode(data)), mode="r:") as archive:
                for member in archive.getmembers():
                    handle = archive.extractfile(member) if member.isfile() else None
                    if handle is not None:
                        files["/" + member.name.lstrip("/")] = handle.read().decode("utf-8", "replace")
        except (ValueError, tarfile.TarError) as exc:
            raise FactUnreadable(f"file archive is corrupt: {exc}") from None
    unreadable = [m.group(1) for m in re.finditer(r"tar: (\S+): Cannot open: (?:Permission denied)", stderr)]
    return files, ["/" + u.lstrip("/") for u in unreadable]


@lru_cache(maxsize=64)
def _archive(stdout: str, stderr: str) -> tuple[dict[str, str], list[str]]:
    """A host's shared archive, decoded once for all the facts that read it (and once for hosts built
    from one image, which print the same)."""
    return parse_files(sections(stdout).get("tar", []), stderr)


def own_files(raw: RawOutput, patterns: list[str], all_readable: bool = False) -> tuple[dict[str, str], list[str]]:
    """(path -> text, unreadable paths) of the files among ``patterns``, from the output of
    ``files_snippet`` (the host's shared archive: other facts' files are in it too).
    ``all_readable``: a file that could not be read makes the fact unreadable."""
    require_rc(raw, "reading configuration files")
    files, unreadable = _archive(raw.stdout, raw.stderr)
    mine = glob_matcher(tuple(patterns))
    own_unreadable = [path for path in unreadable if mine(path)]
    if all_readable and own_unreadable:
        raise FactUnreadable("cannot read " + ", ".join(own_unreadable) + " (permission denied?)")
    return {path: text for path, text in files.items() if mine(path)}, own_unreadable


@lru_cache(maxsize=256)
def glob_matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """Whether a path is one the host's shell expands from one of ``patterns`` (as ``shell_glob``
    quotes them: ``*`` and ``?`` active, all else literal). As sh: neither matches ``/``, and a
    wildcard never matches the leading dot of a name (``rsyslog.d/*`` is not ``rsyslog.d/.old``)."""
    return re.compile("(?:" + "|".join(_glob_regex(p) for p in patterns) + r")\Z").match


def _glob_regex(pattern: str) -> str:
    names = []
    for name in pattern.split("/"):
        regex = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in name)
        names.append(r"(?!\.)" + regex if name[:1] in ("*", "?") else regex)
    return "/".join(names)


def require_rc(raw: RawOutput, what: str, ok: tuple[int, ...] = (0,)) -> None:
    if raw.timed_out:
        raise FactUnreadable(f"{what} timed out")
    if raw.rc is None:
        raise FactUnreadable(f"{what} did not finish")
    if raw.rc not in ok:
        detail = first_line(raw.stderr) or first_line(raw.stdout) or "no output"
        raise FactUnreadable(f"{what} failed (exit {raw.rc}): {detail}")


_QUOTING = frozenset("\"'\\")
_SHELL_BLANKS = re.compile("[ \t\r\n]+")  # shlex's whitespace: not str.split's wider Unicode set


def split_words(line: str) -> list[str]:
    """Words of a configuration line as a POSIX shell splits them (quotes, backslashes); the
    common line, with neither, by a plain split on blanks (shlex costs 30 µs a line: 1 ms a host)."""
    if _QUOTING.intersection(line):
        return shlex.split(line)
    return [word for word in _SHELL_BLANKS.split(line) if word]


def first_line(text: str, limit: int = 200) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def sections(text: str, marker: str = "@@") -> dict[str, list[str]]:
    """Split output printed as ``@@name`` header lines followed by content lines."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(marker):
            current = out.setdefault(line[len(marker) :].strip(), [])
        elif current is not None:
            current.append(line)
    return out
