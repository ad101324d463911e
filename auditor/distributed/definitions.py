"""What a verdict means on each side: one digest of the auditor's version, its catalog of checks and the
playbook, computed by the coordinator and by every worker.

A worker of another version, with another catalog or another copy of a built-in playbook, plans the
same check ids with other commands, thresholds or parameters: its verdicts are not this machine's.
The coordinator merges a shard only when the worker's digest equals its own.
"""

from __future__ import annotations

import functools
import hashlib

import auditor
from auditor.paths import controls_dir


@functools.cache  # the catalog is read once a process too (load_catalog): the digest is of that reading
def _catalog() -> str:
    digest = hashlib.sha256(auditor.__version__.encode())
    root = controls_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        digest.update(f"\0{name}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def digest(playbook_text: str) -> str:
    """The digest of this machine's definitions with ``playbook_text`` (newlines as Python reads text)."""
    return hashlib.sha256(f"{_catalog()}\0{playbook_text}".encode()).hexdigest()[:32]
