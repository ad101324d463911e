"""A local run of thousands of lab hosts: the seed's 3,176 on one machine.

    python -m bench.bench_scale [--hosts 3176] [--concurrency 100] [--per-bridge 800]   # root

A Linux bridge takes at most 1,024 ports, so the hosts are spread over several labs, each on its own
bridge and /22 of 10.77.208.0/20 (routes to each are the machine's own). Times, in one run:

  floor    paramiko to every host: connect, handshake, host-key check, key auth, close
  auditor  `auditor run --no-network --no-history --jobs C` over one inventory of all the hosts

and prints wall time, hosts/s, client CPU a host (the command's whole process tree, from wait4), machine
CPU a host (lab hosts included: they share this machine's cores) and the peak RSS of the process tree.
The run must reach every host: a run that failed fast would look fast.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import measure
from tests.lab.lab import Lab

REPO = Path(__file__).resolve().parent.parent
BRIDGE_PORTS = 1024  # the kernel's limit for one bridge (BR_MAX_PORTS)


@contextlib.contextmanager
def labs(hosts: int, per_bridge: int, work: Path) -> Iterator[tuple[Path, Path, Path, list[str]]]:
    """Start ``hosts`` generic hosts over as many bridges as needed; yields (inventory, known_hosts, key, addresses)."""
    if per_bridge >= BRIDGE_PORTS - 20:
        raise SystemExit(f"--per-bridge must stay under {BRIDGE_PORTS - 20} (a bridge takes {BRIDGE_PORTS} ports)")
    count = math.ceil(hosts / per_bridge)
    nets = list(ipaddress.ip_network("10.77.208.0/20").subnets(new_prefix=22))
    if count > len(nets):
        raise SystemExit(f"at most {len(nets) * per_bridge} hosts with --per-bridge {per_bridge}")
    started: list[Lab] = []
    try:
        for i in range(count):
            n = min(per_bridge, hosts - i * per_bridge)
            lab = Lab([], extra=n, bridge=f"audscale{i}", subnet=str(nets[i]), ssh_timeout=600)
            started.append(lab)
            t0 = time.monotonic()
            lab.start()
            print(f"lab {i}: {n} hosts on {nets[i]} started in {time.monotonic() - t0:.0f} s", flush=True)
        yield write_inventory(started, work)
    finally:
        for lab in started:
            problems = lab.stop()
            if problems:
                print("lab teardown:", problems[:5], file=sys.stderr)


def write_inventory(started: list[Lab], work: Path) -> tuple[Path, Path, Path, list[str]]:
    """One inventory and known_hosts for every lab: host names prefixed by their lab, one key for all."""
    key = started[0].key
    lines, known, addresses = ["[generic]"], [], []
    for i, lab in enumerate(started):
        if lab is not started[0]:  # every lab made its own key: the first one is authorised everywhere
            for h in lab.hosts:
                keys = h.root / "home/auditor/.ssh/authorized_keys"
                keys.write_text(keys.read_text() + key.with_suffix(".pub").read_text())
        for h in lab.hosts:
            lines.append(f"l{i}-{h.name} ansible_host={h.address} ansible_user=auditor ansible_become=true")
            known.append(f"{h.address} {h.host_key}")
            addresses.append(h.address)
    lines += ["", "[all:vars]", f"ansible_ssh_private_key_file={key}", f"log_server={started[0].log_server}", ""]
    inventory, known_hosts = work / "inventory.ini", work / "known_hosts"
    inventory.write_text("\n".join(lines))
    known_hosts.write_text("\n".join(known) + "\n")
    return inventory, known_hosts, key, addresses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=3176)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--per-bridge", type=int, default=800)
    # The lab hosts share this machine's cores with the client: a handshake waits its turn for longer
    # than a real host's would.
    ap.add_argument("--connect-timeout", type=float, default=60)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="auditor-bench-scale-") as tmp:
        work = Path(tmp)
        with labs(args.hosts, args.per_bridge, work) as (inventory, known_hosts, key, addresses):
            (work / "targets.json").write_text(json.dumps({
                "hosts": addresses, "user": "auditor", "key": str(key), "known_hosts": str(known_hosts),
                "concurrency": args.concurrency, "snippets": [],
            }))  # fmt: skip
            floor = measure.run([sys.executable, "-m", "bench.ssh_methods", "floor", str(work / "targets.json")], env)
            out = work / "auditor"
            cmd = [sys.executable, "-m", "auditor", "run", "-i", str(inventory), "--known-hosts", str(known_hosts),
                   "--jobs", str(args.concurrency), "--connect-timeout", str(args.connect_timeout), "--no-network",
                   "--no-history", "-o", str(out)]  # fmt: skip
            auditor = measure.run(cmd, env, timeout=3600, ok=(0, 1, 3))
            report(args, floor, auditor, (out / "results.json").stat().st_size)
            measure.all_audited(out / "results.json", args.hosts)


def report(args: argparse.Namespace, floor: measure.Sample, auditor: measure.Sample, size: int) -> None:
    n = args.hosts
    print(f"\n{n} generic lab hosts, concurrency {args.concurrency}; {os.cpu_count()} cores shared by client and hosts")
    for name, s in (("floor", floor), ("auditor", auditor)):
        print(
            f"{name:8} wall {s.wall:8.1f} s  hosts/s {n / s.wall:6.1f}"
            f"  client CPU/host {s.client_cpu / n * 1000:6.1f} ms"
            f"  machine CPU/host {s.machine_cpu / n * 1000:6.1f} ms  peak RSS {s.peak_rss_mb:6.0f} MB"
        )
    print(f"ratio_vs_floor: {auditor.wall / floor.wall:.2f}")
    print(f"results.json: {size / 1e6:.0f} MB ({size / n:,.0f} B a host)")


if __name__ == "__main__":
    main()
