"""Drift notices: what counts as drift, the bilingual text, the command hook, and a server that offers no
STARTTLS getting nothing (a real socket on loopback; the TLS path is proven against postfix in the lab)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from auditor import notify
from auditor.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DIFF = {
    "from": "20261206T020000Z-aaaaaa",
    "to": "20261207T020000Z-bbbbbb",
    "changes": [
        {"host": "web01", "check": "LNX-AV-SIGNATURES-FRESH", "before": "pass", "after": "fail"},
        {"host": "web02", "check": "LNX-SSH-ROOT-LOGIN", "before": None, "after": "fail"},
        {"host": "db01", "check": "LNX-FIREWALL-ACTIVE", "before": "pass", "after": "error"},
        {"host": "db01", "check": "LNX-USB-STORAGE", "before": "fail", "after": "pass"},
        {"host": "db02", "check": "LNX-LOG-REMOTE", "before": "error", "after": "unknown"},
    ],
    "plan_task_changes": [],
    "hosts_added": ["web02"],
    "hosts_removed": [],
    "host_keys_changed": ["db01\x1b[31m"],
}


def test_drift_counts_new_failures_errors_and_keys() -> None:
    found = notify.Drift.of(DIFF)
    assert [c["host"] for c in found.new_failures] == ["web01", "web02"]
    assert [c["host"] for c in found.new_errors] == ["db01"]  # error -> unknown is no news
    assert found.host_keys_changed == ["db01\x1b[31m"] and found.fixed == 1


def test_no_drift_when_only_fixes() -> None:
    fixed = {**DIFF, "changes": [DIFF["changes"][3]], "host_keys_changed": []}
    assert not notify.Drift.of(fixed)
    assert notify.deliver(notify.Settings(command=("/bin/false",)), fixed) == (False, [])


def test_text_is_bilingual_and_harmless() -> None:
    subject, body = notify.compose(DIFF, notify.Drift.of(DIFF))
    assert "Sai lệch" in subject and "Drift since the last audit" in subject
    assert "2 không đạt mới / new failures" in subject and "1 đổi khóa SSH / host keys changed" in subject
    assert "Không đạt mới / New failures (2):" in body and "web01  LNX-AV-SIGNATURES-FRESH  (pass → fail)" in body
    assert "Khóa SSH của máy chủ đã thay đổi / SSH host key changed (1):" in body
    assert "\x1b" not in body and "db01?[31m" in body
    msg = notify.message(notify.MailSettings("mx.lab", 587, "auditor@lab.example", ("soc@lab.example",), None),
                         subject, body)  # fmt: skip
    assert msg["Auto-Submitted"] == "auto-generated" and "\n" not in msg["Subject"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"emails": ("soc@lab",)}, "--smtp-host"),
        ({"emails": ("soc@lab",), "smtp_host": "mx.lab"}, "--smtp-sender"),
        ({"emails": ("soc@lab\nBcc: x@y",), "smtp_host": "mx.lab", "smtp_sender": "a@lab"}, "--notify-email"),
        ({"emails": ("soc@lab",), "smtp_host": "-oProxy", "smtp_sender": "a@lab"}, "--smtp-host"),
        ({"emails": ("soc@lab",), "smtp_host": "mx.lab", "smtp_sender": "a@lab", "smtp_port": 0}, "--smtp-port"),
        ({"smtp_host": "mx.lab"}, "--notify-email"),
        ({"command": "notify-soc --x"}, "--notify-command"),
        ({"command": "/bin/x 'unclosed"}, "--notify-command"),
    ],
)
def test_settings_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        notify.settings(**kwargs)
    assert field in str(info.value)


def test_settings_round_trip_as_run_options(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    config = notify.settings(("soc@lab.example",), "10.77.46.10", 25, "auditor@lab.example", str(ca),
                             command="/usr/local/bin/page --team 'soc desk'", timeout=20)  # fmt: skip
    assert config is not None and config.command == ("/usr/local/bin/page", "--team", "soc desk")
    assert config.as_options() == [
        "--notify-email=soc@lab.example",
        "--smtp-host=10.77.46.10",
        "--smtp-port=25",
        "--smtp-sender=auditor@lab.example",
        f"--smtp-ca-file={ca}",
        "--notify-command=/usr/local/bin/page --team 'soc desk'",
        "--notify-timeout=20",
    ]


def test_command_gets_the_diff_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    config = notify.Settings(command=("/bin/sh", "-c", f"cat > {out}"))
    assert notify.deliver(config, DIFF) == (True, [])
    assert json.loads(out.read_text()) == DIFF


def test_command_does_not_get_the_mail_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notify.SMTP_PASSWORD_ENV, "s3cret")
    monkeypatch.setenv("AUDITOR_HOOK_PROBE", "kept")
    config = notify.Settings(
        command=("/bin/sh", "-c", 'env | grep -q s3cret && exit 9; test "$AUDITOR_HOOK_PROBE" = kept')
    )
    assert notify.deliver(config, DIFF) == (True, [])


def test_command_failure_and_timeout_are_reported() -> None:
    failed = notify.Settings(command=("/bin/sh", "-c", "echo no route to pager >&2; exit 7"))
    assert notify.deliver(failed, DIFF)[1] == ["notice command /bin/sh -c 'echo no route to pager >&2; exit 7' "
                                               "exited 7: no route to pager"]  # fmt: skip
    started = time.monotonic()
    slow = notify.Settings(command=("/bin/sh", "-c", "sleep 30 & sleep 30"), timeout=0.5)
    _, problems = notify.deliver(slow, DIFF)
    assert time.monotonic() - started < 5 and "did not finish in 0.5 s: killed" in problems[0]


def test_a_command_that_exited_is_not_held_by_what_it_left_running(tmp_path: Path) -> None:
    """A daemon the hook started in a session of its own keeps stderr open: the hook itself exited 0."""
    pid_file = tmp_path / "daemon.pid"
    config = notify.Settings(command=("/bin/sh", "-c", f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 20' & exit 0"),
                             timeout=10)  # fmt: skip
    started = time.monotonic()
    try:
        assert notify.deliver(config, DIFF) == (True, [])
        assert time.monotonic() - started < 5
    finally:
        for _ in range(50):
            if pid_file.exists() and pid_file.read_text().strip():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                break
            time.sleep(0.1)


def test_a_command_that_prints_without_end_costs_no_memory() -> None:
    """Its error output is read to the end but only its last line is kept."""
    probe = f"""
import resource
from auditor import notify
config = notify.Settings(command=("/bin/sh", "-c", "yes x | head -c 200000000 >&2; echo last words >&2; exit 3"))
print(notify.deliver(config, {DIFF!r})[1][0])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    said, peak_kib = proc.stdout.splitlines()
    assert said.endswith("exited 3: last words"), proc.stderr
    assert int(peak_kib) < 400_000, f"{int(peak_kib) // 1024} MiB"  # held whole: 1.3 GiB


def _server_without_starttls(seen: list[bytes]) -> tuple[int, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            conn.sendall(b"220 plain.lab ESMTP\r\n")
            reader = conn.makefile("rb")
            for line in reader:
                seen.append(line)
                if line.upper().startswith((b"EHLO", b"HELO")):
                    conn.sendall(b"250-plain.lab\r\n250 8BITMIME\r\n")
                elif line.upper().startswith(b"QUIT"):
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def test_server_without_starttls_gets_nothing() -> None:
    seen: list[bytes] = []
    port, thread = _server_without_starttls(seen)
    mail = notify.MailSettings("127.0.0.1", port, "auditor@lab.example", ("soc@lab.example",), None, timeout=5)
    config = notify.Settings(mail=mail)
    drifted, problems = notify.deliver(config, DIFF)
    thread.join(5)
    assert drifted and problems == [f"mail server 127.0.0.1:{port} does not offer STARTTLS: notice not sent "
                                    "(never in clear text)"]  # fmt: skip
    assert not any(line.upper().startswith((b"MAIL", b"RCPT", b"DATA", b"AUTH")) for line in seen), seen


def test_notify_command_line_exit_codes(tmp_path: Path) -> None:
    diff_file = tmp_path / "diff.json"
    diff_file.write_text(json.dumps(DIFF))
    base = [sys.executable, "-m", "auditor", "notify", "--diff", str(diff_file)]
    ok = subprocess.run([*base, "--notify-command", f"/bin/sh -c 'cat > {tmp_path}/x'"], cwd=REPO,
                        capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([*base, "--notify-command", "/bin/false"], cwd=REPO, capture_output=True, text=True)
    assert failed.returncode == 3 and "error: drift notice: notice command /bin/false exited 1" in failed.stderr
    diff_file.write_text('{"changes": [{"host": "x"}]}')
    bad = subprocess.run([*base, "--notify-command", "/bin/true"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and "changes[0]" in bad.stderr
    for text, said in [
        ('{"changes": [], "hosts_added": 5}', "hosts_added: expected a list"),
        ('{"changes": [], "hosts_removed": "web1"}', "hosts_removed: expected a list"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),  # deeper than the parser's recursion
    ]:
        diff_file.write_text(text)
        bad = subprocess.run([*base, "--notify-command", "/bin/true"], cwd=REPO, capture_output=True, text=True)
        assert bad.returncode == 2 and said in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_a_failed_notice_turns_a_finished_run_into_exit_3() -> None:
    from auditor.drift_notices import send_drift_notices

    failing = notify.Settings(command=("/bin/false",))
    assert send_drift_notices(failing, DIFF, 1).exit_code == 3
    assert send_drift_notices(failing, DIFF, 0).exit_code == 3
    assert send_drift_notices(failing, DIFF, 3).exit_code == 3 and send_drift_notices(failing, DIFF, 4).exit_code == 4
    assert send_drift_notices(notify.Settings(command=("/bin/true",)), DIFF, 1).exit_code == 1
    first = send_drift_notices(failing, None, 1)  # the first run: nothing to compare with, nothing sent
    assert first.exit_code == 1 and "nothing sent" in first.messages[0]
    said = send_drift_notices(failing, DIFF, 0).messages
    assert "error: drift notice: notice command /bin/false exited 1" in said
