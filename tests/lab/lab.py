"""The Lab orchestrator: N hosts on one bridge, started and stopped as a unit.

    with Lab(["compliant", "logserver"], extra=10) as lab:
        lab.hosts[0].address, lab.inventory, lab.known_hosts, lab.key

``python -m tests.lab.lab [PROFILE ...] [--extra N]`` starts a lab and waits for
Ctrl-C, which is handy for poking at hosts by hand.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import profiles, rootfs
from .host import Host, run
from .profiles.common import HostContext

SHORT_NAMES = {"logserver": "logsrv", "generic": "gen"}
# Address plan inside the lab subnet (offsets from the network address): .1 is the
# bridge, log_server falls back to .2 when the lab has no log server host, hosts
# start at .10; the last two usable addresses are "another server" (what tricky
# hosts forward to) and the down host of inventory variants: nothing is behind them.
BRIDGE_AT, LOG_FALLBACK_AT, FIRST_HOST_AT = 1, 2, 10
WORKERS = 8  # threads for per-host setup and teardown


def host_name(profile: str, n: int = 1) -> str:
    """Name of the n-th host of a profile: compliant1, logsrv1, gen001, ..."""
    short = SHORT_NAMES.get(profile, profile)
    return f"{short}{n:03d}" if profile == "generic" else f"{short}{n}"


class LabError(RuntimeError):
    pass


class Lab:
    def __init__(
        self,
        profile_names: Sequence[str] = (),
        extra: int = 0,
        *,
        bridge: str = "audlab0",
        subnet: str = "10.77.0.0/24",
        run_dir: Path | None = None,
        ssh_timeout: float = 60.0,
        keep: bool = False,
    ) -> None:
        self.bridge = bridge
        self.net = ipaddress.ip_network(subnet)
        self.ssh_timeout = ssh_timeout
        self.keep = keep
        # Created by start(); the name must contain "auditor-lab-" (cleanup_stale looks for it).
        self.dir = Path(run_dir) if run_dir else Path(tempfile.gettempdir()) / f"auditor-lab-{uuid.uuid4().hex[:8]}"
        if len(bridge) > 10:
            raise LabError(f"bridge name {bridge!r} too long (max 10: veths are named {bridge}-N)")
        names = [*profile_names, *["generic"] * extra]
        last = self.net.num_addresses - 2  # offset of the last usable address
        if len(names) > last - 1 - FIRST_HOST_AT:
            raise LabError(f"at most {last - 1 - FIRST_HOST_AT} hosts fit in {subnet}")
        seen: Counter[str] = Counter()
        self.hosts: list[Host] = []
        for i, pname in enumerate(names):
            seen[pname] += 1
            name = host_name(pname, seen[pname])
            addr = self.addr(FIRST_HOST_AT + i)
            self.hosts.append(Host(name, profiles.get(pname), addr, i, self.dir / "hosts" / name, bridge))
        logsrv = [h for h in self.hosts if h.profile.NAME == "logserver"]
        self.log_server = logsrv[0].address if logsrv else self.addr(LOG_FALLBACK_AT)
        self.other_server = self.addr(last - 1)
        self.down_address = self.addr(last)
        self.key = self.dir / "lab_key"
        self.inventory = self.dir / "inventory.ini"
        self.known_hosts = self.dir / "known_hosts"
        self.timings: dict[str, float] = {}
        self._bridge_made = False

    def addr(self, n: int) -> str:
        return str(self.net.network_address + n)

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    # -- start ----------------------------------------------------------------------
    def start(self) -> Lab:
        self._refuse_if_in_use()
        t0 = time.monotonic()
        base = rootfs.ensure_base()
        self.timings["base"] = time.monotonic() - t0
        self.dir.mkdir(parents=True, exist_ok=True)
        # Before any mount: --cleanup of another lab's bridge must know these mounts are not its own.
        (self.dir / BRIDGE_MARK).write_text(self.bridge + "\n")
        try:
            self._start(base)
        except BaseException:
            self.keep = True  # the error message points at logs in the run dir
            problems = self.stop()
            if problems:
                print("lab: teardown after failed start:", *problems, sep="\n  ", file=sys.stderr)
            raise
        self.timings["start"] = time.monotonic() - t0 - self.timings["base"]
        return self

    def _start(self, base: Path) -> None:
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "auditor-lab", "-f", str(self.key))
        pub = self.key.with_suffix(".pub").read_text().strip()
        prefix = self.net.prefixlen
        run("ip", "link", "add", self.bridge, "type", "bridge")
        self._bridge_made = True
        run("ip", "addr", "add", f"{self.addr(BRIDGE_AT)}/{prefix}", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        # Nothing the hosts send is routed anywhere else, whatever the machine's ip_forward.
        Path(f"/proc/sys/net/ipv4/conf/{self.bridge}/forwarding").write_text("0\n")
        now = time.time()

        def setup(h: Host) -> None:
            ctx = HostContext(h.name, h.address, self.log_server, self.addr(BRIDGE_AT), self.other_server, pub, now)
            h.prepare(base, ctx)
            h.plug(self.bridge, prefix)

        # Mostly waiting for mount/ip/ssh-keygen children: threads help even on 2 cores.
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            list(pool.map(setup, self.hosts))
        # Log servers first: a client's rsyslog that finds its server closed
        # suspends forwarding for 30 s and drops what it logs meanwhile.
        first = [h for h in self.hosts if h.profile.NAME == "logserver"]
        for group in (first, [h for h in self.hosts if h not in first]):
            for h in group:
                h.spawn()
            self._wait_ssh(group)
        self.write_known_hosts(self.known_hosts)
        self.write_inventory(self.inventory)
        (self.dir / "hosts.json").write_text(json.dumps(self.describe(), indent=2))

    def _wait_ssh(self, hosts: list[Host]) -> None:
        deadline = time.monotonic() + self.ssh_timeout
        waiting = list(hosts)
        while waiting:
            waiting = [h for h in waiting if not h.ssh_ready()]
            if waiting and time.monotonic() > deadline:
                h = waiting[0]
                raise LabError(
                    f"lab host {h.name} ({h.address}): sshd not accepting TCP after "
                    f"{self.ssh_timeout:.0f}s; see {h.log} and {h.dir}/upper/var/log/"
                    + (f" ({len(waiting) - 1} more hosts not ready)" if len(waiting) > 1 else "")
                )
            if waiting:
                time.sleep(0.1)

    def _refuse_if_in_use(self) -> None:
        if Path(f"/sys/class/net/{self.bridge}").exists():
            raise LabError(
                f"network interface {self.bridge} already exists: another lab is running or a "
                "crashed one left it (clean up: python -m tests.lab.lab --cleanup --bridge "
                f"{self.bridge})"
            )
        addrs = json.loads(run("ip", "-j", "addr", "show").stdout or "[]")
        for link in addrs:
            for a in link.get("addr_info", []):
                if a.get("family") != "inet":
                    continue
                net = ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network
                if net.overlaps(self.net):
                    raise LabError(f"subnet {self.net} already in use: {a['local']} on {link['ifname']}")
        for r in json.loads(run("ip", "-j", "-4", "route", "show", "table", "all").stdout or "[]"):
            try:
                dst = ipaddress.ip_network(r.get("dst", "default"), strict=False)
            except ValueError:  # "default" and the like
                continue
            if dst.overlaps(self.net):
                raise LabError(f"subnet {self.net} already routed: {dst} dev {r.get('dev')}")
        stale = [n for n in _netns_names() if n.startswith(f"{self.bridge}-")]
        if stale:
            raise LabError(f"stale lab network namespaces exist: {', '.join(stale[:5])}")

    # -- stop -----------------------------------------------------------------------
    def stop(self) -> list[str]:
        """Tear down everything; returns a list of problems (empty when clean)."""
        t0 = time.monotonic()
        problems: list[str] = []
        for h in self.hosts:
            h.kill()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for host_problems in pool.map(Host.stop, self.hosts):
                problems += host_problems
        if self._bridge_made:
            res = run("ip", "link", "del", self.bridge, check=False)
            if res.returncode != 0:
                problems.append(f"ip link del {self.bridge}: {res.stderr.strip()}")
            self._bridge_made = False
        if not self.keep and not problems:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.timings["stop"] = time.monotonic() - t0
        return problems

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        problems = self.stop()
        if problems:
            raise LabError("lab teardown left: " + "; ".join(problems))

    # -- files for the auditor --------------------------------------------------------
    def describe(self) -> list[dict[str, object]]:
        return [
            {"name": h.name, "profile": h.profile.NAME, "address": h.address, "expected": h.expected}
            for h in self.hosts
        ]

    def write_inventory(
        self, path: Path, hosts: Iterable[Host] | None = None, down: bool = False, become: bool = True
    ) -> Path:
        """Ansible INI inventory; ``down=True`` adds host ``down1`` with nothing behind it."""
        chosen = list(self.hosts if hosts is None else hosts)
        conn = f"ansible_user=auditor ansible_ssh_private_key_file={self.key} ansible_become={str(become).lower()}"
        groups: dict[str, list[str]] = {}
        for h in chosen:
            groups.setdefault(h.profile.NAME, []).append(f"{h.name} ansible_host={h.address} {conn}")
        if down:
            groups.setdefault("down", []).append(f"down1 ansible_host={self.down_address} {conn}")
        text = "".join(f"[{g}]\n" + "\n".join(lines) + "\n\n" for g, lines in groups.items())
        text += f"[all:vars]\nlog_server={self.log_server}\n"
        Path(path).write_text(text)
        return Path(path)

    def write_variant(
        self, dest: Path, hosts: Iterable[Host] | None = None, wrong_key_for: Iterable[str] = ()
    ) -> tuple[Path, Path]:
        """Inventory with a down host added plus a known_hosts in which the hosts named
        in ``wrong_key_for`` have another valid key; returns (inventory, known_hosts)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        inv = self.write_inventory(dest / "inventory.ini", hosts, down=True)
        return inv, self.write_known_hosts(dest / "known_hosts", wrong_key_for)

    def write_known_hosts(self, path: Path, wrong_key_for: Iterable[str] = ()) -> Path:
        """known_hosts for every host; hosts in ``wrong_key_for`` get another valid key."""
        wrong = set(wrong_key_for)
        lines = []
        for h in self.hosts:
            key = h.host_key
            if h.name in wrong:
                other = self.dir / f"wrong_key_{h.name}"
                if not other.exists():
                    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other))
                key = " ".join(other.with_suffix(".pub").read_text().split()[:2])
            lines.append(f"{h.address},{h.name} {key}")
        Path(path).write_text("\n".join(lines) + "\n")
        return Path(path)


def _netns_names() -> list[str]:
    out = run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def lab_network(index: int | None = None) -> tuple[str, str]:
    """(bridge, /24 subnet) of lab network N: ``audlabN`` on ``10.77.N.0/24``.

    ``AUDITOR_LAB_NET=N`` picks N, so several people (or CI jobs) on one machine can run labs side
    by side; each lab still refuses a bridge or subnet that is in use.
    """
    text = os.environ.get("AUDITOR_LAB_NET", "0") if index is None else str(index)
    if not re.fullmatch(r"[0-9]{1,3}", text.strip()):
        raise LabError(f"AUDITOR_LAB_NET must be 0-254, got {text!r}")
    n = int(text)
    if not 0 <= n <= 254:
        raise LabError(f"AUDITOR_LAB_NET must be 0-254, got {n}")
    return f"audlab{n}", f"10.77.{n}.0/24"


BRIDGE_MARK = "bridge"  # file in a lab's run dir naming the bridge it belongs to


def lab_mounts(bridge: str, mounts: str) -> tuple[list[str], list[str]]:
    """(overlay roots of labs on ``bridge``, overlay roots of labs whose bridge is unknown) in ``mounts``
    (/proc/mounts text). A lab's run dir names its bridge (``BRIDGE_MARK``); a lab on another bridge is
    never in either list, and one without the mark is only reported: it may be running beside us."""
    mine: list[str] = []
    unknown: list[str] = []
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] != "overlay":
            continue
        target = fields[1].replace("\\040", " ")
        lab_dir, sep, _ = target.rpartition("/hosts/")
        if not sep or "/auditor-lab-" not in lab_dir + "/" or not target.endswith("/root"):
            continue
        try:
            owner = (Path(lab_dir) / BRIDGE_MARK).read_text().strip()
        except OSError:
            unknown.append(target)
            continue
        if owner == bridge:
            mine.append(target)
    return mine, unknown


def cleanup_stale(bridge: str) -> list[str]:
    """Remove what a crashed lab on ``bridge`` left: the processes in its network namespaces, the
    namespaces, its veths, the bridge and its overlay mounts. Nothing of a lab on another bridge is
    touched. Returns the overlay mounts left alone because no lab dir says whose they are."""
    for ns in (n for n in _netns_names() if n.startswith(f"{bridge}-")):
        for pid in run("ip", "netns", "pids", ns, check=False).stdout.split():
            run("kill", "-9", pid, check=False)
        run("ip", "netns", "del", ns, check=False)
    mine, unknown = lab_mounts(bridge, Path("/proc/mounts").read_text())
    for target in mine:
        run("umount", "-l", target, check=False)
    for dev in Path("/sys/class/net").iterdir():
        if dev.name.startswith(f"{bridge}-"):
            run("ip", "link", "del", dev.name, check=False)
    if Path(f"/sys/class/net/{bridge}").exists():
        run("ip", "link", "del", bridge, check=False)
    return unknown


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The CLI's options; --bridge and --subnet default to lab network AUDITOR_LAB_NET (0 when unset)."""
    bridge, subnet = lab_network()
    ap = argparse.ArgumentParser(prog="python -m tests.lab.lab")
    ap.add_argument("profiles", nargs="*", default=list(profiles.LAB_PROFILES))
    ap.add_argument("--extra", type=int, default=0)
    ap.add_argument("--cleanup", action="store_true", help="remove what a crashed lab on --bridge left")
    ap.add_argument("--bridge", default=bridge, help=f"default from AUDITOR_LAB_NET: {bridge}")
    ap.add_argument("--subnet", default=subnet, help=f"default from AUDITOR_LAB_NET: {subnet}")
    ap.add_argument("--keep", action="store_true", help="keep the run dir after stop")
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    if args.cleanup:
        for target in cleanup_stale(args.bridge):
            print(f"lab: left mounted (no {BRIDGE_MARK} file says which lab it is): {target}", file=sys.stderr)
        return 0
    lab = Lab(args.profiles, extra=args.extra, keep=args.keep, bridge=args.bridge, subnet=args.subnet)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        lab.start()
        print(json.dumps({"dir": str(lab.dir), "timings": lab.timings, "hosts": lab.describe()}, indent=1))
        print(f"inventory: {lab.inventory}\nknown_hosts: {lab.known_hosts}\nkey: {lab.key}\nCtrl-C stops")
        subprocess.run(["sleep", "infinity"], check=False)
    except KeyboardInterrupt:
        pass
    finally:
        problems = lab.stop()
        print("stopped", lab.timings, problems or "clean", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
