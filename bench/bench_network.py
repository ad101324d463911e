"""Time the network phase's one scan of N lab hosts against a bare nmap of the same targets.

    AUDITOR_LAB_NET=5 python bench/bench_network.py [--hosts 100]      # root: starts its own lab

The lab is N generic hosts (sshd only) on bridge ``audlab<NET>``; the baseline, measured in the
same run on the same targets, is ``nmap -n -sS -p <same ports>`` (a port scan, no service
detection). Then the auditor's scan (``auditor.network.scan``: the same ports with -sV, ftp-anon,
UDP 161, host timeout) and the whole network phase as ``auditor run`` would run it for these hosts
(scan + per-host probes + judging, no host phase; the lab's log_server is not a lab host, so no
marker is sent). No assertion on time: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.inventory import load_inventory
from auditor.network import phase, scan
from auditor.network.plans import split
from auditor.transports import ConnectOptions
from tests.lab.lab import Lab, lab_network


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=100)
    args = ap.parse_args(argv)
    bridge, subnet = lab_network()
    lab = Lab([], extra=args.hosts, bridge=bridge, subnet=subnet)
    t_start, _ = timed(lab.start)
    try:
        print(f"lab: {args.hosts} generic hosts on {subnet} started in {t_start:.1f} s")
        addresses = [h.address for h in lab.hosts]
        ports = scan.DEFAULT_TCP_PORTS
        base_cmd = ["nmap", "-n", "-sS", "-T4", "-p", ports, *addresses]
        t_base, proc = timed(lambda: subprocess.run(base_cmd, capture_output=True, text=True, check=True))
        up = proc.stdout.count("Nmap scan report for")
        print(
            f"baseline  nmap -n -sS -T4 -p <{len(ports.split(','))} ports> {len(addresses)} hosts: "
            f"{t_base:6.2f} s ({up} up)"
        )

        arguments = scan.nmap_arguments(ports, scan.is_root(), host_timeout=60)
        t_scan, result = timed(lambda: scan.run_nmap(addresses, arguments, 900))
        parsed = scan.parse(result.result, {a: a for a in addresses}, result.xml)
        answered = sum(1 for s in parsed.values() if s.up)
        print(
            f"auditor   scan (-sV, ftp-anon, U:161, host timeout) {len(addresses)} hosts: {t_scan:6.2f} s "
            f"({answered} up)  x{t_scan / t_base:.1f} baseline"
        )

        catalog = load_catalog()
        plans = plan_run(load_playbook("baseline", catalog), catalog, load_inventory(lab.inventory), {})
        _, net_plans = split(plans)
        options = phase.NetworkOptions(connect=ConnectOptions(known_hosts=lab.known_hosts), jobs=10)
        job = phase.prepare(net_plans, options)
        t_phase, results = timed(lambda: phase.run(job))
        checks = sum(len(r) for r in results.values())
        print(
            f"auditor   network phase ({checks} NET-* results; scan + HTTP/TLS probes + judging): "
            f"{t_phase:6.2f} s  x{t_phase / t_base:.1f} baseline"
        )
        print(f"  {args.hosts} hosts, nmap {arguments}")
    finally:
        problems = lab.stop()
        if problems:
            print("teardown:", problems, file=sys.stderr)


if __name__ == "__main__":
    main()
