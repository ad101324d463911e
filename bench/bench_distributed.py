"""Distributed runs against a local run, at the same total concurrency, on the same lab hosts.

    python -m bench.bench_distributed [--hosts 40] [--concurrency 10] [--workers 1,2] [--repeat 1]

Starts N generic lab hosts (tests/lab; root needed; more than 230 take 10.77.200.0/22), a real
redis-server (password, unix socket; tests/redis_server.py) and a throwaway PostgreSQL (tests/postgres.py;
SQLite in the bench's folder when PostgreSQL is not installed), then times, interleaved:

  local          `auditor run --jobs C --no-history`
  local+db       `auditor run --jobs C`, recording into the database
  distributed-K  `auditor run --distributed`, recording into the database, with K workers
                 (`auditor worker --jobs C/K` each, started and answering before the clock starts),
                 shards of about N/(2K) hosts

Every run must reach every host (a run that failed fast would look fast). Printed last:
`ratio_distributed_vs_local` per worker count (wall time over local+db's: both record, at the same
concurrency), hosts/s of each and its mean number of hosts in flight (below the concurrency: idle slots,
such as a shard's tail), the database's overhead per host (local+db over local) and the broker's
(distributed with one worker over local+db).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench import measure
from tests.lab.lab import Lab
from tests.postgres import running_postgres, unavailable_reason
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


@contextlib.contextmanager
def history_store(work: Path) -> Iterator[tuple[str, str]]:
    """(URL, what it is): a throwaway PostgreSQL's database, else a SQLite file."""
    reason = unavailable_reason()
    if reason:
        yield f"sqlite:///{work / 'history.db'}", f"SQLite (PostgreSQL: {reason})"
        return
    with running_postgres() as server:
        yield server.new_database(), "PostgreSQL 15 (throwaway server, fsync off)"


def in_flight(results: Path, hosts: int) -> float | None:
    """The mean number of hosts in flight (from every host's start and end times, to the second), once
    every host is known audited: below the concurrency, slots stood idle (a shard's tail). None for a
    run shorter than 10 s, which times to the second cannot tell."""
    reached = measure.all_audited(results, hosts)
    spans = [(datetime.fromisoformat(h["started"]), datetime.fromisoformat(h["finished"])) for h in reached]
    wall = (max(end for _, end in spans) - min(start for start, _ in spans)).total_seconds()
    if wall < 10:
        return None
    return sum((end - start).total_seconds() for start, end in spans) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--net", type=int, default=int(os.environ.get("AUDITOR_LAB_NET", "7")))
    args = ap.parse_args()
    counts = [int(c) for c in args.workers.split(",")]

    subnet = f"10.77.{args.net}.0/24" if args.hosts <= 230 else "10.77.200.0/22"
    lab = Lab([], extra=args.hosts, bridge=f"audlab{args.net}", subnet=subnet, ssh_timeout=300)
    walls: dict[str, list[float]] = {}
    flights: dict[str, list[float | None]] = {}  # mean hosts in flight
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="auditor-bench-dist-")))
        redis = stack.enter_context(running_redis())
        db, db_kind = stack.enter_context(history_store(work))
        lab.start()
        try:
            # The lab hosts share this machine's cores with the client: a handshake waits its turn longer.
            base = [sys.executable, "-m", "auditor", "run", "-i", str(lab.inventory), "--known-hosts",
                    str(lab.known_hosts), "--no-network", "--connect-timeout", "60"]  # fmt: skip
            env = {**os.environ, "AUDITOR_BROKER": redis.url, "AUDITOR_DB": db, "PYTHONPATH": str(REPO)}
            for i in range(args.repeat):
                for method, extra in (("local", ["--no-history"]), ("local+db", [])):
                    out = work / f"{method}-{i}"
                    cmd = [*base, *extra, "--jobs", str(args.concurrency), "-o", str(out)]
                    sample = measure.run(cmd, env, ok=(0, 1, 3))
                    flights.setdefault(method, []).append(in_flight(out / "results.json", args.hosts))
                    walls.setdefault(method, []).append(sample.wall)
                for count in counts:
                    procs = start_workers(count, max(1, args.concurrency // count), redis, lab, work)
                    try:
                        out = work / f"distributed-{count}-{i}"
                        shard = max(1, math.ceil(args.hosts / (2 * count)))
                        cmd = [*base, "--distributed", "--shard-size", str(shard), "-o", str(out)]
                        sample = measure.run(cmd, env, ok=(0, 1, 3))
                        flight = in_flight(out / "results.json", args.hosts)
                        flights.setdefault(f"distributed-{count}", []).append(flight)
                        walls.setdefault(f"distributed-{count}", []).append(sample.wall)
                    finally:
                        stop(procs)
        finally:
            problems = lab.stop()
            if problems:
                print("lab teardown:", problems, file=sys.stderr)

    wall = {method: statistics.median(values) for method, values in walls.items()}
    print(f"hosts {args.hosts} · total concurrency {args.concurrency} · repeat {args.repeat} · store: {db_kind}")
    for method, value in wall.items():
        known = [f for f in flights[method] if f is not None]
        flight = f"{statistics.median(known):5.1f}" if known else "    -"
        print(f"{method:16} wall {value:7.2f} s  hosts/s {args.hosts / value:7.2f}  hosts in flight {flight}")
    for count in counts:
        print(f"ratio_distributed_vs_local workers={count}: {wall[f'distributed-{count}'] / wall['local+db']:.2f}")
    print(f"database_overhead_per_host_ms: {(wall['local+db'] - wall['local']) / args.hosts * 1000:.1f}")
    if 1 in counts:
        print(f"broker_overhead_per_host_ms: {(wall['distributed-1'] - wall['local+db']) / args.hosts * 1000:.1f}")


if __name__ == "__main__":
    main()
