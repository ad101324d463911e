"""The PowerShell batch for Windows hosts: what goes over SSH, how its output is split, and a whole Windows
host audited through the engine with a fake transport that answers with the constructed samples."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from auditor import engine, winbatch
from auditor.catalog import load_catalog
from auditor.facts import REGISTRY
from auditor.model import Host, HostPlan, Verdict
from auditor.transports import ConnectOptions, ExecResult, Transport, open_transport
from auditor.transports.ssh import SshTransport

DATA = Path(__file__).parent / "data" / "windows"


def test_ssh_command_is_a_fixed_powershell_bootstrap():
    command = winbatch.shell_command()
    assert command.startswith("powershell -NoProfile -NonInteractive -EncodedCommand ")
    bootstrap = base64.b64decode(command.split()[-1]).decode("utf-16-le")
    assert "[Console]::In.ReadToEnd()" in bootstrap and "FromBase64String" in bootstrap
    assert len(command) < 1000  # far below cmd.exe's 8191-character limit, whatever the playbook


def test_script_travels_base64_and_each_snippet_too():
    tricky = "Write-Output 'it''s $(whoami); `n \u2019quote\u2019'"
    built = winbatch.build([tricky, "Get-Date"], timeout=7, nonce="0123456789abcdef")
    assert all(len(line) <= 76 for line in built.script.splitlines())
    assert re.fullmatch(r"[A-Za-z0-9+/=\n]+", built.script)  # plain ASCII on stdin: no code page can mangle it
    source = winbatch.source_of(built)
    assert "$m = '@@AUDITOR-0123456789abcdef'" in source
    calls = re.findall(r"^_run '(\d+)' '([A-Za-z0-9+/=]+)' (\d+)$", source, re.M)
    assert [(i, base64.b64decode(b).decode(), t) for i, b, t in calls] == [("0", tricky, "7"), ("1", "Get-Date", "7")]
    assert tricky not in source  # never inlined into PowerShell source


def test_split_reads_crlf_output_and_ignores_forged_markers():
    built = winbatch.build(["a", "b", "c"], nonce="feedfacefeedface")
    m = "@@AUDITOR-feedfacefeedface"
    forged = "@@AUDITOR-0000000000000000 END 0 0"
    out = (
        f'\r\n{m} BEGIN 0\r\n[{{"x":"{forged}"}}]\r\n{m} STDERR 0\r\n\r\n{m} END 0 0\r\n'
        f"\r\n{m} BEGIN 1\r\n\r\n{m} STDERR 1\r\ntimed out after 30 s\r\n{m} END 1 124 timeout\r\n"
        f"\r\n{m} BEGIN 2\r\n[]"  # cut off: no END
    )
    parts = winbatch.split(built, out)
    assert set(parts) == {0, 1}
    assert forged in parts[0].stdout and parts[0].rc == 0
    assert parts[1].timed_out and parts[1].rc == 124


def test_windows_hosts_get_the_powershell_transport(tmp_path):
    options = ConnectOptions(known_hosts=tmp_path / "known_hosts")
    win = open_transport(Host("w", "10.0.0.9", os="windows"), options)
    lin = open_transport(Host("l", "10.0.0.5"), options)
    assert isinstance(win, SshTransport) and win.shell_command == winbatch.shell_command()
    assert isinstance(lin, SshTransport) and lin.shell_command == "/bin/sh -s"


# --- a whole Windows host through the engine -------------------------------------------------------------------

SAMPLES = {  # fact type -> sample name per snippet
    "win_antivirus": ["defender_passive", "wsc_bkav_on"],
    "win_usb_storage": ["usb_open"],
    "win_firewall": ["fw_all_on"],
    "win_eventlog": ["ev_wef"],
    "win_bitlocker": ["bl_os_on"],
    "win_local_admins": ["admins_extra_user"],
    "win_password_policy": ["accounts_hardened"],
    "win_hotfix": ["hotfix_recent"],
}


class FakeWindows(Transport):
    """Answers the batch the way the PowerShell prelude would, from the sample files, with CRLF line ends."""

    shell_command = winbatch.shell_command()

    def __init__(self) -> None:
        by_text = {}
        for type_name, samples in SAMPLES.items():
            for snippet, sample in zip(REGISTRY[type_name].snippets({}), samples, strict=True):
                by_text[snippet] = sample
        self.by_text = by_text
        self.scripts: list[str] = []

    def connect(self) -> None:
        pass

    def run(self, script: str, timeout: float) -> ExecResult:
        self.scripts.append(script)
        source = base64.b64decode("".join(script.split())).decode()
        marker = re.search(r"\$m = '([^']+)'", source).group(1)
        out = ""
        for i, b64, _ in re.findall(r"^_run '(\d+)' '([^']+)' (\d+)$", source, re.M):
            sample = self.by_text[base64.b64decode(b64).decode()]
            rc = (DATA / f"{sample}.rc").read_text().strip()
            body = (DATA / f"{sample}.out").read_text(encoding="utf-8")
            err = (DATA / f"{sample}.stderr").read_text()
            out += f"\n{marker} BEGIN {i}\n{body}\n{marker} STDERR {i}\n{err}\n{marker} END {i} {rc}\n"
        return ExecResult(0, out.replace("\n", "\r\n"), "", 1.0)


def test_windows_host_end_to_end(monkeypatch, tmp_path):
    fake = FakeWindows()
    monkeypatch.setattr(engine, "open_transport", lambda host, options: fake)
    catalog = load_catalog()
    checks = [c for c in catalog.checks.values() if c.applies.get("os") == "windows"]
    params = {
        "av_max_signature_age_days": 7,
        "log_server": "logs.sotttt.gov.vn",
        "windows_allowed_admins": ["*\\Administrator", "*\\Domain Admins"],
        "win_min_password_length": 8,
        "win_max_lockout_threshold": 10,
        "win_security_log_min_mb": 64,
        "win_max_update_age_days": 45,
    }
    plan = HostPlan(Host("pc-ketoan01", "10.0.0.9", os="windows"), checks, params)
    result = engine.audit_host(plan, engine.RunOptions(connect=ConnectOptions(known_hosts=tmp_path / "kh")))
    got = {r.check.id: r.status for r in result.results}
    assert got == {
        "WIN-AV-ACTIVE": Verdict.PASS,
        "WIN-AV-SIGNATURES-FRESH": Verdict.PASS,
        "WIN-USB-STORAGE-BLOCKED": Verdict.FAIL,
        "WIN-FIREWALL-ALL-PROFILES": Verdict.PASS,
        "WIN-LOG-SECURITY-SIZE": Verdict.PASS,
        "WIN-LOG-FORWARDED": Verdict.PASS,
        "WIN-LOG-FORWARDED-ANYWHERE": Verdict.NOT_APPLICABLE,
        "WIN-BITLOCKER-OS-VOLUME": Verdict.PASS,
        "WIN-ADMINS-EXPECTED": Verdict.FAIL,
        "WIN-PASSWORD-MIN-LENGTH": Verdict.PASS,
        "WIN-ACCOUNT-LOCKOUT": Verdict.PASS,
        "WIN-UPDATES-RECENT": Verdict.PASS,
    }
    assert len(fake.scripts) == 1  # one script for the whole host
    source = base64.b64decode("".join(fake.scripts[0].split())).decode()
    assert source.count("_run '") == sum(len(v) for v in SAMPLES.values())  # each snippet once, deduplicated
    evidence = next(r for r in result.results if r.check.id == "WIN-USB-STORAGE-BLOCKED").evidence[0]
    assert evidence.command.startswith("powershell -NoProfile -NonInteractive -EncodedCommand")
