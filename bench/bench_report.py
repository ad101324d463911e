"""Render a synthetic 3,176 hosts × 60 checks run in every format; print time and size.

    python bench/bench_report.py [--hosts 3176] [--checks 60] [--repeat 3]

The baseline, measured in the same process on the same document, is ``json.dumps``
(what writing results.json costs). No assertion on time here or in tests: the numbers
are for reading (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.report import RENDERERS
from bench.synthetic import synthetic_results


def measure(fn: Callable[[], str], repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        text = fn()
        times.append(time.perf_counter() - t0)
        size = len(text.encode("utf-8"))
    return statistics.median(times), size


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=3176)
    ap.add_argument("--checks", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", type=Path, help="also write the HTML report here (to open it)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    doc = synthetic_results(args.hosts, args.checks)
    print(f"synthetic run: {args.hosts} hosts × {args.checks} checks built in {time.perf_counter() - t0:.1f} s")

    base_t, base_size = measure(lambda: json.dumps(doc, ensure_ascii=False, indent=1), args.repeat)
    rows = [("json.dumps (baseline)", base_t, base_size)]
    for fmt, render in RENDERERS.items():
        t, size = measure(lambda render=render: render(doc, "vi", doc), args.repeat)
        rows.append((f"{fmt} (vi, with --previous)", t, size))
    print(f"{'format':28} {'time s':>8} {'× base':>7} {'size MB':>8} {'× base':>7}")
    for name, t, size in rows:
        print(f"{name:28} {t:8.2f} {t / base_t:7.1f} {size / 1e6:8.2f} {size / base_size:7.2f}")
    if args.write:
        args.write.write_text(RENDERERS["html"](doc, "vi"), encoding="utf-8")
        print(f"written: {args.write}")


if __name__ == "__main__":
    main()
