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


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "::ffff:7f00:1", "mapped.example"])
def test_an_ipv4_mapped_address_is_judged_as_the_ipv4_address_it_reaches(address: str) -> None:
    from auditor.distributed import allow

    # Every IPv6 address allowed, IPv4 only one segment: ::ffff:127.0.0.1 connects to 127.0.0.1.
    networks = allow.parse_networks(["10.1.0.0/24", "::/0"])
    dns = {"mapped.example": ["::ffff:127.0.0.1"]}
    reason = allow.refusal(address, networks, lambda name: dns[name])
    assert reason is not None and "outside its allowed networks" in reason
    assert allow.refusal("::ffff:10.1.0.7", networks) is None


def shard(hosts: list[dict[str, object]], **settings: object) -> dict[str, object]:
    return {
        "run": "r",
        "shard": 0,
        "segment": "default",
        "playbook": {"name": "baseline"},
        "params": {},
        "settings": {"connect_timeout": 5, "fact_timeout": 30, "deadline_s": 100, **settings},
        "hosts": hosts,
    }


def worker_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from auditor.distributed import allow
    from auditor.distributed.worker import WorkerSettings

    return WorkerSettings(allow.parse_networks(["10.1.0.0/24"]), tmp_path / "key", tmp_path / "kh", 2, "w@test", 60)


def test_a_task_of_more_hosts_than_any_shard_is_dropped_unread(tmp_path: Path) -> None:
    from auditor.distributed.worker import audit_shard

    hosts = [{"name": f"h{i}", "address": "192.0.2.1"} for i in range(10_001)]
    got = audit_shard(shard(hosts), worker_settings(tmp_path))
    assert got["hosts"] == [] and got["errors"] == {} and "no shard" in got["dropped"]


def test_the_time_limit_covers_resolving_the_names_of_a_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from auditor.distributed import worker

    def slow_refusal(address: str, networks: object) -> str:  # a DNS server that answers slowly
        time.sleep(0.4)
        return f"refused by this worker: {address} is outside"

    monkeypatch.setattr(worker.allow, "refusal", slow_refusal)
    hosts = [{"name": f"h{i}", "address": f"n{i}.example"} for i in range(10)]
    monkeypatch.setattr(worker, "deadline", lambda visibility: 1.0)
    started = time.monotonic()
    got = worker.audit_shard(shard(hosts), worker_settings(tmp_path))
    # The limit stops the shard while its names are still being resolved (10 x 0.4 s).
    assert time.monotonic() - started < 2.5
    stopped = [n for n, why in got["errors"].items() if "time limit (1 s)" in why]
    assert stopped and len(got["errors"]) == 10


@pytest.mark.parametrize(
    ("value", "expected"), [(float("nan"), 9.0), (float("inf"), 9.0), ("x", 9.0), (-5, 1.0), (3, 3.0)]
)
def test_a_task_number_is_held_within_the_worker_bounds(value: object, expected: float) -> None:
    from auditor.distributed.worker import _bounded

    assert _bounded(value, 1.0, 9.0) == expected


def test_a_worker_applies_no_waiver_and_reads_no_waivers_file_a_task_names(tmp_path: Path) -> None:
    import yaml

    from auditor.distributed.worker import _playbook, _task_params

    text = (
        "name: mine\nwaivers: ../../root/.ssh/id_ed25519\n"
        "params: {evidence_dir: /root/.ssh, log_server: 10.1.0.2}\nplays: [{hosts: [all], checks: ['LNX-*']}]\n"
    )
    written = yaml.safe_load(Path(str(_playbook({"name": "mine", "text": text}, tmp_path))).read_text())
    assert "waivers" not in written and written["params"] == {"log_server": "10.1.0.2"}
    assert written["plays"] == [{"hosts": ["all"], "checks": ["LNX-*"]}]
    plain = "name: plain\nplays: []\n"  # nothing to leave out: the text as sent
    assert Path(str(_playbook({"text": plain}, tmp_path))).read_text() == plain
    assert _task_params({"evidence_dir": "/root", "log_server": "x"}) == {"log_server": "x"}
