"""A distributed run when its broker fails under it: a real redis-server and a real worker on loopback.

The hosts are loopback listeners that accept a connection and never answer: each host ends in
``error`` after the connect timeout, so a shard takes a few seconds and the broker can be
restarted, filled or stopped while one runs. No address other than 127.0.0.1 is contacted."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.redis_server import RedisServer, running_redis

CONNECT_S = "3"


@pytest.fixture
def silent_hosts() -> Iterator[list[int]]:
    """Ports of listeners that accept and never send an SSH banner."""
    listeners = []
    for _ in range(4):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        listeners.append(s)
    held: list[socket.socket] = []

    def hold(listener: socket.socket) -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    for s in listeners:
        threading.Thread(target=hold, args=(s,), daemon=True).start()
    yield [s.getsockname()[1] for s in listeners]
    for s in [*listeners, *held]:
        s.close()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def start_worker(
    redis: RedisServer, tmp: Path, name: str = "w1@loopback", code: Path = REPO, queue: str = "default"
) -> subprocess.Popen[bytes]:
    from auditor.distributed.app import make_app

    key = tmp / "worker_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp / "known_hosts").touch()
    with open(tmp / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "worker", "--queue", queue, "--allow-net", "127.0.0.1/32", "--jobs", "4",
             "--name", name, "--identity", str(key), "--known-hosts", str(tmp / "known_hosts"),
             "--visibility-timeout", "30"],
            cwd=code, env={**os.environ, "AUDITOR_BROKER": redis.url, "PYTHONPATH": str(code)}, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    app = make_app(redis.url, 30)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=1.0):
        assert proc.poll() is None and time.monotonic() < deadline, (tmp / f"{name}.log").read_text()[-3000:]
    return proc


def start_run(
    redis: RedisServer, tmp: Path, ports: list[int], *extra: str, segment: str = "default"
) -> subprocess.Popen[str]:
    inv = tmp / "inv.ini"
    inv.write_text(
        f"[silent:vars]\nsegment={segment}\n[silent]\n"
        + "".join(f"h{i} ansible_host=127.0.0.1 ansible_port={p} ansible_user=auditor\n" for i, p in enumerate(ports))
    )
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", "run", "--distributed", "-i", str(inv), "--known-hosts",
         str(tmp / "known_hosts"), "-o", str(tmp / "out"), "--no-network", "--no-history", "--connect-timeout",
         CONNECT_S, "--shard-size", "1", *extra],
        cwd=REPO, env={**os.environ, "AUDITOR_BROKER": redis.url}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def hosts_of(tmp: Path) -> dict[str, dict[str, Any]]:
    hosts = json.loads((tmp / "out" / "results.json").read_text())["hosts"]
    names = [h["name"] for h in hosts]
    assert len(names) == len(set(names)), names
    return {h["name"]: h for h in hosts}


def test_a_broker_restarted_without_its_data_has_the_lost_shards_sent_again(
    redis: RedisServer, silent_hosts: list[int], tmp_path: Path
) -> None:
    worker = start_worker(redis, tmp_path)
    try:
        run = start_run(redis, tmp_path, silent_hosts, "--segment-timeout", "60", "--visibility-timeout", "30")
        client = redis.client()
        deadline = time.monotonic() + 60
        while not client.hlen("unacked"):  # the worker holds the first shard: the others wait in the queue
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.05)
        redis.restart_empty()
        try:
            _, err = run.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            run.kill()
            pytest.fail("the run waited for shards the broker no longer held")
    finally:
        worker.terminate()
        worker.wait(30)
    assert "Traceback" not in err
    hosts = hosts_of(tmp_path)
    assert sorted(hosts) == ["h0", "h1", "h2", "h3"]
    for h in hosts.values():  # each host was audited by the worker: its own error, not a lost shard's
        assert "SSH handshake did not complete" in h["error"], h["error"]


def test_a_full_broker_gives_the_hosts_its_reason_not_a_traceback(
    redis: RedisServer, silent_hosts: list[int], tmp_path: Path
) -> None:
    (tmp_path / "known_hosts").touch()
    client = redis.client()
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1")  # every write refused: the first shard sent is refused
    run = start_run(redis, tmp_path, silent_hosts, "--segment-timeout", "5")
    _, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert "Traceback" not in err
    hosts = hosts_of(tmp_path)
    assert sorted(hosts) == ["h0", "h1", "h2", "h3"]
    for h in hosts.values():
        assert h["status"] == "error" and h["error"].startswith(
            "the broker did not take this host's shard for 5 s: "
        ), h
        assert "maxmemory" in h["error"] and redis.password not in h["error"]


def test_a_broker_that_may_evict_keys_is_refused_before_the_run(
    redis: RedisServer, silent_hosts: list[int], tmp_path: Path
) -> None:
    (tmp_path / "known_hosts").touch()
    client = redis.client()
    client.config_set("maxmemory", "200mb")
    client.config_set("maxmemory-policy", "allkeys-lru")
    run = start_run(redis, tmp_path, silent_hosts)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert "maxmemory-policy allkeys-lru" in err and "noeviction" in err and redis.password not in err
    assert not (tmp_path / "out").exists()


def test_a_worker_with_other_check_definitions_has_its_verdicts_refused(
    redis: RedisServer, silent_hosts: list[int], tmp_path: Path
) -> None:
    other = tmp_path / "other-version"
    for part in ("auditor", "controls", "playbooks"):
        shutil.copytree(REPO / part, other / part, ignore=shutil.ignore_patterns("__pycache__"))
    check_file = sorted((other / "controls" / "iso27001" / "checks").glob("*.yaml"))[0]
    check_file.write_text(check_file.read_text() + "\n# a check changed in another version\n")
    worker = start_worker(redis, tmp_path, code=other)
    try:
        run = start_run(redis, tmp_path, silent_hosts, "--segment-timeout", "60")
        _, err = run.communicate(timeout=180)
    finally:
        worker.terminate()
        worker.wait(30)
    assert run.returncode == 3, err
    for h in hosts_of(tmp_path).values():
        assert h["status"] == "error" and "judges with other definitions than this machine" in h["error"], h["error"]
        assert all(r["status"] == "error" for r in h["results"])


def test_a_segment_named_like_a_key_of_the_broker_is_served_and_its_case_does_not_matter(
    redis: RedisServer, silent_hosts: list[int], tmp_path: Path
) -> None:
    worker = start_worker(redis, tmp_path, queue="unacked")  # kombu's own hash of messages in flight
    try:
        run = start_run(redis, tmp_path, silent_hosts, "--segment-timeout", "20", segment="Unacked")
        _, err = run.communicate(timeout=180)
    finally:
        worker.terminate()
        worker.wait(30)
    assert "Traceback" not in err
    for h in hosts_of(tmp_path).values():
        assert "SSH handshake did not complete" in h["error"], h["error"]
    # A host's trouble is its error in the results, not a traceback in the worker's log.
    assert "Traceback" not in (tmp_path / "w1@loopback.log").read_text()


def test_a_database_password_on_the_command_line_of_a_distributed_run_is_refused(
    redis: RedisServer, tmp_path: Path
) -> None:
    (tmp_path / "inv.ini").write_text("[s]\nw1 ansible_host=127.0.0.2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "--distributed", "-i", str(tmp_path / "inv.ini"), "-o",
         str(tmp_path / "out"), "--db", "postgresql+psycopg://auditor:DB-PW-VALUE@127.0.0.1:1/auditor"],
        cwd=REPO, env={**os.environ, "AUDITOR_BROKER": redis.url}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "AUDITOR_DB" in proc.stderr, proc.stderr
    assert "DB-PW-VALUE" not in proc.stderr + proc.stdout and not (tmp_path / "out").exists()
