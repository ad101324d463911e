"""Load Ansible INI inventories of N and 4N hosts; print the times and their ratio.

    python bench/bench_inventory.py [--hosts 10000] [--repeat 3]

Three shapes, each at N and 4N hosts: one group listing every host, one range line, and every host
in a group of its own under one parent. Loading is linear when the 4N/N ratio stays near 4 (a
quadratic loader shows ~16). No assertion on time here or in tests: the numbers are for reading
(see bench/README.md); tests/unit/test_inventory.py counts executed lines instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.inventory import load_inventory

SHAPES: dict[str, Callable[[int], str]] = {
    "one group": lambda n: (
        "[servers]\n"
        + "".join(f"h{i} ansible_host=10.0.{i // 250 % 250}.{i % 250 + 1}\n" for i in range(n))
        + "[servers:vars]\nlog_server=10.9.9.9\n"
    ),
    "one range": lambda n: f"[servers]\nh[1:{n}]\n[servers:vars]\nlog_server=10.9.9.9\n",
    "group each": lambda n: (
        "".join(f"[g{i}]\nh{i}\n" for i in range(n)) + "[parent:children]\n" + "".join(f"g{i}\n" for i in range(n))
    ),
}


def best_load(text: str, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hosts.ini"
        path.write_text(text)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            load_inventory(path)
            times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.hosts
    print(f"{'shape':<12} {n:>8} hosts {4 * n:>8} hosts   ratio (linear ~4, quadratic ~16)")
    for name, make in SHAPES.items():
        small, large = best_load(make(n), args.repeat), best_load(make(4 * n), args.repeat)
        print(f"{name:<12} {small:>12.3f} s {large:>12.3f} s   {large / small:5.1f}")


if __name__ == "__main__":
    main()
