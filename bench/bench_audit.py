"""How fast is `auditor run` compared with what the hardware allows and with the usual tools?

    python -m bench.bench_audit [--hosts 100] [--concurrency 50] [--repeat 3] [--no-ansible]

Starts N generic lab hosts (tests/lab; root needed) and measures, in one run and at the same
concurrency, against the same hosts and the same commands:

  floor      paramiko connect + host-key check + key auth + close (bench/ssh_methods.py)
  batched    floor + one exec running the baseline's batch script under one sudo (hand-written)
  auditor    `auditor run --playbook baseline --no-history` (CLI start-up, catalog, parsing, verdicts, reports)
  history    the same, recording into a SQLite history store (``--db``): the price of the history
  naive      floor + one channel and one sudo per command, as InSpec/Train does
  ansible    ansible-core ad-hoc `-m shell -b` with the same script, forks = concurrency, pipelining on
             (installed in its own venv under the bench cache: not a dependency of the project)

Absolute times vary between machines and runs; the ratios, measured in the same run, are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure
from tests.lab.lab import Lab

CACHE = Path(os.environ.get("AUDITOR_BENCH_CACHE", "/var/cache/auditor-bench"))
METHODS = ("floor", "batched", "auditor", "history", "naive", "ansible")


@dataclass
class Result:
    samples: list[measure.Sample] = field(default_factory=list)

    def wall_min(self) -> float:
        return min(s.wall for s in self.samples)

    def wall_median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    def per_host(self, attr: str, hosts: int) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples) / hosts * 1000

    def peak_mb(self) -> float:
        return max(s.peak_rss_mb for s in self.samples)


def baseline_snippets(lab: Lab) -> list[str]:
    """The distinct snippets the baseline playbook runs on a generic host: the same commands for every method."""
    from auditor.catalog import load_catalog
    from auditor.catalog.playbook import load_playbook, plan_run
    from auditor.engine import plan_work
    from auditor.inventory import load_inventory
    from auditor.network.plans import split

    catalog = load_catalog()
    plans = plan_run(load_playbook("baseline", catalog), catalog, load_inventory(lab.inventory), {})
    host_plans, _ = split(plans)  # NET-* checks run from the auditor, not in the host's batch
    return plan_work(host_plans[0]).snippets


def ansible_binary() -> Path:
    venv = CACHE / "ansible-venv"
    binary = venv / "bin" / "ansible"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ansible-core"], check=True)
    return binary


def commands(method: str, lab: Lab, work: Path, concurrency: int, script: str, i: int) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if method in ("floor", "batched", "naive"):
        return [sys.executable, "-m", "bench.ssh_methods", method, str(work / "targets.json")], env
    if method in ("auditor", "history"):
        out = work / f"{method}-{i}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "auditor", "run", "--inventory", str(lab.inventory), "--known-hosts",
               str(lab.known_hosts), "--jobs", str(concurrency), "--output", str(out)]  # fmt: skip
        # The store grows run after run, as a real one does; "auditor" records nothing.
        store = ["--db", f"sqlite:///{work / 'history.db'}"] if method == "history" else ["--no-history"]
        return [*cmd, "--no-network", *store], env  # the host phase; bench_network.py measures the network phase
    control = Path(tempfile.mkdtemp(prefix="cp", dir=work))  # a cold SSH control path every repetition
    env.update(
        {
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
            "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={lab.known_hosts}",
            "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }
    )
    cmd = [str(ansible_binary()), "all", "-i", str(lab.inventory), "-m", "shell", "-a", script, "-b",
           "-f", str(concurrency), "-o"]  # fmt: skip
    return cmd, env


def single_host_latency(lab: Lab, repeat: int = 7) -> float:
    """Milliseconds to audit one host in-process (connect, batch, parse, judge): the best of `repeat`.
    Snippets run concurrently on the host, as `auditor run` does when it has fewer hosts than jobs."""
    code = f"""
import time
from pathlib import Path
from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.engine import RunOptions, audit_host
from auditor.inventory import load_inventory
from auditor.transports import ConnectOptions
catalog = load_catalog()
from auditor.network.plans import split
plans = plan_run(load_playbook("baseline", catalog), catalog, load_inventory(Path({str(lab.inventory)!r})), {{}})
plan = split(plans)[0][0]
best = 1e9
for _ in range({repeat}):
    options = RunOptions(connect=ConnectOptions(known_hosts=Path({str(lab.known_hosts)!r})), parallel_snippets=True)
    t = time.perf_counter(); result = audit_host(plan, options); best = min(best, time.perf_counter() - t)
    assert result.status == "reachable", result.error
print(best * 1000)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--net", type=int, default=int(os.environ.get("AUDITOR_LAB_NET", "7")))
    ap.add_argument("--no-ansible", action="store_true", help="skip Ansible (no venv install)")
    args = ap.parse_args()

    # A /24 holds about 240 lab hosts; larger runs take a /22 of the lab range.
    subnet = f"10.77.{args.net}.0/24" if args.hosts <= 230 else "10.77.200.0/22"
    lab = Lab([], extra=args.hosts, bridge=f"audlab{args.net}", subnet=subnet)
    methods = [m for m in METHODS if not (m == "ansible" and args.no_ansible)]
    results = {m: Result() for m in methods}
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        work = Path(tmp)
        lab.start()
        try:
            snippets = baseline_snippets(lab)
            from auditor import batch

            script = batch.build(snippets, timeout=30).script
            if any(t in script for t in ("{{", "{%", "{#")):
                raise SystemExit("the batch script contains Jinja markers; Ansible would template it")
            (work / "targets.json").write_text(json.dumps({
                "hosts": [h.address for h in lab.hosts], "user": "auditor", "key": str(lab.key),
                "known_hosts": str(lab.known_hosts), "concurrency": args.concurrency, "snippets": snippets,
            }))  # fmt: skip
            if "ansible" in methods:
                ansible_binary()  # install before timing anything
            for i in range(args.repeat):
                for method in methods:  # interleaved, so drift affects every method alike
                    cmd, env = commands(method, lab, work, args.concurrency, script, i)
                    # The auditor exits 1 or 3 on findings; Ansible 2 or 4 when a host failed (or it could
                    # not even parse the script): its time would then measure nothing.
                    ok = (0,) if method == "ansible" else (0, 1, 3)
                    results[method].samples.append(measure.run(cmd, env, ok=ok))
                    if method in ("auditor", "history"):
                        measure.all_audited(work / f"{method}-{i}" / "results.json", len(lab.hosts))
            latency = single_host_latency(lab)
        finally:
            problems = lab.stop()
            if problems:
                print("lab teardown:", problems, file=sys.stderr)
    report(results, args, len(snippets), latency)


def report(results: dict[str, Result], args: argparse.Namespace, n_snippets: int, latency: float) -> None:
    n = args.hosts
    print(
        f"\n{n} generic lab hosts, concurrency {args.concurrency}, {n_snippets} distinct commands per host, "
        f"best/median of {args.repeat}; {os.cpu_count()} cores shared by client and hosts\n"
    )
    header = (
        f"{'method':<10}{'wall min':>10}{'median':>9}{'hosts/s':>9}{'x floor':>9}"
        f"{'client CPU/host':>17}{'machine CPU/host':>18}{'peak RSS':>10}"
    )
    print(header)
    floor = results["floor"].wall_min()
    for method, r in results.items():
        print(
            f"{method:<10}{r.wall_min():>9.2f}s{r.wall_median():>8.2f}s{n / r.wall_min():>9.0f}"
            f"{r.wall_min() / floor:>9.2f}{r.per_host('client_cpu', n):>14.1f} ms"
            f"{r.per_host('machine_cpu', n):>15.1f} ms{r.peak_mb():>7.0f} MB"
        )
    print(f"\nsingle-host latency (in-process audit of one host, best of 7): {latency:.0f} ms")
    auditor, batched = results["auditor"].wall_min(), results["batched"].wall_min()
    print(f"ratio_vs_floor: {auditor / floor:.2f}")
    print(f"ratio_vs_batched_reference: {auditor / batched:.2f}")
    history = results["history"]
    print(
        f"history_overhead: {history.wall_median() / results['auditor'].wall_median():.3f} (median wall, "
        f"recording into SQLite vs --no-history; best {history.wall_min() / auditor:.3f})"
    )
    if "ansible" in results:
        print(f"speedup_vs_ansible: {results['ansible'].wall_min() / auditor:.1f}")


if __name__ == "__main__":
    main()
