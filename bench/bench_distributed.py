"""Distributed runs against a local run, at the same total concurrency, on the same lab hosts.

    python -m bench.bench_distributed [--hosts 40] [--concurrency 10] [--workers 1,2] [--repeat 1]

Starts N generic lab hosts (tests/lab; root needed) and a real redis-server (password, unix socket;
tests/redis_server.py), then times, interleaved:

  local          `auditor run --jobs C`
  distributed-K  `auditor run --distributed` with K workers (`auditor worker --jobs C/K` each, started
                 and answering before the clock starts), shards of about N/(2K) hosts

Every run must reach every host (a run that failed fast would look fast). Printed last:
`ratio_distributed_vs_local` per worker count (wall time over the local run's), hosts/s of each, and the
broker's overhead per host (the one-worker run's extra wall time over the local run's, a host).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import measure
from tests.lab.lab import Lab
from tests.redis_server import RedisServer, running_redis

REPO = Path(__file__).resolve().parent.parent


def start_workers(count: int, jobs: int, redis: RedisServer, lab: Lab, logs: Path) -> list[subprocess.Popen[bytes]]:
    from auditor.distributed.app import make_app

    env = {**os.environ, "AUDITOR_BROKER": redis.url, "PYTHONPATH": str(REPO)}
    procs, names = [], []
    for i in range(count):
        name = f"bench-{count}-{i}@local"
        cmd = [sys.executable, "-m", "auditor", "worker", "--allow-net", str(lab.net), "--jobs", str(jobs),
               "--identity", str(lab.key), "--known-hosts", str(lab.known_hosts), "--name", name]  # fmt: skip
        with open(logs / f"{name}.log", "ab") as log:
            procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
        names.append(name)
    app = make_app(redis.url, 3600)
    deadline = time.monotonic() + 60
    while len(app.control.ping(destination=names, timeout=1.0)) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop(procs)
            raise SystemExit(f"workers did not start: see {logs}")
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def audited(results: Path, hosts: int) -> None:
    document = json.loads(results.read_text())
    reached = [h for h in document["hosts"] if h["status"] == "reachable" and h["results"]]
    if len(reached) != hosts:
        raise SystemExit(f"{len(reached)} of {hosts} hosts audited: see {results}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--net", type=int, default=int(os.environ.get("AUDITOR_LAB_NET", "7")))
    args = ap.parse_args()
    counts = [int(c) for c in args.workers.split(",")]

    lab = Lab([], extra=args.hosts, bridge=f"audlab{args.net}", subnet=f"10.77.{args.net}.0/24")
    walls: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="auditor-bench-dist-") as tmp, running_redis() as redis:
        work = Path(tmp)
        lab.start()
        try:
            base = [sys.executable, "-m", "auditor", "run", "-i", str(lab.inventory), "--known-hosts",
                    str(lab.known_hosts), "--no-network"]  # fmt: skip
            env = {**os.environ, "AUDITOR_BROKER": redis.url, "PYTHONPATH": str(REPO)}
            for i in range(args.repeat):
                out = work / f"local-{i}"
                sample = measure.run([*base, "--jobs", str(args.concurrency), "-o", str(out)], env, ok=(0, 1, 3))
                audited(out / "results.json", args.hosts)
                walls.setdefault("local", []).append(sample.wall)
                for count in counts:
                    procs = start_workers(count, max(1, args.concurrency // count), redis, lab, work)
                    try:
                        out = work / f"distributed-{count}-{i}"
                        shard = max(1, math.ceil(args.hosts / (2 * count)))
                        cmd = [*base, "--distributed", "--shard-size", str(shard), "-o", str(out)]
                        sample = measure.run(cmd, env, ok=(0, 1, 3))
                        audited(out / "results.json", args.hosts)
                        walls.setdefault(f"distributed-{count}", []).append(sample.wall)
                    finally:
                        stop(procs)
        finally:
            problems = lab.stop()
            if problems:
                print("lab teardown:", problems, file=sys.stderr)

    local = statistics.median(walls["local"])
    print(f"hosts {args.hosts} · total concurrency {args.concurrency} · repeat {args.repeat}")
    for method, values in walls.items():
        wall = statistics.median(values)
        print(f"{method:16} wall {wall:7.2f} s  hosts/s {args.hosts / wall:7.2f}")
    for count in counts:
        ratio = statistics.median(walls[f"distributed-{count}"]) / local
        print(f"ratio_distributed_vs_local workers={count}: {ratio:.2f}")
    if 1 in counts:
        extra = (statistics.median(walls["distributed-1"]) - local) / args.hosts * 1000
        print(f"broker_overhead_per_host_ms: {extra:.1f}")


if __name__ == "__main__":
    main()
