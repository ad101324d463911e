"""Unit-test helpers: real captured tool outputs from tests/unit/data (see its README.md)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

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


def raw(stdout: str, rc: int = 0, stderr: str = "") -> RawOutput:
    return RawOutput(stdout=stdout, stderr=stderr, rc=rc)
