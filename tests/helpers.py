"""Helpers several test modules share (test modules import from here, never from each other)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
# The day the example attestations of evidence/ were written: every one of them passes on that day.
EXAMPLES_WRITTEN = dt.date(2026, 11, 23)
_ATTESTATION_DATE = re.compile(r"^(\s*(?:- )?(?:date|valid_until):[ \t]*)(\d{4}-\d{2}-\d{2})[ \t]*$", re.M)


def auditor(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real ``auditor`` command, on this checkout's code, with this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


class SilentServer:
    """A real TCP listener that accepts and never speaks SSH: a host that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.sock.close()


def doc_block(page: str, heading: str, lang: str) -> str:
    """The first ```LANG block under the heading HEADING of a documentation page (path from the repository
    root): tests read the examples the pages show, so a page cannot drift from what is tested."""
    text = (REPO / page).read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"{page}: no heading {heading!r}"
    block = re.search(rf"^```{re.escape(lang)}[^\n]*\n(.*?)^```", match.group(1), re.M | re.S)
    assert block, f"{page}: no ```{lang} block under {heading!r}"
    return block.group(1)


def example_evidence(dest: Path, today: dt.date | None = None) -> Path:
    """A copy of the example folder evidence/ at DEST whose attestations are as old, and as far from expiry,
    on TODAY (the auditor's UTC today by default) as they were on the day they were written.

    The repository's file keeps fixed dates (it is documentation): judged as it is, its documents pass for a
    while, then grow older than their ``max_age_days`` and expire, and a test that expects ``pass`` would start
    failing on a calendar date with no change to the code. Only ``date`` and ``valid_until`` move; the
    documents, and so their SHA-256, are copied byte for byte."""
    today = today or dt.datetime.now(dt.UTC).date()
    shift = today - EXAMPLES_WRITTEN
    shutil.copytree(REPO / "evidence", dest)
    path = dest / "attestations.yaml"
    text = path.read_text(encoding="utf-8")

    def moved(match: re.Match[str]) -> str:
        return match.group(1) + (dt.date.fromisoformat(match.group(2)) + shift).isoformat()

    shifted, count = _ATTESTATION_DATE.subn(moved, text)
    attestations = yaml.safe_load(text)["attestations"]
    assert count == 2 * len(attestations), f"{path}: {count} dates moved for {len(attestations)} attestations"
    path.write_text(shifted, encoding="utf-8")
    return dest
