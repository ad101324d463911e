"""Safe YAML loading that remembers where every value came from, for every input file.

The data is loaded with ``yaml.safe_load`` semantics; alongside it we keep the
composed node tree, so an error about ``checks[3].expect.lte`` can name its line,
whether it comes from a JSON Schema (``schema_errors``) or from code (``YamlDoc.error``).
Inventories, playbooks and the catalog all read their files through here.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from auditor.errors import CatalogError, InputError, InputUnreadable

PathPart = str | int


@dataclass
class YamlDoc:
    file: str
    data: Any
    root: yaml.Node | None

    def line_of(self, path: tuple[PathPart, ...] | list[PathPart]) -> int | None:
        """1-based line of the value at ``path`` (or of its nearest existing parent)."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        node = value_node
                        line = key_node.start_mark.line + 1
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(
        self, error_type: type[InputError], path: tuple[PathPart, ...] | list[PathPart], message: str
    ) -> InputError:
        return error_type(message, file=self.file, line=self.line_of(path), field=format_path(path) or None)


def format_path(path: tuple[PathPart, ...] | list[PathPart]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(path: Path, error_type: type[InputError] = InputError, display: str | None = None) -> YamlDoc:
    name = display or str(path)
    return parse_yaml(read_source(path, error_type, name), name, error_type)


MAX_SOURCE_BYTES = 256 << 20  # bigger is no inventory, playbook or catalog (and /dev/zero would never end)
# What the user can fix in the file or its name (exit 2); anything else is the system refusing (exit 3).
_INPUT_ERRNOS = {errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG}


def read_source(path: Path, error_type: type[InputError] = InputError, display: str | None = None) -> str:
    """The text of an input file, or one error naming it: never a traceback, never half a file."""
    name = display or str(path)
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                raise error_type("not a regular file", file=name)
            data = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if exc.errno in _INPUT_ERRNOS:
            raise error_type(f"cannot read: {reason}", file=name) from None
        raise InputUnreadable(f"cannot read: {reason}", file=name) from None
    if len(data) > MAX_SOURCE_BYTES:
        raise error_type(f"larger than {MAX_SOURCE_BYTES >> 20} MiB: not an input file", file=name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error_type(f"not UTF-8 text (byte {exc.start}: {exc.reason})", file=name, line=line) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise error_type("a NUL byte: this is a binary file, not text", file=name, line=line)
    return text


# libyaml when present: the catalog is read on every run, and the pure-Python parser takes ~1 s for it.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ValueRefused(Exception):
    """A scalar the safe constructor refuses (2027-02-30), with the line it stands on."""

    def __init__(self, line: int, cause: Exception):
        super().__init__(str(cause))
        self.line = line


class _LinedConstructor(yaml.constructor.SafeConstructor):
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _ValueRefused(node.start_mark.line + 1, exc) from None


def _construct(root: yaml.Node | None) -> Any:
    """The data of a composed tree, built by the safe constructor (what ``yaml.safe_load`` would return)."""
    if root is None:
        return None
    return _LinedConstructor().construct_document(root)


# Bounds on what one YAML document may stand for. Aliases share nodes, so a few hundred bytes of
# anchors can stand for 10^9 values ("billion laughs"): everything that walks the data (duplicate
# keys, typing parameters, results.json) would expand them. And libyaml's composer recurses in C
# for every nesting level: some tens of thousands of '[' crash the process (SIGSEGV).
MAX_NODES = 1_000_000  # values the document stands for, aliases expanded, beyond those it writes out
MAX_DEPTH = 500


def _flow_or_block_marks(text: str) -> int:
    """An upper bound on the nesting depth of ``text``: every level needs one of these characters."""
    return sum(text.count(ch) for ch in "[{-:?")


def _check_depth(text: str, name: str, error_type: type[InputError]) -> None:
    """Refuse a document nested deeper than MAX_DEPTH before libyaml composes it (its parser, unlike its
    composer, keeps an explicit stack)."""
    if _flow_or_block_marks(text) <= MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise error_type(f"nested deeper than {MAX_DEPTH} levels: not an input file", file=name, line=line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_size(root: yaml.Node | None, text: str, name: str, error_type: type[InputError]) -> None:
    """Refuse a document whose aliases make it stand for MAX_NODES values more than the nodes it
    holds (a big inventory written out is fine; a small text standing for a huge one is not). Each
    node is counted once (memoised), so this is linear in the text however the aliases multiply."""
    if root is None or "&" not in text:  # no anchor, no alias: every value is written out
        return
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        kids = _children(node)
        if done:
            total = 1 + sum(size.get(id(k), 0) for k in kids)
            if total > MAX_NODES + len(size):
                raise error_type(
                    f"its aliases expand to more than {MAX_NODES} values (a YAML bomb?)",
                    file=name,
                    line=node.start_mark.line + 1 if node.start_mark else None,
                )
            size[id(node)] = total
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml(text: str, name: str, error_type: type[InputError] = InputError) -> YamlDoc:
    try:
        _check_depth(text, name, error_type)
        # One parse: compose the node tree (it keeps line numbers), then build the data from it with the safe
        # constructor only. No tag outside the safe set can become an object.
        root = yaml.compose(text, Loader=_Loader)
        _check_size(root, text, name, error_type)
        data = _construct(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise error_type(message, file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise error_type(f"invalid YAML: {exc}", file=name) from None
    except _ValueRefused as exc:
        raise error_type(f"invalid YAML value: {exc}", file=name, line=exc.line) from None
    _reject_duplicate_keys(root, name, error_type)
    return YamlDoc(file=name, data=data, root=root)


def _reject_duplicate_keys(root: yaml.Node | None, name: str, error_type: type[InputError]) -> None:
    # PyYAML silently keeps the last of two equal keys; in a security catalog that hides mistakes.
    # Each node is visited once: an alias is the node it names, not a copy to walk again.
    visited: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    raise error_type(f"duplicate key {key!r}", file=name, line=key_node.start_mark.line + 1)
                seen.add(key)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


# --- JSON Schema, its first violation named by file, line and field ------------------------------


def dates_as_text(data: Any) -> Any:
    """``data`` with every date as ISO text: YAML reads 2026-11-01 as a date, JSON Schema speaks JSON."""
    if isinstance(data, dict):
        return {k: dates_as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [dates_as_text(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


# Text a person wrote that must say something (a name, a justification): not empty, not only blanks.
NONBLANK_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S"}

# Text a report shows in either of its languages.
BILINGUAL_TEXT: dict[str, Any] = {
    "type": "object",
    "properties": {"en": {"type": "string", "minLength": 1}, "vi": {"type": "string", "minLength": 1}},
    "required": ["en", "vi"],
    "additionalProperties": False,
}

_VALIDATORS: dict[int, tuple[dict[str, Any], jsonschema.Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # Building a validator costs more than running it on one small document; schemas are module constants.
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft202012Validator(schema))
    return cached[1]


def schema_errors(
    doc: YamlDoc,
    schema: dict[str, Any],
    data: Any,
    prefix: tuple[Any, ...] = (),
    error_type: type[InputError] = CatalogError,
) -> None:
    """Raise an error naming file, line and field for the first violation of ``schema`` in ``data``
    (the value at ``prefix`` of the document)."""
    validator = _validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    path = prefix + tuple(err.absolute_path)
    message = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        if extra:
            path += (extra[0],)
            message = f"unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
    raise doc.error(error_type, path, message)
