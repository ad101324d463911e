"""What a distributed run must hold against an operator's mistakes and a misused broker: pure rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.distributed import credentials
from auditor.errors import InputError


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0?password=hunter2",
        "redis+socket:///run/redis.sock?PASSWORD=hunter2&db=1",
        "redis://auditor:hunter2@127.0.0.1:6379/0",
    ],
)
def test_a_shown_url_holds_no_password_wherever_it_sits(url: str) -> None:
    text = credentials.shown(url)
    assert "hunter2" not in text and "***" in text, text


def test_a_refused_broker_url_names_no_password_given_in_the_query() -> None:
    with pytest.raises(InputError, match="no Redis URL") as caught:
        credentials.check("broker", "amqp://127.0.0.1/?password=hunter2", "AUDITOR_BROKER")
    assert "hunter2" not in str(caught.value)


def owner_only(tmp_path: Path, name: str = "creds.yaml") -> Path:
    file = tmp_path / name
    file.write_text("broker: redis://:fromfile@127.0.0.1/0\n")
    file.chmod(0o600)
    return file


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_credentials_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_BROKER", raising=False)
    file = owner_only(tmp_path)
    os.chown(file, 65534, 65534)  # nobody's, mode 600: root could read it, but nobody chose the broker
    with pytest.raises(InputError, match="another user") as caught:
        credentials.resolve("broker", None, str(file))
    assert "fromfile" not in str(caught.value)
    link = tmp_path / "link.yaml"
    link.symlink_to(file)  # through a symlink: the file it reaches is what is judged
    with pytest.raises(InputError, match="another user"):
        credentials.resolve("broker", None, str(link))


def test_a_symlink_to_an_own_owner_only_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_BROKER", raising=False)
    link = tmp_path / "link.yaml"
    link.symlink_to(owner_only(tmp_path))
    assert credentials.resolve("broker", None, str(link)) == "redis://:fromfile@127.0.0.1/0"


@pytest.mark.parametrize("content", [b"broker: [unclosed\n", b"\xff\xfe broker: x\n"])
def test_an_unreadable_credentials_file_is_one_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.delenv("AUDITOR_BROKER", raising=False)
    file = tmp_path / "creds.yaml"
    file.write_bytes(content)
    file.chmod(0o600)
    with pytest.raises(InputError, match="not a YAML file"):
        credentials.resolve("broker", None, str(file))


def test_a_fifo_as_credentials_file_is_refused_without_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_BROKER", raising=False)
    fifo = tmp_path / "creds.fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(InputError, match="no regular file"):
        credentials.resolve("broker", None, str(fifo))


def test_the_definitions_digest_follows_the_playbook_text() -> None:
    from auditor.distributed import definitions

    assert definitions.digest("plays: []\n") == definitions.digest("plays: []\n")
    assert definitions.digest("plays: []\n") != definitions.digest("plays: [] # another copy\n")
