"""Measure one command as a whole process tree: wall time, CPU, peak RSS, machine CPU."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Sample:
    wall: float  # seconds
    client_cpu: float  # user + system seconds of the command and every descendant it waited for
    machine_cpu: float  # CPU seconds spent by the whole machine meanwhile (lab hosts included)
    peak_rss_mb: float  # highest sum of RSS over the command's process tree
    rc: int


def _machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900, ok: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> Sample:
    """Run and measure; an exit code outside ``ok`` is an error: a method that failed has no time to compare."""
    cpu0 = _machine_cpu_seconds()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4 gives the rusage of the child and of every descendant it waited for.
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.01)
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in ok:
        raise RuntimeError(f"{cmd[:3]} exited {proc.returncode}: {stderr[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, _machine_cpu_seconds() - cpu0, peak / 1024, proc.returncode)


def all_audited(results: Path, hosts: int) -> list[dict[str, Any]]:
    """The run's hosts, each reached and audited: a run that failed fast would look fast (else exits,
    naming the first hosts that were not and why)."""
    document = json.loads(results.read_text())
    reached = [h for h in document["hosts"] if h["status"] == "reachable" and h["results"]]
    if len(reached) != hosts:
        missed = [h for h in document["hosts"] if not (h["status"] == "reachable" and h["results"])]
        reasons = "".join(f"\n  {h['name']}: {h['status']}: {h.get('error')}" for h in missed[:20])
        raise SystemExit(f"{len(reached)} of {hosts} hosts audited (see {results}):{reasons}")
    return reached
