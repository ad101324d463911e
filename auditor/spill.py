"""Finished hosts kept small: their reasons and evidence on disk until the run's files are written.

A host's results are mostly evidence outputs (tens of KB a host); what the scores, waivers and
roll-ups need of them is each result's check and verdict. ``Spill.keep`` writes the evidence of a
finished host to a run-private file that has no name (opened unlinked, in the output folder: nothing
to clean up, nothing another process can open) and returns the host with only that; ``hydrate``
reads it back, one host at a time, whenever results.json, the history or the report reads the host.
The file lives as long as something refers to the ``Spill``: a caller of ``run.audit`` may read
``RunResult.document`` after the output folder is gone.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from auditor.model import CheckResult, Evidence, HostResult

_NO_EVIDENCE: list[Evidence] = []  # shared by every kept result: never appended to


@dataclass(slots=True)
class KeptHost(HostResult):
    """A finished host whose reasons and evidence are in a ``Spill`` (at ``offset``, ``length`` bytes)."""

    spill: Spill | None = None
    offset: int = 0
    length: int = 0


class Spill:
    def __init__(self, fd: int | None = None):
        """``fd``: a read-write file without a name, which the Spill closes when it is itself let go (the
        run's output folder's ``scratch``); None: one of the system's temporary folder."""
        if fd is None:
            with tempfile.TemporaryFile() as file:
                fd = os.dup(file.fileno())
        self._fd = fd
        weakref.finalize(self, os.close, fd)
        self._end = 0
        self._lock = threading.Lock()
        self._reasons: dict[str, str] = {}

    def keep(self, host: HostResult) -> KeptHost:
        """``host`` as the run keeps it: each result's check, verdict, reason (one text for the same
        reason on every host) and waiver; its evidence written here.
        A result whose evidence is a part of a shared run (``Evidence.source``) is kept whole: it is
        the network phase's, whose scan every such item refers to by identity."""
        record: list[Any] = []
        kept: list[CheckResult] = []
        for r in host.results:
            if any(e.source is not None for e in r.evidence):
                record.append(None)
                kept.append(r)
                continue
            record.append([[e.command, e.rc, e.output, e.at, e.stderr, e.duration_ms] for e in r.evidence])
            reason = self._reasons.setdefault(r.reason, r.reason)
            kept.append(CheckResult(r.check, r.status, reason, _NO_EVIDENCE, r.waived_status, r.waiver))
        data = json.dumps(record).encode("ascii")  # escaped: a lone surrogate in an output survives
        with self._lock:
            offset = self._end
            os.lseek(self._fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._end += len(data)
        return KeptHost(host.host, host.status, host.error, kept, host.started, host.finished, self, offset, len(data))

    def read(self, host: KeptHost) -> HostResult:
        data = os.pread(self._fd, host.length, host.offset)
        if len(data) != host.length:
            raise OSError(f"the run's spill file ended early for host {host.host.name!r}")
        record = json.loads(data)
        results = []
        for i, r in enumerate(host.results):  # results past the record were added later (the network phase's)
            saved = record[i] if i < len(record) else None
            if saved is None:
                results.append(r)
                continue
            evidence = [Evidence(c, rc, out, at, err, ms) for c, rc, out, at, err, ms in saved]
            results.append(CheckResult(r.check, r.status, r.reason, evidence, r.waived_status, r.waiver))
        return HostResult(host.host, host.status, host.error, results, host.started, host.finished)


def hydrate(host: HostResult) -> HostResult:
    """The host with its reasons and evidence: read back if it was kept small, else as it is."""
    if isinstance(host, KeptHost) and host.spill is not None:
        return host.spill.read(host)
    return host
