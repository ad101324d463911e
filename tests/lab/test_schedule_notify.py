"""Schedules fired by a real cron daemon, drift notices delivered by a real MTA, on a lab of their own.

``schedrunner1`` has no systemd: the schedule's command, run there once by hand (as root, over SSH, in
cron's environment), records the run before; a file on ``mailtls1`` is then made readable by all, and
``auditor schedule install`` writes /etc/cron.d/auditor-labfire, which the host's own cron daemon runs at
the next minute: an audit of ``mailtls1`` lands in a fresh dated folder under the output root, holding the
lock of its name, is recorded in root's default history store, where ``auditor history list`` finds it,
finds the new failure and mails the drift notice.
``mailtls1``'s postfix (STARTTLS with a lab-CA certificate) takes a drift notice from ``auditor
notify`` and delivers it to the local mailbox /var/mail/auditor, which the test reads.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.lab.helpers import module_lab
from tests.lab.lab import Lab, host_name
from tests.lab.profiles import SCHEDULE_PROFILES, tlslab

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
RUNNER, MAIL = host_name("schedrunner"), host_name("mailtls")
AUDITOR = "/usr/bin/env PYTHONPATH=/opt/auditor-src /opt/auditor/bin/python3 -m auditor"
OUTPUT_ROOT = "/var/lib/auditor/runs/labfire"
CRON_ENV = "HOME=/root LOGNAME=root SHELL=/bin/sh PATH=/usr/sbin:/usr/bin:/sbin:/bin"  # what cron gives a root job
DIFF = {
    "from": "20261206T020000Z-aaaaaa",
    "to": "20261207T020000Z-bbbbbb",
    "changes": [{"host": "mailtls1", "check": "LNX-SSH-ROOT-LOGIN", "before": "pass", "after": "fail"}],
    "plan_task_changes": [{"host": "mailtls1", "plan_task": "PT-AUTH", "before": "pass", "after": "fail"}],
    "hosts_added": [],
    "hosts_removed": [],
    "host_keys_changed": ["mailtls1"],
}


@pytest.fixture(scope="module")
def sched_lab() -> Iterator[Lab]:
    with module_lab(SCHEDULE_PROFILES, "q", ".192/26") as the_lab:
        yield the_lab


def _root_sh(lab: Lab, name: str, command: str, timeout: float = 120) -> tuple[int, str, str]:
    from tests.lab.sshutil import connect, run

    with connect(lab.host(name).address, lab.key, lab.known_hosts) as ssh:
        return run(ssh, f"sudo -n sh -c {json.dumps(command)}", timeout=timeout)


def test_real_cron_fires_an_installed_schedule(sched_lab: Lab) -> None:
    runner = sched_lab.host(RUNNER)
    target = sched_lab.host(MAIL)
    etc = runner.root / "etc/auditor"
    etc.mkdir(parents=True)
    key = etc / "lab_key"
    key.write_bytes(sched_lab.key.read_bytes())
    key.chmod(0o600)
    (etc / "known_hosts").write_text(sched_lab.known_hosts.read_text())
    (etc / "hosts.ini").write_text(
        f"{target.name} ansible_host={target.address} ansible_user=auditor "
        "ansible_ssh_private_key_file=/etc/auditor/lab_key ansible_become=true\n"
    )
    (etc / "lab-ca.pem").write_text(tlslab.ca_pem())
    # No --db: the job runs as root, so it records into root's default store, the one an officer's
    # "auditor history list" (as root) reads.
    install = (
        f"{AUDITOR} schedule install --name labfire --every '* * * * *' --inventory /etc/auditor/hosts.ini "
        f"--known-hosts /etc/auditor/known_hosts --no-network --output-root {OUTPUT_ROOT} "
        f"--notify-email auditor@localhost --smtp-host {target.address} --smtp-port 25 "
        "--smtp-sender auditor@lab.example --smtp-ca-file /etc/auditor/lab-ca.pem --notify-timeout 30"
    )
    rc, out, err = _root_sh(sched_lab, RUNNER, f"{install} --dry-run --format json")
    assert rc == 0, err
    planned = json.loads(out)
    assert planned["kind"] == "cron"  # no systemd as PID 1 on a lab host
    assert list(planned["files"]) == ["/etc/cron.d/auditor-labfire"]
    assert not (runner.root / "etc/cron.d/auditor-labfire").exists()  # a dry run writes nothing

    # The run before the fire: the schedule's own command, started by hand in cron's environment, so the
    # one fire this test waits for (cron fires at most once a minute) has a previous run to find drift in.
    runs = runner.root / OUTPUT_ROOT.lstrip("/")
    rc, out, err = _root_sh(sched_lab, RUNNER, f"env -i {CRON_ENV} sh -c {shlex.quote(planned['command'])}")
    baseline = sorted(runs.glob("*/results.json"))
    assert rc == 1 and len(baseline) == 1, out + err  # 1: failures found, nothing incomplete
    document = json.loads(baseline[0].read_text())
    statuses = {r["check"]: r["status"] for r in document["hosts"][0]["results"]}
    assert statuses["LNX-SENSITIVE-FILE-PERMISSIONS"] == "pass"
    box = target.root / "var/mail/auditor"
    before = len(_messages(box))
    assert before == 0  # nothing to tell after a first run
    # A change on the audited host: the fired run records the new failure and mails the notice.
    shadow = target.root / "etc/shadow"
    mode = shadow.stat().st_mode
    shadow.chmod(mode | 0o004)
    written = runner.root / "etc/cron.d/auditor-labfire"
    try:
        rc, out, err = _root_sh(sched_lab, RUNNER, install)
        assert rc == 0, err
        assert written.read_text() == planned["files"]["/etc/cron.d/auditor-labfire"]
        rc, out, err = _root_sh(sched_lab, RUNNER, f"{AUDITOR} schedule list --format json")
        assert rc == 0 and [s["command"] for s in json.loads(out)] == [planned["command"]], out + err

        # cron rereads /etc/cron.d each minute and starts the job at the next one; the notice is the run's
        # last act.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and len(_messages(box)) == before:
            time.sleep(2)
    finally:
        rc, out, err = _root_sh(sched_lab, RUNNER, f"{AUDITOR} schedule remove labfire")
        shadow.chmod(mode)
    assert rc == 0 and "removed /etc/cron.d/auditor-labfire" in out, err
    assert not written.exists()
    fired = sorted(set(runs.glob("*/results.json")) - set(baseline))
    assert fired, f"no run under {runs} within 150 s; processes: {_root_sh(sched_lab, RUNNER, 'ps -ef')[1]}"
    document = json.loads(fired[0].read_text())
    folder = fired[0].parent.name
    assert folder == document["run"]["id"] and folder.startswith(datetime.now(UTC).strftime("%Y%m%dT"))
    assert [h["name"] for h in document["hosts"]] == [MAIL]
    assert document["hosts"][0]["status"] == "reachable", document["hosts"][0]["error"]
    statuses = {r["check"]: r["status"] for r in document["hosts"][0]["results"]}
    assert statuses["LNX-SENSITIVE-FILE-PERMISSIONS"] == "fail"
    # The fired run held the lock of its schedule's name, recording itself.
    rc, out, _ = _root_sh(sched_lab, RUNNER, "cat /run/auditor/locks/labfire.lock")
    assert rc == 0 and json.loads(out)["run"] == folder, out

    # The run is in the history, under the id of its results.json.
    assert (runner.root / "var/lib/auditor/history.db").is_file()
    rc, out, err = _root_sh(sched_lab, RUNNER, f"{AUDITOR} history list --format json")
    assert rc == 0, err
    listed = {entry["id"]: entry for entry in json.loads(out)}
    assert folder in listed, (folder, sorted(listed))
    assert listed[folder]["complete"] and listed[folder]["hosts"] == 1, listed[folder]
    assert listed[folder]["inventory"] == document["run"]["inventory"], listed[folder]

    messages = _messages(box)
    assert len(messages) == before + 1, f"no notice within 150 s; runs: {sorted(p.name for p in runs.iterdir())}"
    assert "Drift since the last audit" in str(messages[before]["Subject"])
    body = messages[before].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{MAIL}  LNX-SENSITIVE-FILE-PERMISSIONS  (pass → fail)" in body, body


def _other_ca(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the lab CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _notify(lab: Lab, diff_file: Path, ca: Path, address: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "auditor", "notify", "--diff", str(diff_file),
           "--notify-email", "auditor@localhost", "--smtp-host", address or lab.host(MAIL).address, "--smtp-port", "25",
           "--smtp-sender", "auditor@lab.example", "--smtp-ca-file", str(ca), "--notify-timeout", "20"]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)


def _messages(box: Path) -> list[email.message.EmailMessage]:
    if not box.exists():
        return []
    parsed = []
    for raw in mailbox.mbox(str(box)):
        parsed.append(email.message_from_bytes(raw.as_bytes(), policy=email.policy.default))
    return parsed  # type: ignore[return-value]


def test_notice_delivered_by_postfix_over_verified_starttls(sched_lab: Lab, tmp_path: Path) -> None:
    host = sched_lab.host(MAIL)
    box = host.root / "var/mail/auditor"
    diff_file = tmp_path / "diff.json"
    diff_file.write_text(json.dumps(DIFF))
    lab_ca = tmp_path / "lab-ca.pem"
    lab_ca.write_text(tlslab.ca_pem())

    before = len(_messages(box))
    refused = _notify(sched_lab, diff_file, _other_ca(tmp_path / "other-ca.pem"))
    assert refused.returncode == 3, refused.stderr
    assert "certificate not verified" in refused.stderr and "notice not sent" in refused.stderr
    # The right CA, but the server reached by an address its certificate does not name: refused too.
    alias = sched_lab.addr(40)
    subprocess.run(["ip", "-n", host.netns, "addr", "add", f"{alias}/26", "dev", "eth0"], check=True)
    misnamed = _notify(sched_lab, diff_file, lab_ca, alias)
    assert misnamed.returncode == 3, misnamed.stderr
    assert f"certificate is not valid for '{alias}'" in misnamed.stderr, misnamed.stderr

    sent = _notify(sched_lab, diff_file, lab_ca)
    assert sent.returncode == 0, sent.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_messages(box)) == before:
        time.sleep(0.5)
    messages = _messages(box)
    assert len(messages) == before + 1, (host.root / "var/log/postfix.log").read_text()[-2000:]
    msg = messages[-1]
    subject = str(msg["Subject"])
    assert "Sai lệch so với lần kiểm tra trước" in subject and "Drift since the last audit" in subject
    assert "1 không đạt mới / new failures" in subject
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Không đạt mới / New failures (1):" in body
    assert "mailtls1  LNX-SSH-ROOT-LOGIN  (pass → fail)" in body
    assert "Khóa SSH của máy chủ đã thay đổi / SSH host key changed (1):" in body
    # postfix's own account: the refused attempts ended at STARTTLS (our side rejected the CA, then the
    # name; nothing sent), the delivered one sent MAIL/RCPT/DATA only after STARTTLS succeeded.
    sessions = [line for line in (host.root / "var/log/postfix.log").read_text().splitlines() if " disconnect " in line]
    assert "tlsv1 alert unknown ca" in (host.root / "var/log/postfix.log").read_text()
    assert all("starttls=0/1" in line and "mail=" not in line for line in sessions[-3:-1]), sessions
    assert "ehlo=2 starttls=1 mail=1 rcpt=1 data=1" in sessions[-1], sessions
