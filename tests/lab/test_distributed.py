"""Distributed runs on the lab: two segments, each a lab on its own bridge and subnet, each with a worker
started inside its own network namespace that reaches only that segment's hosts. The broker is a real
redis-server with a password on a unix socket, which both worker namespaces reach as a file.

One distributed run across both segments (plus a host outside worker a's networks and a segment no worker
serves) is compared with a local run of the same hosts; then a worker is killed with SIGKILL while its
shard runs, and the shard is delivered again to the worker started in its place.

The network probes (NET-*, real nmap) of a distributed run run on each segment's worker: a run whose
coordinator sits in a namespace with no route to either segment gives every lab host the NET-* verdicts
of a local run that reaches them, and worker a refuses a portal and a log server outside its networks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.lab.helpers import module_lab
from tests.lab.host import _die_with_parent, run
from tests.lab.lab import Lab, lab_network
from tests.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.lab
VISIBILITY_S = "45"  # short, so the test sees a killed worker's shard delivered again; a shard ends 10 s before it


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


def segment_hosts(segments: dict[str, Segment], log_server: Callable[[Segment], str]) -> list[str]:
    """An inventory line for every lab host, in its segment, with its segment's ``log_server``."""
    return [
        f"{h.name} ansible_host={h.address} ansible_user=auditor ansible_become=true "
        f"ansible_ssh_private_key_file={s.lab.key} segment={s.name} log_server={log_server(s)}"
        for s in segments.values()
        for h in s.lab.hosts
    ]


def inventory(path: Path, segments: dict[str, Segment], extra: bool) -> Path:
    """Every lab host in its segment; ``extra``: a host worker a may not audit (an address of segment b)
    and a host of segment c, which no worker serves."""
    lines = segment_hosts(segments, lambda s: s.lab.log_server)
    if extra:
        lines.append(f"intruder ansible_host={segments['b'].lab.hosts[0].address} ansible_user=auditor segment=a")
        lines.append(f"orphan ansible_host={segments['a'].lab.down_address} ansible_user=auditor segment=c")
    path.write_text("[servers]\n" + "\n".join(lines) + "\n")
    return path


def auditor_run(
    out: Path,
    inv: Path,
    known: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    network: bool = False,
    netns: str | None = None,
) -> Any:
    cmd = [sys.executable, "-m", "auditor", "run", "-i", str(inv), "--known-hosts", str(known),
           "-o", str(out), *([] if network else ["--no-network"]), "--jobs", "4", *extra]  # fmt: skip
    if netns is not None:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )


def verdicts(out: Path) -> dict[str, dict[str, Any]]:
    """Each host's status and check verdicts; its ``error`` under ``reason``; under ``evidence``, the
    commands each verdict's evidence ran (a verdict without its evidence is not the same verdict)."""
    document = json.loads((out / "results.json").read_text())
    names = [h["name"] for h in document["hosts"]]
    assert len(names) == len(set(names)), names  # each host once
    shared = document["shared_evidence"]

    def commands(result: dict[str, Any]) -> list[Any]:
        return [e["command"] if "command" in e else shared[e["shared"]]["command"] for e in result["evidence"]]

    return {
        h["name"]: {
            "status": h["status"],
            "reason": h["error"],
            **{r["check"]: r["status"] for r in h["results"]},
            "evidence": {r["check"]: commands(r) for r in h["results"]},
        }
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
    assert all(v == "error" for k, v in got["intruder"].items() if k not in ("status", "reason", "evidence"))
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


# --- network probes (NET-*) on the workers ---------------------------------------------------------

NET_PLAYBOOK = """name: netonly
title: {en: Network probes only, vi: Chỉ thăm dò mạng}
params:
  log_server: null
  log_marker_wait: 3
  scan_probe_wait_ms: 500
  tls_expiry_warn_days: 30
  tls_ca_file: null
  allowed_ports: null
  file_server: null
plays:
  - hosts: [all]
    checks: ["NET-*"]
"""
REACHER = "reacher"  # a segment a host whose portal and log server are in segment b


@pytest.fixture(scope="module")
def coordinator_netns(segments: dict[str, Segment]) -> Iterator[str]:
    """The coordinator's namespace: loopback only, no route to either segment. The broker is a unix socket."""
    bridge, _ = lab_network()
    netns = f"{bridge}-coord"
    run("ip", "netns", "add", netns)
    try:
        run("ip", "-n", netns, "link", "set", "lo", "up")
        yield netns
    finally:
        for pid in run("ip", "netns", "pids", netns, check=False).stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        run("ip", "netns", "del", netns, check=False)


def net_inventory(path: Path, segments: dict[str, Segment], reacher: bool) -> Path:
    """Every lab host in its segment, its log server the segment's first host; ``reacher``: one more name for
    segment a's first host, in group portals, whose portal_url and log_server are segment b's first host."""
    lines = segment_hosts(segments, lambda s: s.lab.hosts[0].name)
    text = "[servers]\n" + "\n".join(lines) + "\n"
    if reacher:
        a0, b0 = segments["a"].lab.hosts[0], segments["b"].lab.hosts[0]
        text += (
            f"[portals]\n{REACHER} ansible_host={a0.address} ansible_user=auditor "
            f"ansible_ssh_private_key_file={segments['a'].lab.key} segment=a "
            f"portal_url=https://{b0.address}/ log_server={b0.name}\n"
        )
    path.write_text(text)
    return path


def net_results(out: Path) -> dict[str, Any]:
    assert (out / "results.json").exists(), out
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def local_net(segments: dict[str, Segment], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A local run from this namespace, which reaches both segments."""
    tmp = tmp_path_factory.mktemp("local-net")
    (tmp / "netonly.yaml").write_text(NET_PLAYBOOK)
    proc = auditor_run(
        tmp / "out", net_inventory(tmp / "inv.ini", segments, False), segments["a"].known_hosts,
        "--playbook", str(tmp / "netonly.yaml"), "--no-history", network=True,
    )  # fmt: skip
    _, err = proc.communicate(timeout=600)
    assert (tmp / "out/results.json").exists(), err[-3000:]
    return net_results(tmp / "out")


@pytest.fixture(scope="module")
def distributed_net(
    workers: Workers,
    segments: dict[str, Segment],
    redis: RedisServer,
    coordinator_netns: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[int, str, dict[str, Any]]:
    """The same hosts (and the reacher) distributed, the coordinator in a namespace that reaches no segment."""
    tmp = tmp_path_factory.mktemp("distributed-net")
    (tmp / "netonly.yaml").write_text(NET_PLAYBOOK)
    proc = auditor_run(
        tmp / "out", net_inventory(tmp / "inv.ini", segments, True), segments["a"].known_hosts,
        "--playbook", str(tmp / "netonly.yaml"), "--no-history", "--distributed", "--segment-timeout", "60",
        "--visibility-timeout", "600", env={"AUDITOR_BROKER": redis.url}, network=True, netns=coordinator_netns,
    )  # fmt: skip
    _, err = proc.communicate(timeout=600)
    assert (tmp / "out/results.json").exists(), err[-3000:]
    return proc.returncode, err, net_results(tmp / "out")


def test_the_coordinator_namespace_reaches_no_segment(segments: dict[str, Segment], coordinator_netns: str) -> None:
    probe = "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(s.connect_ex((sys.argv[1], 22)))"
    for s in segments.values():
        address = s.lab.hosts[0].address
        assert run(
            "ip", "netns", "exec", coordinator_netns, sys.executable, "-c", probe, address, check=False
        ).returncode


def by_host(document: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {h["name"]: {r["check"]: r for r in h["results"]} for h in document["hosts"]}


def test_net_checks_of_unreachable_segments_get_a_local_runs_verdicts_from_their_workers(
    distributed_net: tuple[int, str, dict[str, Any]], local_net: dict[str, Any], segments: dict[str, Segment]
) -> None:
    _, err, document = distributed_net
    got, expected = by_host(document), by_host(local_net)
    assert set(got) == {*expected, REACHER}, err[-2000:]
    for name, checks in expected.items():
        assert {c: r["status"] for c, r in got[name].items()} == {c: r["status"] for c, r in checks.items()}, name
        assert {c: r["reason"] for c, r in got[name].items()} == {c: r["reason"] for c, r in checks.items()}, name
    # The scan saw the hosts (a scan from the coordinator's namespace could not): real verdicts, not errors.
    exposure = [got[h.name]["NET-NO-CLEARTEXT-SERVICES"]["status"] for s in segments.values() for h in s.lab.hosts]
    assert "error" not in exposure and "pass" in exposure, exposure


def test_each_segment_nmap_run_is_kept_once_as_shared_evidence(
    distributed_net: tuple[int, str, dict[str, Any]], segments: dict[str, Segment]
) -> None:
    _, _, document = distributed_net
    records = document["shared_evidence"]
    got = by_host(document)
    for s in segments.values():
        refs = set()
        for h in s.lab.hosts:
            item = got[h.name]["NET-NO-CLEARTEXT-SERVICES"]["evidence"][0]
            record = records[item["shared"]]
            assert record["command"].startswith("nmap ") and h.address in record["command"].split()
            assert f'addr="{h.address}"' in record["output"] and item["at"] and item["output"]
            assert all(
                other.address not in record["command"].split()
                for other in segments["b" if s.name == "a" else "a"].lab.hosts
            )
            refs.add(item["shared"])
        assert len(refs) == 1, (s.name, refs)  # one nmap run per segment, by its worker


def test_a_worker_refuses_probe_parameters_outside_its_networks(
    distributed_net: tuple[int, str, dict[str, Any]], segments: dict[str, Segment]
) -> None:
    _, _, document = distributed_net
    reacher = by_host(document)[REACHER]
    outside = (
        f"refused by this worker: {segments['b'].lab.hosts[0].address} is outside its allowed networks "
        f"({segments['a'].lab.net}); nothing was contacted"
    )
    portal = [r for c, r in reacher.items() if c.startswith("NET-PORTAL-")]
    assert portal and all(r["status"] == "error" and r["reason"].endswith(f": portal_url: {outside}") for r in portal)
    records = document["shared_evidence"]  # a command several items ran is stored there once
    commands = [e.get("command") or records[e["shared"]]["command"] for r in portal for e in r["evidence"]]
    refused = {f"{kind} probe of {REACHER} (not run: refused)" for kind in ("https_portal", "portal_http")}
    assert set(commands) == refused, commands
    assert reacher["NET-LOG-MARKER-ARRIVES"]["status"] == "error"
    assert reacher["NET-LOG-MARKER-ARRIVES"]["reason"].endswith(f": log_server: {outside}")
    assert reacher["NET-NO-CLEARTEXT-SERVICES"]["status"] != "error"  # its own address is inside: scanned
