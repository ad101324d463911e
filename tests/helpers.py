"""Helpers several test modules share (test modules import from here, never from each other)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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
