"""Unit-test helpers: real captured tool outputs from tests/unit/data (see its README.md)."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path

import pytest

from auditor.clock import Reference
from auditor.facts.base import RawOutput

DATA = Path(__file__).parent / "data"


class Captures:
    def text(self, rel: str) -> str:
        return (DATA / rel).read_text(encoding="utf-8")

    def run(self, stem: str) -> tuple[str, str, int]:
        """(stdout, stderr, rc) of one captured command."""
        rc_file = DATA / f"{stem}.rc"
        return self.text(f"{stem}.out"), self.text(f"{stem}.stderr"), int(rc_file.read_text().strip())

    def b64(self, rel: str) -> str:
        return base64.b64encode((DATA / rel).read_bytes()).decode()


@pytest.fixture
def captures() -> Captures:
    return Captures()


def raw(stdout: str, rc: int = 0, stderr: str = "", at: float | None = None, tolerance: float = 300) -> RawOutput:
    """``at``: the auditor's clock when the host printed it (ages are measured against it)."""
    reference = None if at is None else Reference(at, at, tolerance)
    return RawOutput(stdout=stdout, stderr=stderr, rc=rc, reference=reference)


def tar_section(files: dict[str, str]) -> str:
    """What ``files_snippet`` prints for these files: ``@@tar`` and a real GNU tar archive, base64."""
    if not files:
        return "@@tar\n"  # the snippet runs no tar when no file exists
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in files.items():
            target = Path(tmp) / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        archive = subprocess.run(
            ["tar", "-C", tmp, "-chf", "-", "--", *(p.lstrip("/") for p in files)], capture_output=True, check=True
        ).stdout
    return "@@tar\n" + base64.encodebytes(archive).decode()
