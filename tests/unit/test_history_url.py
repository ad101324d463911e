"""Which history store a command uses, and how a message names it: never with its password."""

from __future__ import annotations

import pytest

from auditor.history import url as url_mod
from auditor.history.url import StoreError, chosen_url, default_url, parse, scrub, shown


def test_root_records_in_the_system_state_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(url_mod.os, "geteuid", lambda: 0)
    assert default_url() == "sqlite:////var/lib/auditor/history.db"


def test_a_user_records_in_their_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(url_mod.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'auditor' / 'history.db'}"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / '.local/share/auditor/history.db'}"


def test_the_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_DB", "sqlite:////env.db")
    assert chosen_url("sqlite:////option.db") == "sqlite:////option.db"
    assert chosen_url(None) == "sqlite:////env.db"
    monkeypatch.delenv("AUDITOR_DB")
    assert chosen_url(None) == default_url()


def test_the_password_is_masked_and_scrubbed() -> None:
    url = "postgresql+psycopg://auditor:s3cr%40t@db.example:5432/history"
    assert shown(url) == "postgresql+psycopg://auditor:***@db.example:5432/history"
    assert scrub('FATAL: password "s3cr@t" refused', url) == 'FATAL: password "***" refused'
    assert scrub("no password here", "sqlite:////x.db") == "no password here"


def test_a_url_that_is_no_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(StoreError) as caught:
        parse("postgres ql://user:hunter2@")
    assert "hunter2" not in str(caught.value) and "not a database URL" in str(caught.value)
