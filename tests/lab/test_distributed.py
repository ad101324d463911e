"""Distributed runs on the lab: two segments, each a lab on its own bridge and subnet, each with a worker
started inside its own network namespace that reaches only that segment's hosts. The broker is a real
redis-server with a password on a unix socket, which both worker namespaces reach as a file.

One distributed run across both segments (plus a host outside worker a's networks and a segment no worker
serves) is compared with a local run of the same hosts; then a worker is killed with SIGKILL while its
shard runs, and the shard is delivered again to the worker started in its place."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.lab.helpers import module_lab
from tests.lab.host import _die_with_parent, run
from tests.lab.lab import Lab
from tests.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.lab
VISIBILITY_S = "30"  # short, so the test sees a killed worker's shard delivered again


@dataclass
class Segment:
    name: str
    lab: Lab
    netns: str
    address: str  # the worker's address in the segment
    key: Path  # the worker's own SSH key
    known_hosts: Path


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Segment]]:
    with (
        module_lab(["compliant", "noncompliant"], "m", ".128/26") as lab_a,
        module_lab(["tricky", "minimal"], "p", ".192/26") as lab_b,
    ):
        tmp = tmp_path_factory.mktemp("workers")
        known = tmp / "known_hosts"
        known.write_text(lab_a.known_hosts.read_text() + lab_b.known_hosts.read_text())
        made: list[str] = []
        try:
            found = {}
            for name, lab in (("a", lab_a), ("b", lab_b)):
                netns = f"{lab.bridge}-w"
                key = tmp / f"worker_{name}_key"
                key.write_bytes(lab.key.read_bytes())
                key.chmod(0o600)
                found[name] = Segment(name, lab, netns, lab.addr(3), key, known)
                # The worker's namespace: one veth on its segment's bridge, no route anywhere else.
                run("ip", "netns", "add", netns)
                made.append(netns)
                run("ip", "link", "add", netns, "type", "veth", "peer", "name", "eth0", "netns", netns)
                run("ip", "link", "set", netns, "master", lab.bridge, "up")
                run("ip", "-n", netns, "addr", "add", f"{lab.addr(3)}/{lab.net.prefixlen}", "dev", "eth0")
                run("ip", "-n", netns, "link", "set", "eth0", "up")
                run("ip", "-n", netns, "link", "set", "lo", "up")
            yield found
        finally:
            for netns in made:
                for pid in run("ip", "netns", "pids", netns, check=False).stdout.split():
                    os.kill(int(pid), signal.SIGKILL)
                run("ip", "link", "del", netns, check=False)
                run("ip", "netns", "del", netns, check=False)


class Workers:
    def __init__(self, redis: RedisServer, segments: dict[str, Segment], logs: Path):
        self.redis, self.segments, self.logs = redis, segments, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, segment: str, tag: str = "") -> subprocess.Popen[bytes]:
        return self.wait_ready(*self.launch(segment, tag))

    def launch(self, segment: str, tag: str = "") -> tuple[str, subprocess.Popen[bytes]]:
        s = self.segments[segment]
        name = f"worker-{segment}{tag}@lab"
        cmd = ["ip", "netns", "exec", s.netns, sys.executable, "-m", "auditor", "worker",
               "--queue", segment, "--allow-net", str(s.lab.net), "--jobs", "4", "--name", name,
               "--identity", str(s.key), "--known-hosts", str(s.known_hosts),
               "--visibility-timeout", VISIBILITY_S]  # fmt: skip
        with open(self.logs / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "AUDITOR_BROKER": self.redis.url}, preexec_fn=_die_with_parent,
            )  # fmt: skip
        self.procs[segment] = proc
        return name, proc

    def wait_ready(self, name: str, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        from auditor.distributed.app import make_app

        app = make_app(self.redis.url, float(VISIBILITY_S))
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=1.0):
            assert proc.poll() is None, (self.logs / f"{name}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"worker {name} did not answer"
        return proc

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="module")
def workers(
    redis: RedisServer, segments: dict[str, Segment], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    pool = Workers(redis, segments, tmp_path_factory.mktemp("worker-logs"))
    try:
        started = [pool.launch("a"), pool.launch("b")]  # both boot at once
        for name, proc in started:
            pool.wait_ready(name, proc)
        yield pool
    finally:
        pool.stop()


def inventory(path: Path, segments: dict[str, Segment], extra: bool) -> Path:
    """Every lab host in its segment; ``extra``: a host worker a may not audit (an address of segment b)
    and a host of segment c, which no worker serves."""
    lines = []
    for s in segments.values():
        for h in s.lab.hosts:
            lines.append(
                f"{h.name} ansible_host={h.address} ansible_user=auditor ansible_become=true "
                f"ansible_ssh_private_key_file={s.lab.key} segment={s.name} log_server={s.lab.log_server}"
            )
    if extra:
        lines.append(f"intruder ansible_host={segments['b'].lab.hosts[0].address} ansible_user=auditor segment=a")
        lines.append(f"orphan ansible_host={segments['a'].lab.down_address} ansible_user=auditor segment=c")
    path.write_text("[servers]\n" + "\n".join(lines) + "\n")
    return path


def auditor_run(out: Path, inv: Path, known: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    cmd = [sys.executable, "-m", "auditor", "run", "-i", str(inv), "--known-hosts", str(known),
           "-o", str(out), "--no-network", "--jobs", "4", *extra]  # fmt: skip
    return subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )


def verdicts(out: Path) -> dict[str, dict[str, Any]]:
    """Each host's status and check verdicts; its ``error`` under ``reason``."""
    document = json.loads((out / "results.json").read_text())
    names = [h["name"] for h in document["hosts"]]
    assert len(names) == len(set(names)), names  # each host once
    return {
        h["name"]: {"status": h["status"], "reason": h["error"], **{r["check"]: r["status"] for r in h["results"]}}
        for h in document["hosts"]
    }


@pytest.fixture(scope="module")
def runs(
    workers: Workers, segments: dict[str, Segment], redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, dict[str, Any]], tuple[int, str, dict[str, dict[str, Any]]]]:
    """A local run of the lab hosts and a distributed run of the same hosts (and two it cannot audit), side by
    side: the distributed one spends most of its time waiting for segment c's missing worker."""
    tmp = tmp_path_factory.mktemp("runs")
    local = auditor_run(
        tmp / "local", inventory(tmp / "local.ini", segments, False), segments["a"].known_hosts,
        env={"AUDITOR_DB": f"sqlite:///{tmp / 'local-history.db'}"},  # two runs at once: a store each
    )  # fmt: skip
    distributed = auditor_run(
        tmp / "distributed", inventory(tmp / "distributed.ini", segments, True), segments["a"].known_hosts,
        "--distributed", "--shard-size", "1", "--segment-timeout", "15", "--visibility-timeout", VISIBILITY_S,
        env={"AUDITOR_BROKER": redis.url},
    )  # fmt: skip
    local.communicate(timeout=600)
    _, err = distributed.communicate(timeout=600)
    return verdicts(tmp / "local"), (distributed.returncode, err, verdicts(tmp / "distributed"))


@pytest.fixture(scope="module")
def local(runs: tuple[dict[str, dict[str, Any]], Any]) -> dict[str, dict[str, Any]]:
    return runs[0]


@pytest.fixture(scope="module")
def distributed(runs: tuple[Any, tuple[int, str, dict[str, dict[str, Any]]]]) -> tuple[int, str, dict[str, Any]]:
    return runs[1]


def test_each_worker_namespace_reaches_only_its_segment(segments: dict[str, Segment]) -> None:
    probe = "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(s.connect_ex((sys.argv[1], 22)))"
    for mine, other in (("a", "b"), ("b", "a")):
        ns = segments[mine].netns
        own = segments[mine].lab.hosts[0].address
        theirs = segments[other].lab.hosts[0].address
        assert run("ip", "netns", "exec", ns, sys.executable, "-c", probe, own, check=False).returncode == 0
        assert run("ip", "netns", "exec", ns, sys.executable, "-c", probe, theirs, check=False).returncode != 0


def test_every_host_gets_the_verdicts_of_a_local_run(
    distributed: tuple[int, str, dict[str, dict[str, Any]]], local: dict[str, dict[str, Any]]
) -> None:
    _, err, got = distributed
    assert set(got) == {*local, "intruder", "orphan"}
    for name, expected in local.items():
        assert expected["status"] == "reachable", (name, expected)
        assert got[name] == expected, name
    assert "segment a: 3/3 hosts done" in err and "segment b: 2/2 hosts done" in err


def test_a_worker_refuses_a_host_outside_its_networks(
    distributed: tuple[int, str, dict[str, dict[str, Any]]], segments: dict[str, Segment]
) -> None:
    _, _, got = distributed
    assert got["intruder"]["status"] == "error"
    assert all(v == "error" for k, v in got["intruder"].items() if k not in ("status", "reason"))
    address = segments["b"].lab.hosts[0].address
    assert got["intruder"]["reason"] == (
        f"refused by this worker: {address} is outside its allowed networks ({segments['a'].lab.net})"
    )


def test_a_segment_without_a_live_worker_ends_in_error_exit_3(
    distributed: tuple[int, str, dict[str, dict[str, Any]]],
) -> None:
    code, err, got = distributed
    assert code == 3, err
    assert got["orphan"]["status"] == "error"
    assert (
        got["orphan"]["reason"]
        == "no live worker consumed the queue of segment 'c' for 15 s: its hosts were not audited"
    )
    assert "segment c: 1/1 hosts done" in err


def test_a_worker_killed_during_its_shard_has_it_delivered_again(
    workers: Workers, segments: dict[str, Segment], redis: RedisServer, local: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    client = redis.client()
    proc = auditor_run(
        tmp_path / "out", inventory(tmp_path / "inv.ini", {"a": segments["a"]}, False), segments["a"].known_hosts,
        "--distributed", "--segment-timeout", "120", "--visibility-timeout", VISIBILITY_S,
        env={"AUDITOR_BROKER": redis.url},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not client.hlen("unacked"):  # the worker took the shard (late acknowledgement: not yet acked)
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    victim = workers.procs["a"]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    killed_at = time.monotonic()
    workers.start("a", tag="-again")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 or proc.returncode in (1, 3), err
    got = verdicts(tmp_path / "out")
    assert got == {name: local[name] for name in got} and set(got) == {h.name for h in segments["a"].lab.hosts}
    assert time.monotonic() - killed_at >= float(VISIBILITY_S) - 12  # delivered again, not finished by the victim


def test_no_worker_log_holds_the_broker_password(workers: Workers, redis: RedisServer) -> None:
    logs = sorted(workers.logs.glob("*.log"))
    assert len(logs) >= 2
    for log in logs:
        text = log.read_text()
        assert "redis+socket://:**@" in text  # the banner names the broker, its password masked
        assert redis.password not in text, log
