"""Drift notices: after a run that drifted from the previous one, tell someone, in Vietnamese and English.

Input is the diff of two runs (``auditor diff --format json``): ``{"from", "to", "changes": [{"host",
"check", "before", "after"}], "plan_task_changes", "hosts_added", "hosts_removed",
"host_keys_changed"}``. Drift = a check that now fails and did not, a check that now cannot be
decided (error/unknown) and could, or a host whose SSH key changed.

Two ways out, either or both: mail through the agency's own server, always over STARTTLS with a
certificate verified against a CA file (host name checked; a server without STARTTLS or with an
unverified certificate gets nothing, never a clear-text copy, and AUTH only after STARTTLS); and a
command (an argv, no shell) that reads the diff JSON on stdin, bounded by a timeout. A notice that
fails is reported to the caller: the run's files are already written by then.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import smtplib
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import IO, Any

from auditor import addresses
from auditor.errors import InputError

_ERR_TAIL = 4096  # bytes of a failed hook's error output kept, for its last line
MOST_LINES = 40  # per section: a notice says what to look at, the report says everything
# A mail address as the notices accept it: plain local part and a host name, no comments, no quoting.
_MAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}@([A-Za-z0-9_.-]{1,253})")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SMTP_PASSWORD_ENV = "AUDITOR_SMTP_PASSWORD"  # never an option: options end up in ps, cron.d and unit files


class NoticeError(Exception):
    """A notice was not delivered; the message says where and why."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    ca_file: Path | None  # None: the system's trust store (still verified)
    user: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class Settings:
    mail: MailSettings | None = None
    command: tuple[str, ...] = ()
    timeout: float = 60.0

    def as_options(self) -> list[str]:
        """The same settings as ``auditor run`` options (for the command line a schedule runs)."""
        out: list[str] = []
        if self.mail is not None:
            out += [f"--notify-email={r}" for r in self.mail.recipients]
            out += [f"--smtp-host={self.mail.host}", f"--smtp-port={self.mail.port}"]
            out += [f"--smtp-sender={self.mail.sender}"]
            if self.mail.ca_file is not None:
                out.append(f"--smtp-ca-file={self.mail.ca_file}")
            if self.mail.user is not None:
                out.append(f"--smtp-user={self.mail.user}")
        if self.command:
            out.append(f"--notify-command={shlex.join(self.command)}")
        if self.mail is not None or self.command:
            out.append(f"--notify-timeout={self.timeout:g}")
        return out


def mail_address(value: str, field_name: str) -> str:
    match = _MAIL.fullmatch(value)
    if not match or not addresses.is_hostname(match.group(1)):
        raise InputError(f"{value!r} is not a plain mail address (name@host)", field=field_name)
    return value


def settings(
    emails: tuple[str, ...] = (),
    smtp_host: str | None = None,
    smtp_port: int = 587,
    smtp_sender: str | None = None,
    smtp_ca_file: str | None = None,
    smtp_user: str | None = None,
    command: str | None = None,
    timeout: float = 60.0,
) -> Settings | None:
    """Settings from the options, every value checked (InputError, exit 2, before any host is contacted)."""
    mail = None
    if emails:
        if not smtp_host:
            raise InputError("--notify-email needs the agency's mail server", field="--smtp-host")
        if not smtp_sender:
            raise InputError("--notify-email needs a sender address", field="--smtp-sender")
        try:
            host = addresses.host(smtp_host)
        except addresses.AddressError as exc:
            raise InputError(str(exc), field="--smtp-host") from None
        if not 0 < smtp_port < 65536:
            raise InputError(f"{smtp_port} is no TCP port", field="--smtp-port")
        if smtp_user is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}", smtp_user):
            raise InputError(f"{smtp_user!r} is not a plain user name", field="--smtp-user")
        if smtp_user is not None and SMTP_PASSWORD_ENV not in os.environ:
            raise InputError(f"--smtp-user needs the password in the environment variable {SMTP_PASSWORD_ENV}")
        mail = MailSettings(
            host=host,
            port=smtp_port,
            sender=mail_address(smtp_sender, "--smtp-sender"),
            recipients=tuple(mail_address(e, "--notify-email") for e in emails),
            ca_file=_ca_file(smtp_ca_file) if smtp_ca_file else None,
            user=smtp_user,
        )
    elif smtp_host or smtp_sender or smtp_ca_file or smtp_user:
        raise InputError("mail server options without any --notify-email recipient", field="--notify-email")
    argv: tuple[str, ...] = ()
    if command is not None:
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise InputError(f"{command!r}: {exc}", field="--notify-command") from None
        if not argv or not os.path.isabs(argv[0]):
            raise InputError(
                "the command's program must be an absolute path (it runs without a shell)", field="--notify-command"
            )
    if not 0 < timeout <= 3600:
        raise InputError(f"{timeout:g} seconds: between 0 and 3600", field="--notify-timeout")
    if mail is None and not argv:
        return None
    return Settings(mail, argv, timeout)


def _ca_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise InputError(
            f"{value}: no such file (the CA certificate that signs the mail server's)", field="--smtp-ca-file"
        )
    return path.absolute()


@dataclass
class Drift:
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    new_errors: list[dict[str, Any]] = field(default_factory=list)
    host_keys_changed: list[str] = field(default_factory=list)
    fixed: int = 0

    def __bool__(self) -> bool:
        return bool(self.new_failures or self.new_errors or self.host_keys_changed)

    @classmethod
    def of(cls, diff: dict[str, Any]) -> Drift:
        """What of a diff a notice reports, by the history's own rule (the report's "since the last run")."""
        from auditor.history.diff import drift as drift_of

        found = drift_of({"changes": diff.get("changes", []), "host_keys_changed": diff.get("host_keys_changed", [])})
        keys = [str(e.get("host") if isinstance(e, dict) else e) for e in found["host_keys_changed"]]
        return cls(found["new_failures"], found["new_errors"], keys, len(found["fixed"]))


def check_diff(diff: Any) -> dict[str, Any]:
    """The diff's shape, as far as notices read it; InputError naming what is wrong."""
    if not isinstance(diff, dict):
        raise InputError("the diff is not a JSON object")
    for key in ("changes", "host_keys_changed", "hosts_added", "hosts_removed"):
        if not isinstance(diff.get(key) or [], list):
            raise InputError(f"{key}: expected a list")
    for i, change in enumerate(diff.get("changes", [])):
        if not isinstance(change, dict) or not all(k in change for k in ("host", "check", "before", "after")):
            raise InputError(f"changes[{i}]: expected an object with host, check, before, after")
    return diff


def _clean(value: Any, most: int = 120) -> str:
    """A host or check name as one harmless line: no control characters, bounded."""
    text = _CONTROL.sub("?", "-" if value is None else str(value))
    return text if len(text) <= most else text[: most - 1] + "…"


def compose(diff: dict[str, Any], found: Drift) -> tuple[str, str]:
    """(subject, body): Vietnamese first, English beside it."""
    nf, ne, nk = len(found.new_failures), len(found.new_errors), len(found.host_keys_changed)
    subject = (
        f"[auditor] Sai lệch so với lần kiểm tra trước / Drift since the last audit: "
        f"{nf} không đạt mới / new failures, {ne} lỗi mới / new errors, {nk} đổi khóa SSH / host keys changed"
    )
    before, after = _clean(diff.get("from"), 64), _clean(diff.get("to"), 64)
    lines = [
        f"Lần kiểm tra {after} so với lần trước {before}.",
        f"Audit run {after} compared with the previous run {before}.",
        "",
    ]

    def section(title: str, rows: list[str]) -> None:
        if not rows:
            return
        lines.append(f"{title} ({len(rows)}):")
        lines.extend(f"  {row}" for row in rows[:MOST_LINES])
        if len(rows) > MOST_LINES:
            lines.append(f"  … và {len(rows) - MOST_LINES} mục khác / and {len(rows) - MOST_LINES} more")
        lines.append("")

    def row(change: dict[str, Any]) -> str:
        verdicts = f"{_clean(change['before'], 16)} → {_clean(change['after'], 16)}"
        return f"{_clean(change['host'])}  {_clean(change['check'])}  ({verdicts})"

    section("Không đạt mới / New failures", [row(c) for c in found.new_failures])
    section("Lỗi mới, không kiểm tra được / New errors, could not be checked", [row(c) for c in found.new_errors])
    section(
        "Khóa SSH của máy chủ đã thay đổi / SSH host key changed",
        [_clean(h) for h in found.host_keys_changed],
    )
    lines += [
        f"Đã khắc phục / Fixed: {found.fixed} · "
        f"Máy mới / Hosts added: {len(diff.get('hosts_added') or [])} · "
        f"Máy không còn / Hosts removed: {len(diff.get('hosts_removed') or [])}",
        "",
        f"Chi tiết / Details: auditor diff {before} {after}",
    ]
    return subject, "\n".join(lines) + "\n"


def message(mail: MailSettings, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = ", ".join(mail.recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=mail.sender.rsplit("@", 1)[1])
    msg["Auto-Submitted"] = "auto-generated"  # no vacation replies to the auditor
    msg.set_content(body, charset="utf-8")
    return msg


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    # create_default_context: CERT_REQUIRED and check_hostname; the CA file replaces the system store.
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def send_mail(mail: MailSettings, msg: EmailMessage) -> None:
    where = f"mail server {addresses.bracket(mail.host)}:{mail.port}"
    try:
        context = tls_context(mail.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise NoticeError(f"CA file {mail.ca_file}: {exc}") from None
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise NoticeError(f"{where} does not offer STARTTLS: notice not sent (never in clear text)")
            smtp.starttls(context=context)  # checks the certificate and that it names mail.host
            smtp.ehlo()
            if mail.user is not None:
                smtp.login(mail.user, os.environ.get(SMTP_PASSWORD_ENV, ""))
            refused = smtp.send_message(msg, from_addr=mail.sender, to_addrs=list(mail.recipients))
    except ssl.SSLCertVerificationError as exc:
        raise NoticeError(f"{where}: certificate not verified ({exc.verify_message}): notice not sent") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise NoticeError(f"{where} refused every recipient: {_refusals(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        raise NoticeError(f"{where}: {exc.smtp_code} {_clean(exc.smtp_error.decode(errors='replace'), 200)}") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise NoticeError(f"{where}: {_clean(exc, 200) or type(exc).__name__}") from None
    if refused:
        raise NoticeError(f"{where} refused some recipients: {_refusals(refused)}")


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{_clean(r)}: {code} {_clean(text.decode(errors='replace'), 120)}" for r, (code, text) in refused.items()
    )


def _feed(stream: IO[bytes], data: bytes) -> None:
    # A hook that does not read its stdin (a broken pipe) is its own business.
    with contextlib.suppress(OSError), stream:
        stream.write(data)


def _drain(stream: IO[bytes], tail: bytearray) -> None:
    """Read the hook's error output to its end, keeping its last bytes only (the line a failure quotes)."""
    with stream:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            tail += chunk
            del tail[:-_ERR_TAIL]


def run_command(argv: tuple[str, ...], diff: dict[str, Any], timeout: float) -> None:
    """The hook, the diff JSON on its stdin; its own process group, killed whole at the timeout.

    The hook's own exit is what is waited for: a daemon it started may hold its stderr open for ever,
    and what it prints is read as it comes, not held whole in memory."""
    shown = _clean(shlex.join(argv), 200)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # The mail login's password is for the mail server, not for whatever the hook runs.
            env={k: v for k, v in os.environ.items() if k != SMTP_PASSWORD_ENV},
        )
    except OSError as exc:
        raise NoticeError(f"notice command {shown}: {exc.strerror or exc}") from None
    assert proc.stdin is not None and proc.stderr is not None
    tail = bytearray()
    payload = json.dumps(diff, ensure_ascii=False).encode()
    threading.Thread(target=_feed, args=(proc.stdin, payload), daemon=True).start()
    reader = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise NoticeError(f"notice command {shown} did not finish in {timeout:g} s: killed") from None
    reader.join(1.0)
    if proc.returncode != 0:
        err = bytes(tail).decode(errors="replace").strip()
        last = _clean(err.splitlines()[-1] if err else "", 200)
        raise NoticeError(f"notice command {shown} exited {proc.returncode}" + (f": {last}" if last else ""))


def deliver(config: Settings, diff: dict[str, Any]) -> tuple[bool, list[str]]:
    """Send the notices a drifted diff calls for: (drifted, problems). Each way is tried even if the other failed."""
    found = Drift.of(diff)
    if not found:
        return False, []
    problems: list[str] = []
    if config.mail is not None:
        subject, body = compose(diff, found)
        try:
            send_mail(config.mail, message(config.mail, subject, body))
        except NoticeError as exc:
            problems.append(str(exc))
    if config.command:
        try:
            run_command(config.command, diff, config.timeout)
        except NoticeError as exc:
            problems.append(str(exc))
    return True, problems
