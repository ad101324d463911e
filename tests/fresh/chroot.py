"""A fresh Debian root for one test: a copy of the pristine base, this machine's package-client settings
carried in, commands run in it as root, and everything removed afterwards.

A chroot does not inherit how this machine reaches its package registries, so these are carried in:
the apt sources and the apt.conf.d files that set how apt acquires, the CA bundle (and the local CAs
that rebuild it), resolv.conf, every pip configuration file, the PIP_* and proxy variables, and the
local directories and files those settings name (find-links, file:// indexes, constraints), which are
bind-mounted read-only. Nothing else of this machine: no python3, no pip.

Each command runs in its own mount and PID namespaces: /proc, /sys and /dev are mounted there, so they
vanish with the namespace however the command ends, and nothing it started outlives it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.fresh.base import COMPLETE

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
PIP_CONFIGS = (
    Path("/etc/pip.conf"),
    Path("/etc/xdg/pip"),
    Path.home() / ".config/pip/pip.conf",
    Path.home() / ".pip/pip.conf",
)
# A fresh root shell's PATH (Debian's and Ubuntu's /etc/profile for uid 0).
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# Skipped when the checkout is copied in: git data, caches, earlier reports, a running lab's mounts.
SKIP_NAMES = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".venv", "build", "dist"}
SKIP_PATHS = {"reports", "tests/lab/run", "tests/lab/.cache"}


def _copy_file(src: Path, root: Path) -> None:
    dst = root / str(src).lstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst, follow_symlinks=True)


def _local_paths(text: str) -> list[Path]:
    """Absolute paths and file:// URLs in pip settings (find-links, index URLs, constraints)."""
    found = []
    for token in re.findall(r"(?:file://)?(/[^\s'\"]+)", text):
        path = Path(token)
        # A PEP 503 index (…/simple) links to its files beside it (../../files/…): carry its parent.
        if path.name == "simple":
            path = path.parent
        found.append(path)
    return found


def _carry_settings(root: Path) -> list[Path]:
    """Copy this machine's package-client settings into ``root``; return the directories to bind read-only."""
    apt = Path("/etc/apt")
    for old in [root / "etc/apt/sources.list", *(root / "etc/apt/sources.list.d").glob("*")]:
        old.unlink(missing_ok=True)
    listed = apt / "sources.list.d"
    for src in [apt / "sources.list", *listed.glob("*.list"), *listed.glob("*.sources")]:
        if src.is_file():
            _copy_file(src, root)
    for conf in sorted((apt / "apt.conf.d").glob("*")):  # mirror, proxy and validity settings only
        if conf.is_file() and re.search(r"^\s*Acquire", conf.read_text(errors="replace"), re.M):
            _copy_file(conf, root)
    for keys in (apt / "keyrings", apt / "trusted.gpg.d"):
        for key in keys.glob("*"):
            if key.is_file():
                _copy_file(key, root)
    for src in [Path("/etc/resolv.conf"), CA_BUNDLE, *LOCAL_CAS.glob("**/*.crt")]:
        if src.is_file():
            _copy_file(src, root)

    texts = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_")]
    extra = os.environ.get("PIP_CONFIG_FILE")
    for conf in [*PIP_CONFIGS, *([Path(extra)] if extra else [])]:
        files = sorted(p for p in conf.glob("**/*") if p.is_file()) if conf.is_dir() else [conf]
        for f in files:
            if not f.is_file():
                continue
            lines = f.read_text(errors="replace").splitlines()
            texts += [line for line in lines if not line.lstrip().startswith(("#", ";"))]
            home = Path.home()
            inside = Path("/root") / f.relative_to(home) if f.is_relative_to(home) else f  # the chroot runs as root
            (root / str(inside).lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, root / str(inside).lstrip("/"))
    binds = []
    for path in _local_paths("\n".join(texts)):
        if path.is_dir() and path not in binds:
            binds.append(path)
        elif path.is_file() and not (root / str(path).lstrip("/")).exists():
            _copy_file(path, root)
    return binds


def _copy_checkout(repo: Path, dest: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(repo)
        return {
            n for n in names
            if n in SKIP_NAMES or n.endswith(".egg-info") or (rel / n).as_posix() in SKIP_PATHS
        }  # fmt: skip

    shutil.copytree(repo, dest, symlinks=True, ignore=ignore)


def _mounted_under(root: Path) -> list[str]:
    """Mount points at or under ``root`` in this mount namespace (/proc/self/mountinfo field 5)."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return points


class FreshRoot:
    def __init__(self, root: Path, binds: list[Path]) -> None:
        self.root = root
        self.binds = binds

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def run(self, command: str, cwd: str = "/root", timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``command`` in a root login shell (bash -l) inside the root, with a fresh root's environment."""
        r = shlex.quote(str(self.root))
        mounts = [
            f"mount -t proc proc {r}/proc",
            f"mount -t sysfs -o ro sysfs {r}/sys",
            f"mount --rbind /dev {r}/dev",
        ]
        for b in self.binds:
            src, dst = shlex.quote(str(b)), shlex.quote(f"{self.root}{b}")
            mounts += [f"mkdir -p {dst}", f"mount --bind {src} {dst}", f"mount -o remount,bind,ro {dst}"]
        env = {"HOME": "/root", "PATH": ROOT_PATH, "USER": "root", "LOGNAME": "root"}
        env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in PROXY_VARS})
        inner = f"cd {shlex.quote(cwd)} && {command}"
        chroot = ["chroot", str(self.root), "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items())]
        chroot += ["/bin/bash", "-l", "-c", inner]
        script = "set -e; " + "; ".join(mounts) + "; exec " + shlex.join(chroot)
        cmd = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "sh", "-c", script]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


@contextlib.contextmanager
def fresh_root(base: Path, repo: Path, checkout: str = "/root/auditor") -> Iterator[FreshRoot]:
    """A copy of ``base`` with the settings carried in and ``repo`` copied to ``checkout``; removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="auditor-fresh-", dir="/var/tmp"))
    root = tmp / "root"
    try:
        root.mkdir()
        subprocess.run(["cp", "-a", f"{base}/.", f"{root}/"], check=True, capture_output=True)
        (root / COMPLETE).unlink(missing_ok=True)
        binds = _carry_settings(root)
        _copy_checkout(repo, root / checkout.lstrip("/"))
        yield FreshRoot(root, binds)
    finally:
        # The mounts live in the commands' own namespaces; this only catches one that escaped.
        for point in sorted(_mounted_under(tmp), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(tmp)], check=False)
