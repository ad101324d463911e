"""Building blocks shared by the profiles: host context, base setup, daemon start
commands, and writers for the configurations the plan tasks look at."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

AUDITOR_UID = 1001
PLAN_TASKS = ("PT-AUTH", "PT-AV", "PT-LOG", "PT-USB", "PT-FIREWALL", "PT-IDS")
VERDICTS = frozenset({"pass", "fail", "error", "unknown", "not_applicable"})
EICAR_HDB = "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n"
DAY = 86400.0

# How each daemon is started inside a host (full paths: no systemd, no init.d).
# host.py appends stdio redirection; every command must daemonize itself.
START: dict[str, str] = {
    "rsyslogd": "/usr/sbin/rsyslogd",
    "sshd": "/usr/sbin/sshd",
    "clamd": "/usr/sbin/clamd",
    "fail2ban-server": "/usr/bin/fail2ban-server -b -x",
    "psad": "/usr/sbin/psad",
    "cron": "/usr/sbin/cron",
    "chronyd": "/usr/sbin/chronyd -x",  # -x: never touch the clock (it is the machine's)
    # network profiles (tests/lab/test_network.py); keys are the process names (comm)
    "nginx": "/usr/sbin/nginx",
    "master": "/usr/sbin/postfix start",  # postfix's master daemon
    "dovecot": "/usr/sbin/dovecot",
    "vsftpd": "/usr/sbin/vsftpd /etc/vsftpd-lab.conf",
    "inetd": "/usr/sbin/inetd",  # openbsd-inetd
    "snmpd": "/usr/sbin/snmpd -Lf /var/log/snmpd.log -u Debian-snmp -g Debian-snmp -I -smux,mteTrigger,mteTriggerConf "
    "-p /run/snmpd.pid",
}


@dataclass(frozen=True)
class HostContext:
    name: str
    address: str
    log_server: str  # address of the lab's log server (inventory var log_server)
    auditor_address: str  # where the auditor connects from (the bridge's address)
    other_server: str  # a lab address that is NOT the log server (and has no host)
    authorized_key: str  # the lab's public key for the auditor account
    now: float  # time.time() when the lab started


def dpkg_forget(root: Path, packages: tuple[str, ...]) -> None:
    """Take packages out of dpkg's status database, so dpkg-query reports them not installed."""
    status = root / "var/lib/dpkg/status"
    stanzas = status.read_text().split("\n\n")
    kept = [s for s in stanzas if not any(line in s.splitlines() for line in (f"Package: {p}" for p in packages))]
    status.write_text("\n\n".join(kept))


def write(root: Path, path: str, text: str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Path:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    os.chown(p, uid, gid)
    p.chmod(mode)
    return p


def append(root: Path, path: str, text: str) -> None:
    with open(root / path.lstrip("/"), "a") as f:
        f.write(text)


def base_setup(root: Path, ctx: HostContext, sudo: bool) -> None:
    """What every host gets: identity, the auditor account, logs, no kernel log reader."""
    write(root, "/etc/hostname", f"{ctx.name}\n")
    write(root, "/etc/hosts", f"127.0.0.1\tlocalhost\n{ctx.address}\t{ctx.name}\n")
    append(
        root,
        "/etc/passwd",
        f"auditor:x:{AUDITOR_UID}:{AUDITOR_UID}:lab audit account:/home/auditor:/bin/sh\n",
    )
    append(root, "/etc/group", f"auditor:x:{AUDITOR_UID}:\n")
    # '*' = no password login possible, but not "locked" ('!'), so key auth works.
    append(root, "/etc/shadow", f"auditor:*:{int(ctx.now // DAY)}:0:99999:7:::\n")
    home = root / "home/auditor"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    for d in (home, home / ".ssh"):
        os.chown(d, AUDITOR_UID, AUDITOR_UID)
    home.chmod(0o755)
    (home / ".ssh").chmod(0o700)
    write(root, "/home/auditor/.ssh/authorized_keys", ctx.authorized_key + "\n", 0o600, AUDITOR_UID, AUDITOR_UID)
    if sudo:
        write(root, "/etc/sudoers.d/auditor", "auditor ALL=(ALL) NOPASSWD: ALL\n", 0o440)
    # The lab kernel log belongs to the machine: no host may read /proc/kmsg.
    conf = root / "etc/rsyslog.conf"
    conf.write_text(conf.read_text().replace('module(load="imklog")', '#module(load="imklog")  # lab: off'))
    write(root, "/var/log/auth.log", "", 0o640, 0, 4)  # gid 4 = adm; fail2ban needs the file


# -- PT-AUTH ---------------------------------------------------------------------
def sshd_dropin(root: Path, name: str, text: str) -> None:
    write(root, f"/etc/ssh/sshd_config.d/{name}", text)


def sshd_main_append(root: Path, text: str) -> None:
    """Append to /etc/ssh/sshd_config, i.e. AFTER its `Include sshd_config.d/*.conf`."""
    append(root, "/etc/ssh/sshd_config", text)


HARDENED_SSHD = "PermitRootLogin no\nPasswordAuthentication no\n"


# -- PT-AV -----------------------------------------------------------------------
def clamav_db(
    root: Path,
    built: float,
    filename: str = "daily.cud",
    mtime: float | None = None,
    version: int = 27400,
) -> Path:
    """Write an unsigned ClamAV database whose header says it was built at ``built``.

    Header: ``ClamAV-VDB:<date>:<version>:<sigs>:<flevel>:X:X:<builder>:<epoch>``
    padded with spaces to 512 bytes, then a tar.gz (.cud) or plain tar (.cld) that
    holds ``daily.hdb`` with the EICAR MD5 signature.
    """
    date = datetime.fromtimestamp(built, UTC).strftime("%d %b %Y %H-%M +0000")
    header = f"ClamAV-VDB:{date}:{version}:1:90:X:X:auditor-lab:{int(built)}"
    hdb = EICAR_HDB.encode()
    # libclamav checks the container header against the first line of daily.info
    # (version, sigs, flevel, time) and each member against its size and SHA-256;
    # an unsigned .cud needs no DSIG line.
    info = f"{header}\ndaily.hdb:{len(hdb)}:{hashlib.sha256(hdb).hexdigest()}\n".encode()
    payload = io.BytesIO()
    mode = "w:gz" if filename.endswith(".cud") else "w"
    with tarfile.open(fileobj=payload, mode=mode) as tar:  # type: ignore[call-overload]
        for member, data in (("daily.info", info), ("daily.hdb", hdb)):
            ti = tarfile.TarInfo(member)
            ti.size, ti.mtime, ti.mode = len(data), int(built), 0o644
            tar.addfile(ti, io.BytesIO(data))
    path = root / "var/lib/clamav" / filename
    path.write_bytes(header.encode().ljust(512, b" ") + payload.getvalue())
    os.chown(path, _uid(root, "clamav"), _gid(root, "clamav"))
    t = built if mtime is None else mtime
    os.utime(path, (t, t))
    return path


def clamd_conf(root: Path) -> None:
    """clamd with the lab's tiny database: log to a file, stay small."""
    append(
        root,
        "/etc/clamav/clamd.conf",
        "# lab\nLogFile /var/log/clamav/clamav.log\nMaxThreads 2\nSelfCheck 3600\n",
    )


def clamscan_cron(root: Path, path: str = "/etc/cron.d/clamscan") -> None:
    write(
        root,
        path,
        "# daily scan of /home\n30 2 * * * root /usr/bin/clamscan -r -i /home >>/var/log/clamscan.log 2>&1\n",
    )


# -- PT-LOG ----------------------------------------------------------------------
def rsyslog_rule(root: Path, name: str, text: str) -> None:
    write(root, f"/etc/rsyslog.d/{name}", text)


# -- PT-USB ----------------------------------------------------------------------
def modprobe_conf(root: Path, name: str, text: str) -> None:
    write(root, f"/etc/modprobe.d/{name}", text)


USB_BLOCK = "# storage devices are not allowed (policy 4.2)\ninstall usb-storage /bin/false\n"


# -- PT-FIREWALL -----------------------------------------------------------------
NFT_LOAD = "/usr/sbin/nft -f /etc/nftables.conf || echo 'lab-init: nft failed'"


def nftables(root: Path, chains: str) -> None:
    write(root, "/etc/nftables.conf", "#!/usr/sbin/nft -f\nflush ruleset\n\n" + chains, 0o755)


def nft_input_drop(*extra_accepts: str) -> str:
    accepts = "".join(f"\t\t{a}\n" for a in extra_accepts)
    return (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tiif lo accept\n\t\tct state established,related accept\n\t\ttcp dport 22 accept\n"
        f"{accepts}\t}}\n}}\n"
    )


# -- PT-IDS ----------------------------------------------------------------------
def psad_conf(root: Path, name: str) -> None:
    conf = root / "etc/psad/psad.conf"
    text = conf.read_text().replace("_CHANGEME_", name)
    text = text.replace("ALERTING_METHODS            ALL;", "ALERTING_METHODS            noemail;")
    conf.write_text(text)


def fail2ban_trust_auditor(root: Path, ctx: HostContext) -> None:
    """Never ban the auditor (as real admins whitelist their scanner): a ban would
    make later lab tests flaky."""
    text = f"[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 {ctx.auditor_address}\n"
    write(root, "/etc/fail2ban/jail.d/lab-ignore.conf", text)


# -- host hardening (LNX-* checks of PT-ASSESSMENT, PT-MONITORING, PT-BACKUP, PT-VULN) ----
CHRONY_RUNDIR = "mkdir -p /run/chrony && chown _chrony:_chrony /run/chrony"
# A lab NTP server: its own clock at stratum 8 ("local"), serving every address. It is not itself
# synchronised to a server (chronyc shows no selected source), only a source for the others.
CHRONY_LAB_SERVER = "local stratum 8\nallow\ndriftfile /var/lib/chrony/chrony.drift\n"


def chrony_client_line(server: str) -> str:
    """A server line that polls every 1/16 s, so a lab client is synchronised within a second of
    its server starting (default polling takes minutes, and the audit runs seconds after start)."""
    return f"server {server} iburst minpoll -4 maxpoll -4\n"


# Per-netns sysctls, set explicitly: a new netns copies some of them from the machine's. The kernel
# sends and accepts redirects when "all" OR the interface says 1, so eth0's own values count too.
NET_SYSCTL_HARDENED = (
    "/usr/sbin/sysctl -q -w net.ipv4.ip_forward=0 net.ipv4.conf.all.accept_redirects=0 "
    "net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.all.accept_source_route=0 "
    "net.ipv4.conf.default.accept_redirects=0 net.ipv4.conf.default.send_redirects=0 "
    "net.ipv4.conf.eth0.accept_redirects=0 net.ipv4.conf.eth0.send_redirects=0 || echo 'lab-init: sysctl failed'"
)
# The same, and "default" (interfaces made at boot copy it), for after a reboot.
NET_SYSCTL_PERSISTED = "".join(
    f"{key} = 0\n"
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.default.accept_redirects",
                "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.default.send_redirects",
                "net.ipv4.conf.all.accept_source_route", "net.ipv4.conf.default.accept_source_route")
)  # fmt: skip
HARDENED_SSHD_SESSION = (
    "ClientAliveInterval 300\nClientAliveCountMax 2\nLoginGraceTime 60\nAllowUsers auditor\n"
    "Banner /etc/issue.net\n"
    "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr\n"
    "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256\n"
    "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group14-sha256\n"
)
# pam_faillock as its manual sets it up: preauth refuses a locked account before the password is
# checked, authfail records a wrong one (and ends the stack), authsucc clears the count.
DEBIAN_UNIX_AUTH = "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
FAILLOCK_AUTH = (
    "auth\trequired\t\t\tpam_faillock.so preauth\n"
    "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
    "auth\t[default=die]\t\tpam_faillock.so authfail\n"
    "auth\tsufficient\t\tpam_faillock.so authsucc\n"
)
LEGAL_NOTICE = (
    "This system is for authorised users only. Activity is monitored and logged.\n"
    "Hệ thống chỉ dành cho người được phép sử dụng. Mọi hoạt động đều được giám sát và ghi nhật ký.\n"
)
AUDIT_IDENTITY_RULES = (
    "-w /etc/passwd -p wa -k identity\n-w /etc/shadow -p wa -k identity\n-w /etc/group -p wa -k identity\n"
    "-w /etc/sudoers -p wa -k scope\n-w /etc/sudoers.d/ -p wa -k scope\n"
)
AIDE_DAILY = "#!/bin/sh\n/usr/bin/aide --config /etc/aide/aide.conf --check\n"
# /etc/aide/aide.conf as Debian's aide-common lays it out (the lab base has aide without aide-common):
# the database AIDE reads is the first database_in, resolved by aide itself.
AIDE_CONF = (
    "@@define DBDIR /var/lib/aide\n"
    "database_in=file:@@{DBDIR}/aide.db\n"
    "database_out=file:@@{DBDIR}/aide.db.new\n"
    "@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n"
    "/etc R\n"
)
AIDE_DB = "@@begin_db\n# lab: a baseline taken at install time\n@@end_db\n"
BACKUP_CRON = "# nightly backup of /etc\n30 1 * * * root tar -czf /srv/backup/etc-$(date +\\%F).tar.gz /etc\n"


def replace_in(root: Path, path: str, old: str, new: str) -> None:
    p = root / path.lstrip("/")
    text = p.read_text()
    assert old in text, f"{old!r} not in {path}"
    p.write_text(text.replace(old, new))


def add_account(root: Path, name: str, uid: int, password_field: str) -> None:
    """A local account straight into passwd/shadow (as a careless admin or an intruder would leave it)."""
    append(root, "/etc/passwd", f"{name}:x:{uid}:{uid}::/home/{name}:/bin/sh\n")
    append(root, "/etc/shadow", f"{name}:{password_field}:19000:0:99999:7:::\n")


def backup_archive(root: Path, path: str, mtime: float) -> None:
    p = write(root, path, "lab backup archive\n", 0o600)
    os.utime(p, (mtime, mtime))


# -- helpers ---------------------------------------------------------------------
def _field(root: Path, db: str, name: str, index: int) -> int:
    for line in (root / "etc" / db).read_text().splitlines():
        parts = line.split(":")
        if parts[0] == name:
            return int(parts[index])
    raise KeyError(f"{name} not in /etc/{db}")


def _uid(root: Path, name: str) -> int:
    return _field(root, "passwd", name, 2)


def _gid(root: Path, name: str) -> int:
    return _field(root, "group", name, 2)


def days_ago(ctx: HostContext, days: float) -> float:
    return ctx.now - days * DAY


# -- PT-VULN (LNX-SECURITY-UPDATES-APPLIED) -----------------------------------------
APT_REPO = "/var/local/aptrepo"
APT_REPO_SOURCES = "/etc/apt/sources.list.d/lab-security.list"
APT_REPO_PACKAGE = "hostname"  # small, installed in the base (Essential, so always there)
# Release fields of a security archive: apt prints them as the origin of an Inst line.
APT_SECURITY_RELEASE = (
    "Origin: Debian\nLabel: Debian-Security\nSuite: bookworm-security\nCodename: bookworm-security\n"
    "Components: main\nDescription: auditor lab: a local security archive\n"
)


def _dpkg_status(root: Path, package: str) -> dict[str, str]:
    text = (root / "var/lib/dpkg/status").read_text()
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Package") == package and "installed" in fields.get("Status", ""):
            return fields
    raise KeyError(f"{package} is not installed in the base")


def apt_security_repo(root: Path, upgrade: bool, package: str = APT_REPO_PACKAGE) -> str:
    """A flat apt repository at ``APT_REPO`` (file:, trusted, offline) whose Release says
    Debian-Security / bookworm-security, holding ``package`` at the installed version (nothing
    to upgrade) or, with ``upgrade``, at a higher one (a pending security update); then
    ``apt-get update`` in the host's root against that source alone, so /var/lib/apt/lists is fresh.
    Returns the version offered."""
    import subprocess
    import tempfile

    installed = _dpkg_status(root, package)
    version = installed["Version"] + ("+deb12u1" if upgrade else "")
    # Installed-Size and the relations are part of apt's version hash: with a different hash the SAME
    # version from the archive would still be offered as an upgrade (a rebuilt package).
    keep = (
        "Package",
        "Essential",
        "Priority",
        "Section",
        "Installed-Size",
        "Maintainer",
        "Architecture",
        "Replaces",
        "Pre-Depends",
        "Depends",
        "Breaks",
        "Description",
    )
    fields = {**{k: installed[k] for k in keep if k in installed}, "Version": version}
    control = "".join(f"{k}: {fields[k]}\n" for k in (*keep[:-1], "Version", keep[-1]) if k in fields)
    repo = root / APT_REPO.lstrip("/")
    repo.mkdir(parents=True, exist_ok=True)
    deb = repo / f"{package}_{version}_{installed['Architecture']}.deb"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "DEBIAN").mkdir()
        (Path(tmp) / "DEBIAN/control").write_text(control)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tmp, str(deb)], check=True, capture_output=True
        )
    data = deb.read_bytes()
    stanza = control.replace(
        "Description:",
        (
            f"Filename: ./{deb.name}\nSize: {len(data)}\nMD5sum: {hashlib.md5(data).hexdigest()}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\nDescription:"
        ),
        1,
    )
    packages = repo / "Packages"
    packages.write_text(stanza)
    pk = packages.read_bytes()
    date = datetime.fromtimestamp(time_now(), UTC).strftime("%a, %d %b %Y %H:%M:%S UTC")
    (repo / "Release").write_text(
        APT_SECURITY_RELEASE + f"Date: {date}\nSHA256:\n {hashlib.sha256(pk).hexdigest()} {len(pk)} Packages\n"
    )
    write(root, APT_REPO_SOURCES, f"deb [trusted=yes] file:{APT_REPO} ./\n")
    # Only the local source (never the Debian mirror: hosts are offline), no lock, no _apt sandbox needed.
    cmd = [
        "chroot",
        str(root),
        "apt-get",
        "update",
        "-q",
        "-o",
        f"Dir::Etc::sourcelist={APT_REPO_SOURCES}",
        "-o",
        "Dir::Etc::sourceparts=-",
        "-o",
        "APT::Get::List-Cleanup=0",
    ]
    res = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    )
    if res.returncode != 0 or "W:" in res.stdout + res.stderr or "E:" in res.stdout + res.stderr:
        raise RuntimeError(f"apt-get update of the lab repository failed: {res.stdout}{res.stderr}")
    return version


def time_now() -> float:
    import time

    return time.time()
