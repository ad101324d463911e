"""Measure the lab's costs (numbers for README.md):

    python -m tests.lab.measure [--extra 50] [--from-scratch]

--from-scratch builds the base into a fresh cache directory (downloads included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import rootfs
from .host import Host, run
from .lab import Lab
from .profiles import LAB_PROFILES


def memory_kib(host: Host) -> tuple[int, int]:
    """(RSS, PSS) in KiB summed over the processes in the host's network namespace."""
    rss = pss = 0
    for pid in run("ip", "netns", "pids", host.netns, check=False).stdout.split():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


def measure(profiles: list[str], extra: int) -> dict[str, object]:
    lab = Lab(profiles, extra=extra)
    t0 = time.monotonic()
    lab.start()
    started = time.monotonic() - t0
    try:
        time.sleep(2)
        per_profile: dict[str, list[tuple[int, int]]] = {}
        for h in lab.hosts:
            per_profile.setdefault(h.profile.NAME, []).append(memory_kib(h))
    finally:
        t1 = time.monotonic()
        problems = lab.stop()
        stopped = time.monotonic() - t1
    mem = {
        p: {
            "rss_mib": round(sum(r for r, _ in v) / len(v) / 1024, 1),
            "pss_mib": round(sum(s for _, s in v) / len(v) / 1024, 1),
        }
        for p, v in per_profile.items()
    }
    return {
        "hosts": len(lab.hosts),
        "start_s": round(started, 2),
        "stop_s": round(stopped, 2),
        "memory_per_host": mem,
        "problems": problems,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=int, default=50)
    ap.add_argument("--from-scratch", action="store_true")
    args = ap.parse_args()
    out: dict[str, object] = {}
    if args.from_scratch:
        cache = tempfile.mkdtemp(prefix="auditor-lab-cache-")
        os.environ["AUDITOR_LAB_CACHE"] = cache
        t0 = time.monotonic()
        base = rootfs.ensure_base()
        out["build_s"] = round(time.monotonic() - t0, 1)
        out["base_size_mib"] = int(run("du", "-sm", str(base)).stdout.split()[0])
    else:
        rootfs.ensure_base()
    out["profiles"] = measure(list(LAB_PROFILES), 0)
    if args.extra:
        out["extra"] = measure([], args.extra)
    print(json.dumps(out, indent=1))
    if args.from_scratch:
        shutil.rmtree(os.environ["AUDITOR_LAB_CACHE"], ignore_errors=True)


if __name__ == "__main__":
    main()
