"""results.json bytes per host as hosts are added: the file must grow with the hosts, not their square.

    python -m bench.bench_results_size [--hosts 100,3176] [--checks 60]

A synthetic run (bench/synthetic.py, with the network phase's evidence: one nmap scan of every
host) is written by the real writer (``results.write_json``) in two layouts, in the same run:
- ``v2``: what ``auditor run`` writes (``results.build``: commands many results share, and the
  scan's command line and whole output, stored once in ``shared_evidence``);
- ``v1 layout`` (baseline): the same results with every evidence item complete, as version 1
  wrote them: each host repeats the scan's command line, which names every target.

Printed: bytes per host at each size, the growth of bytes per host from the smallest to the
largest size (goal: 1.0, flat), and v1 / v2 at each size. No assertion here (see the unit test
tests/unit/test_results_shared.py for the structural one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.model import HostResult
from auditor.results import build, host_to_dict, write_json
from bench.synthetic import synthetic_hosts


def v1_layout(document: dict[str, Any], hosts: list[HostResult]) -> dict[str, Any]:
    """The same document as version 1 wrote it: no shared section, every evidence item complete."""
    old = {k: v for k, v in document.items() if k != "shared_evidence"}
    return {**old, "schema": "auditor.results/1", "hosts": [host_to_dict(h) for h in hosts]}


def written_size(document: dict[str, Any], folder: Path) -> tuple[int, float]:
    path = folder / "results.json"
    t0 = time.perf_counter()
    write_json(path, document)
    elapsed = time.perf_counter() - t0
    size = path.stat().st_size
    path.unlink()
    return size, elapsed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default="100,3176", help="comma-separated host counts")
    ap.add_argument("--checks", type=int, default=60)
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.hosts.split(",")]

    print(f"{'hosts':>6} {'layout':10} {'MB':>9} {'bytes/host':>11} {'write s':>8} {'shared records':>15}")
    per_host: dict[str, dict[int, float]] = {"v2": {}, "v1 layout": {}}
    with tempfile.TemporaryDirectory(prefix="bench-results-size-") as tmp:
        for n in sizes:
            run, hosts = synthetic_hosts(n, args.checks, network=True)
            document = build(run, hosts)
            for layout, doc in (("v2", document), ("v1 layout", v1_layout(document, hosts))):
                size, elapsed = written_size(doc, Path(tmp))
                per_host[layout][n] = size / n
                records = str(len(doc.get("shared_evidence", {}))) if layout == "v2" else "-"
                print(f"{n:6d} {layout:10} {size / 1e6:9.2f} {size / n:11,.0f} {elapsed:8.2f} {records:>15}")
            del document, hosts
    lo, hi = min(sizes), max(sizes)
    for layout, by_n in per_host.items():
        print(f"per_host_growth_{layout.replace(' ', '_')}_{lo}_to_{hi}: {by_n[hi] / by_n[lo]:.2f}")
    for n in sizes:
        print(f"v1_layout_over_v2_at_{n}: {per_host['v1 layout'][n] / per_host['v2'][n]:.2f}")


if __name__ == "__main__":
    main()
