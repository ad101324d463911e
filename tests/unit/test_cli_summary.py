"""The terminal summary shows what hosts send as text: no escape sequence reaches the terminal, no
tab or newline splits the one line a host gets, no rich markup is read from a host name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from auditor.cli import audit as cli

HOSTILE = "me\x1b]0;PWNED\x07\x1b[31mRED\t[bold]x[/bold]\nnext"


def document() -> dict:
    host = {"name": HOSTILE, "status": "error", "score": None, "plan_tasks": {"PT-AV": "error"},
            "error": f"refused by {HOSTILE}"}  # fmt: skip
    return {"run": {"playbook": "baseline", "complete": True}, "score": {"value": None, "coverage": None},
            "hosts": [host]}  # fmt: skip


def test_plain_summary_shows_controls_as_symbols(capsys: pytest.CaptureFixture[str]) -> None:
    cli.print_plain_summary(document(), Path("out"), [HOSTILE])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "me␛]0;PWNED␇␛[31mRED␉[bold]x[/bold]␊next" in out
    first = out.splitlines()[0].split("\t")
    assert len(first) == 5 and first[1] == "error"  # name, status, score, tasks, error: one line, five fields


def test_terminal_summary_reads_no_markup_and_sends_no_escape(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    cli.print_summary(document(), Path("out"), [])
    out = capsys.readouterr().out
    assert "\x1b]0;" not in out and "\x07" not in out  # rich's own colours may use ESC; the host's title may not
    assert "[bold]" in out  # shown as text: read as markup, it would vanish
