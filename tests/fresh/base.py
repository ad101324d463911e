"""The pristine Debian bookworm root filesystem that the fresh-machine test starts from, built once and cached.

``debootstrap --variant=minbase`` with nothing added: no python3, no pip, as bare as a Debian 12 gets
(a minimal install or a container image). It is built into a temporary directory next to the cache entry
and renamed into place, so a killed build never leaves a half base. Nothing ever runs inside the cached
copy: each test run copies it into a directory of its own (``tests/fresh/chroot.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
MIRROR = os.environ.get("AUDITOR_LAB_MIRROR", "http://deb.debian.org/debian")
# Bump when the build below changes in a way that changes the result.
RECIPE_VERSION = "1"
COMPLETE = ".auditor-fresh-complete"


def cache_dir() -> Path:
    return Path(os.environ.get("AUDITOR_FRESH_CACHE", "/var/cache/auditor-fresh"))


def base_path() -> Path:
    key = hashlib.sha256("\n".join([RECIPE_VERSION, SUITE, VARIANT]).encode()).hexdigest()[:16]
    return cache_dir() / f"base-{SUITE}-{VARIANT}-{key}"


def ensure_base() -> Path:
    """The cached pristine base, built first if needed. Raises RuntimeError when debootstrap fails."""
    final = base_path()
    if (final / COMPLETE).exists():
        return final
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".build-*"):  # left by a build that was killed
        if time.time() - stale.stat().st_mtime > 3600:
            subprocess.run(["rm", "-rf", "--one-file-system", str(stale)], check=False)
    debs = root / "debs"  # downloaded .debs: a rebuild after a recipe change downloads nothing again
    debs.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{final.name}-", dir=root))
    log = root / f"{final.name}.build.log"
    started = time.monotonic()
    try:
        # Its own PID namespace: nothing a maintainer script starts outlives the build.
        cmd = [
            "unshare", "--pid", "--fork", "--mount-proc",
            "debootstrap", f"--variant={VARIANT}", f"--cache-dir={debs}", SUITE, str(tmp), MIRROR,
        ]  # fmt: skip
        with open(log, "w") as out:
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            raise RuntimeError(f"debootstrap failed (rc={rc}); see {log}")
        (tmp / COMPLETE).write_text(f"recipe={RECIPE_VERSION}\nseconds={time.monotonic() - started:.0f}\n")
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / COMPLETE).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another build won the race
    except BaseException:
        subprocess.run(["rm", "-rf", "--one-file-system", str(tmp)], check=False)
        raise
    return final


if __name__ == "__main__":
    print(ensure_base())
