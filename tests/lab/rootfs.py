"""Build and cache the Debian bookworm base root filesystem shared by all lab hosts.

The base is built once with ``debootstrap --variant=minbase --include=...`` into a
temporary directory next to the cache entry and renamed into place atomically.
The cache key hashes the package list and ``RECIPE_VERSION``: change either and
the next run builds a new base.  Hosts never write to the base: each one mounts
it read-only as the lower layer of its own overlayfs.
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
MIRROR = os.environ.get("AUDITOR_LAB_MIRROR", "http://deb.debian.org/debian")
# Bump when the build steps below change in a way that changes the result.
RECIPE_VERSION = "4"

PACKAGES: tuple[str, ...] = (
    "openssh-server",
    "sudo",
    "rsyslog",
    "nftables",
    "iptables",
    "clamav",
    "clamav-daemon",
    "psad",
    "fail2ban",
    "cron",
    "procps",
    "iproute2",
    "kmod",
    # psad needs a mail-transport-agent; debootstrap does not resolve virtual
    # packages, so name a provider explicitly: postfix, which the mail profiles run.
    "postfix",
    # network profiles (tests/lab/test_network.py): HTTPS portals, mail, insecure services
    "nginx",
    "openssl",
    "dovecot-imapd",
    "dovecot-pop3d",
    "vsftpd",
    "openbsd-inetd",  # runs telnetd (LATE_PACKAGES)
    "snmpd",
    # Linux hardening checks (controls/iso27001/checks/linux-*.yaml): auditd's rules (auditd cannot run in
    # a PID namespace; the checks judge its configuration), time synchronisation, file integrity, updates
    "auditd",
    "chrony",
    "aide",
    "unattended-upgrades",
    # a second name-service source (getent sees accounts /etc/passwd lacks) and USBGuard's daemon
    "libnss-extrausers",
    "usbguard",
    # a name service that may serve system ids (extrausers refuses uids 0..101): a uid-0 account outside /etc/passwd
    "libnss-db",
)

# Installed with apt inside the base after debootstrap: debootstrap resolves "a | b" to the first
# alternative (also against --exclude), and inetutils-telnetd's "inetutils-syslogd | system-log-daemon"
# and "inetutils-inetd | inet-superserver" would pull packages that conflict with rsyslog and
# openbsd-inetd. apt sees that those two already provide the virtual packages.
LATE_PACKAGES: tuple[str, ...] = ("inetutils-telnetd",)

POLICY_RC_D = "#!/bin/sh\n# auditor lab: never start services from package scripts\nexit 101\n"


def cache_dir() -> Path:
    return Path(os.environ.get("AUDITOR_LAB_CACHE", "/var/cache/auditor-lab"))


def cache_key(packages: tuple[str, ...] = PACKAGES) -> str:
    text = "\n".join([RECIPE_VERSION, SUITE, *sorted(set(packages)), "late:", *LATE_PACKAGES])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_path(packages: tuple[str, ...] = PACKAGES) -> Path:
    return cache_dir() / f"base-{SUITE}-{cache_key(packages)}"


def ensure_base(packages: tuple[str, ...] = PACKAGES, log: Path | None = None) -> Path:
    """Return the cached base rootfs for ``packages``, building it first if needed."""
    final = base_path(packages)
    if (final / ".auditor-lab-complete").exists():
        return final
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".build-*"):  # left by a build that was killed
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    debs = root / "debs"  # .deb cache: a rebuild after a package-list change downloads less
    debs.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{final.name}-", dir=root))
    log = log or root / f"{final.name}.build.log"
    started = time.monotonic()
    try:
        # The own PID namespace makes sure nothing a maintainer script might start
        # survives the build (debootstrap also installs policy-rc.d exit 101 itself).
        cmd = [
            "unshare", "--pid", "--fork", "--mount-proc",
            "debootstrap", "--variant=minbase", f"--cache-dir={debs}",
            "--include=" + ",".join(sorted(set(packages))),
            SUITE, str(tmp), MIRROR,
        ]  # fmt: skip
        with open(log, "w") as out:
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            raise RuntimeError(f"debootstrap failed (rc={rc}); see {log}")
        _late_packages(tmp, log)
        _finish(tmp)
        (tmp / ".auditor-lab-complete").write_text(
            f"packages={','.join(sorted(set(packages)))}\nrecipe={RECIPE_VERSION}\n"
            f"seconds={time.monotonic() - started:.0f}\n"
        )
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / ".auditor-lab-complete").exists():  # lost a race with nobody
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another builder won the race
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _late_packages(root: Path, log: Path) -> None:
    """apt-get install LATE_PACKAGES inside the new base (own PID namespace; policy-rc.d is in place)."""
    if not LATE_PACKAGES:
        return
    script = (
        "set -e; apt-get update -qq; "
        f"apt-get install -y -qq --no-install-recommends {' '.join(LATE_PACKAGES)}; "
        "apt-get clean; rm -rf /var/lib/apt/lists/*"
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["unshare", "--pid", "--fork", "--mount-proc", "chroot", str(root), "/bin/sh", "-c", script]
    with open(log, "a") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
    if rc != 0:
        raise RuntimeError(f"apt-get install {' '.join(LATE_PACKAGES)} in the base failed (rc={rc}); see {log}")


def _finish(root: Path) -> None:
    """Post-build fixes that every host shares."""
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # every host gets its own key
    (root / "run/sshd").mkdir(parents=True, exist_ok=True)
    for d in ("var/log/remote", "var/spool/cron/crontabs"):
        (root / d).mkdir(parents=True, exist_ok=True)
    # Empty the apt lists and the .deb archive inside the base: hosts are offline.
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    print(ensure_base())
