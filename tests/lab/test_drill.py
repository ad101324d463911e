"""The annual drill on real hosts (tests/lab/profiles/drill*.py), through the real ``python -m auditor drill``:
every scenario passes on drillstrong and fails on drillweak, every cleanup is checked on the host
afterwards (no test file, no restore folder, no listener, no ban, no drill source address), the
EICAR string is in no output, and Ctrl-C in the middle of an act still runs its cleanup.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.drill.actions.eicar import eicar
from auditor.drill.minutes import render_minutes
from tests.conftest import results_by_host
from tests.lab.helpers import module_lab
from tests.lab.lab import Lab, host_name
from tests.lab.profiles import DRILL_PROFILES, get
from tests.lab.sshutil import connect, run
from tests.packs import IDENTITY, allowed_signers, auditor, make_key, stock_check

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
STRONG, WEAK = host_name("drillstrong"), host_name("drillweak")
SCENARIOS = ("av-eicar", "backup-restore", "firewall-block", "ids-bruteforce", "log-delivery")
# The one act drillweak lets run to its window's end is the log marker that never leaves it; on drillstrong the
# marker arrives within a second or two, so 20 s still tells the two apart and saves the weak host 40 s of waiting.
LOG_DELIVERY_WINDOW = 20


def source_address(lab: Lab, offset: int = 50) -> str:
    """A free address of the lab's /26 (hosts start at offset 10; the last two are taken by the lab). The tests
    that need a source fail2ban has no count for take their own: the drill's own 8 logins leave log lines that
    fail2ban may read after the cleanup lifted the ban, and those count toward the next ban of that address."""
    return str(lab.net.network_address + offset)


@pytest.fixture(scope="module")
def drill_lab() -> Iterator[Lab]:
    with module_lab((*DRILL_PROFILES, "logserver"), "x", ".128/26") as the_lab:
        yield the_lab


def drill(lab: Lab, out: Path, *args: str, source: int = 50, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "auditor", "drill", *args, "--inventory", str(lab.inventory),
           "--known-hosts", str(lab.known_hosts), "--param", f"drill_source={source_address(lab, source)}"]  # fmt: skip
    cmd += ["--limit", "drillstrong", "--limit", "drillweak"]  # the log server is searched, not drilled
    if args[0] == "run":
        cmd += ["--output", str(out), "--officer", "Nguyễn Văn An", "--officer", "Trần Thị Bình",
                "--param", "backup_canary=/etc/drill-canary"]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def with_window(name: str, seconds: int, folder: Path) -> Path:
    """The built-in scenario NAME as it ships, but for its one act's window: a file the drill runs by path."""
    text = (REPO / "playbooks/drills" / f"{name}.yaml").read_text(encoding="utf-8")
    shorter, count = re.subn(r"(?m)^(\s+window:) \d+$", rf"\g<1> {seconds}", text)
    assert count == 1, f"{name}: expected one act with a window, found {count}"
    (folder / f"{name}.yaml").write_text(shorter, encoding="utf-8")
    return folder / f"{name}.yaml"


@pytest.fixture(scope="module")
def record(drill_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("drill") / "d"
    shortened = with_window("log-delivery", LOG_DELIVERY_WINDOW, out.parent)
    chosen = [str(shortened) if s == "log-delivery" else s for s in SCENARIOS]
    args = [arg for s in chosen for arg in ("--scenario", s)]
    proc = drill(drill_lab, out, "run", "--confirm", *args)
    assert (out / "drill.json").exists(), proc.stdout + proc.stderr
    document = json.loads((out / "drill.json").read_text())
    document["_exit"], document["_out"], document["_dir"] = proc.returncode, proc.stdout + proc.stderr, out
    return document


def verdicts(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["name"], a["host"]): a for s in document["scenarios"] for a in s["acts"]}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("profile", DRILL_PROFILES)
def test_each_scenario_has_the_profiles_verdict(record: dict[str, Any], scenario: str, profile: str) -> None:
    act = verdicts(record)[(scenario, host_name(profile))]
    assert act["status"] == get(profile).DRILL[scenario], (act["reason"], act["evidence"])
    assert act["cleanup"]["ok"], act["cleanup"]


def test_reasons_name_what_the_defence_did(record: dict[str, Any]) -> None:
    v = verdicts(record)
    assert "Eicar-Test-Signature" in v[("av-eicar", STRONG)]["details"]["signature"]
    assert "no anti-virus scanner" in v[("av-eicar", WEAK)]["reason"]
    strong_backup = v[("backup-restore", STRONG)]
    assert strong_backup["details"]["path"] == "/srv/backup/etc-yesterday.tar.gz"
    assert 0.9 < strong_backup["details"]["age_days"] < 1.1 and "canary matches" in strong_backup["reason"]
    assert "did not restore" in v[("backup-restore", WEAK)]["reason"]
    assert "timed out" in v[("firewall-block", STRONG)]["reason"]
    assert "reachable from the drill source" in v[("firewall-block", WEAK)]["reason"]
    assert "fail2ban banned" in v[("ids-bruteforce", STRONG)]["reason"]
    assert "does not run" in v[("ids-bruteforce", WEAK)]["reason"]
    assert "arrived on logsrv1 in /var/log/remote/" in v[("log-delivery", STRONG)]["reason"]
    assert f"did not arrive on logsrv1 within {LOG_DELIVERY_WINDOW} s" in v[("log-delivery", WEAK)]["reason"]


def test_exit_code_and_record(record: dict[str, Any]) -> None:
    assert record["_exit"] == 1, record["_out"]  # failures found, nothing incomplete
    assert record["outcome"] == "fail" and record["cleanup_ok"] and not record["interrupted"]
    assert record["officers"] == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert record["drill_sources"][0]["removed"]
    from auditor.drill.record import validate

    validate({k: v for k, v in record.items() if not k.startswith("_")})


def test_eicar_string_is_in_no_output(record: dict[str, Any]) -> None:
    for name in ("drill.json", "drill.html"):
        assert eicar() not in (record["_dir"] / name).read_text()
    assert eicar() not in record["_out"]


SECRET = "PGPASSWORD=drill-secret-4711"


def test_a_pack_of_a_lab_run_and_the_drill_verifies_and_is_masked(
    drill_lab: Lab, record: dict[str, Any], tmp_path: Path
) -> None:
    """The drill's own record, with a secret-looking line added to one observation's output (drill.json
    edited, drill.html rendered again by the drill's renderer), packed with a real run of the same hosts:
    it verifies with the auditor and with the inspector's stock tools, and the line is masked in both files."""
    results_by_host(drill_lab, tmp_path)  # writes tmp_path/run
    folder = tmp_path / "drill"
    folder.mkdir()
    document = json.loads((record["_dir"] / "drill.json").read_text())
    observed = next(e for a in verdicts(document).values() for e in a["evidence"] if e["phase"] == "observe")
    observed["output"] += "\n" + SECRET
    (folder / "drill.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    (folder / "drill.html").write_text(render_minutes(document))
    assert SECRET in (folder / "drill.html").read_text()
    key = make_key(tmp_path / "keys")
    pack, allowed = tmp_path / "evidence.zip", allowed_signers(tmp_path / "keys", key)
    made = auditor("evidence", "pack", str(tmp_path / "run"), str(folder), "--key", str(key), "--output", str(pack))
    assert made.returncode == 0, made.stderr

    verified = auditor("evidence", "verify", str(pack), "--allowed-signers", str(allowed), "--identity", IDENTITY)
    assert verified.returncode == 0 and "VERIFIED" in verified.stdout, verified.stdout + verified.stderr
    unzip, signature, digests = stock_check(pack, allowed, tmp_path / "x")
    assert unzip.returncode == 0 and signature.returncode == 0 and "Good" in signature.stdout, signature.stderr
    assert digests.returncode == 0, digests.stdout
    packed = tmp_path / "x/drills" / document["id"]
    for name in ("run/results.json", f"drills/{document['id']}/drill.json", f"drills/{document['id']}/drill.html"):
        assert f"{name}: OK" in digests.stdout

    masked = "PGPASSWORD=********"
    for name in ("drill.json", "drill.html"):
        text = (packed / name).read_text()
        assert "drill-secret-4711" not in text and masked in text, name
    observed["output"] = observed["output"].replace(SECRET, masked)
    assert json.loads((packed / "drill.json").read_text()) == document  # only the host's output was touched
    manifest = json.loads((tmp_path / "x/manifest.json").read_text())
    assert record["id"] == document["id"] and [d["id"] for d in manifest["drills"]] == [document["id"]]
    assert f"drills/{document['id']}/drill.html" in json.dumps(manifest["redaction"])
    with zipfile.ZipFile(pack) as zf:
        for info in zf.infolist():
            assert eicar().encode() not in zf.read(info), info.filename


def test_minutes_in_vietnamese_with_the_timeline(record: dict[str, Any]) -> None:
    html = (record["_dir"] / "drill.html").read_text()
    assert "Biên bản diễn tập ứng cứu sự cố" in html and "Bài học kinh nghiệm" in html
    assert "Nguyễn Văn An" in html and "Content-Security-Policy" in html
    assert html.count('class="act"') == len(SCENARIOS) * len(DRILL_PROFILES)


def test_nothing_is_left_on_the_hosts(drill_lab: Lab, record: dict[str, Any]) -> None:
    address = source_address(drill_lab)
    for name in (STRONG, WEAK):
        with connect(drill_lab.host(name).address, drill_lab.key, drill_lab.known_hosts) as ssh:
            _, out, _ = run(
                ssh,
                "sudo ls -d /tmp/auditor-drill-* 2>/dev/null; sudo ss -ltnH 'sport = :47613'; "
                "sudo fail2ban-client banned 2>/dev/null",
            )
        assert "auditor-drill" not in out and "47613" not in out and address not in out, out
    shown = subprocess.run(["ip", "-o", "addr", "show", "to", address], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == ""


def test_plan_changes_nothing_and_run_needs_confirm(drill_lab: Lab, tmp_path: Path) -> None:
    proc = drill(drill_lab, tmp_path / "p", "plan")
    assert proc.returncode == 0 and f"{STRONG} ({drill_lab.host(STRONG).address})" in proc.stdout, proc.stderr
    assert "EICAR test string" in proc.stdout and eicar() not in proc.stdout
    refused = drill(drill_lab, tmp_path / "r", "run", "--scenario", "av-eicar")
    assert refused.returncode == 2 and "--confirm" in refused.stderr
    assert not (tmp_path / "r").exists()


def test_no_drill_source_is_an_error_never_a_pass(drill_lab: Lab, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "auditor", "drill", "run", "--confirm", "--scenario", "firewall-block",
           "--inventory", str(drill_lab.inventory), "--known-hosts", str(drill_lab.known_hosts),
           "--output", str(tmp_path / "o")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    document = json.loads((tmp_path / "o/drill.json").read_text())
    assert proc.returncode == 3 and document["outcome"] == "error", proc.stdout
    assert all("drill_source is not set" in a["reason"] for a in document["scenarios"][0]["acts"])


def slow_drill(lab: Lab, tmp_path: Path, source: int) -> subprocess.Popen[str]:
    """One failed login (below fail2ban's maxretry) and a long window: the drill is still observing 3 s
    after its drill source came up, when this returns."""
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(
        "scenario: slow-ban\ntitle: one login, long wait\nproves: nothing\nhosts: [drillstrong]\nacts:\n"
        "  - action: failed-ssh-logins\n    with: {attempts: 1}\n    observe: source-banned\n    window: 300\n"
        "    cleanup: lift-ban\n"
    )
    cmd = [sys.executable, "-m", "auditor", "drill", "run", "--confirm", "--scenario", str(scenario),
           "--inventory", str(lab.inventory), "--known-hosts", str(lab.known_hosts),
           "--param", f"drill_source={source_address(lab, source)}", "--output", str(tmp_path / "o")]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the drill source is up: the act has begun
        shown = subprocess.run(
            ["ip", "-o", "addr", "show", "to", source_address(lab, source)], capture_output=True, text=True
        )
        if shown.stdout.strip():
            break
        time.sleep(0.2)
    time.sleep(3)
    return proc


def test_a_lost_connection_is_an_error_and_the_cleanup_reconnects(drill_lab: Lab, tmp_path: Path) -> None:
    proc = slow_drill(drill_lab, tmp_path, 51)
    # Once the drill has its own session on the host (it opens it after the failed login), kill every SSH
    # session of the auditor account but this one: the drill's connection drops mid-observation.
    kill = (
        "me=$PPID; mine=$(ps -o ppid= -p $me | tr -d ' '); i=0; while [ $i -lt 100 ]; do "
        "others=$(pgrep -f '^sshd: auditor' | grep -vx -e $me -e $mine); [ -n \"$others\" ] && break; "
        "sleep 0.2; i=$((i+1)); done; sleep 1; "
        "for p in $(pgrep -f '^sshd: auditor'); do [ $p != $me ] && [ $p != $mine ] && sudo kill $p; done; "
        '[ -n "$others" ] && echo ok'
    )
    with connect(drill_lab.host(STRONG).address, drill_lab.key, drill_lab.known_hosts) as ssh:
        _, said, _ = run(ssh, kill)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"the drill went on after its connection was killed ({said!r}): {out}{err}")
    document = json.loads((tmp_path / "o/drill.json").read_text())
    act = document["scenarios"][0]["acts"][0]
    assert said.strip() == "ok" and proc.returncode == 3 and act["status"] == "error", out + err
    assert any(w in act["reason"] for w in ("SSH session", "closed", "did not answer")), act["reason"]
    assert act["cleanup"]["ok"] and [e for e in act["evidence"] if e["phase"] == "cleanup"], act
    assert document["drill_sources"][0]["removed"]


def test_ctrl_c_mid_act_still_cleans_up(drill_lab: Lab, tmp_path: Path) -> None:
    """SIGINT while the drill observes: the ban check's cleanup, the drill source's removal and the
    record must still happen."""
    proc = slow_drill(drill_lab, tmp_path, 52)
    address = source_address(drill_lab, 52)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    document = json.loads((tmp_path / "o/drill.json").read_text())
    act = document["scenarios"][0]["acts"][0]
    assert proc.returncode == 3 and document["interrupted"], out + err
    assert act["status"] == "error" and "interrupted" in act["reason"]
    assert act["cleanup"]["ok"] and document["drill_sources"][0]["removed"]
    shown = subprocess.run(["ip", "-o", "addr", "show", "to", address], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == ""


@pytest.fixture
def netfilter_logged_in_namespaces() -> Iterator[None]:
    """The kernel logs netfilter of the lab's namespaces only with this set; restored to what it was after."""
    path = Path("/proc/sys/net/netfilter/nf_log_all_netns")
    if not path.exists():
        pytest.skip("no net.netfilter.nf_log_all_netns on this kernel")
    before = path.read_text().strip()
    subprocess.run(["sysctl", "-q", "-w", "net.netfilter.nf_log_all_netns=1"], check=True)
    try:
        yield
    finally:
        subprocess.run(["sysctl", "-q", "-w", f"net.netfilter.nf_log_all_netns={before}"], check=True)


def test_ids_scan(drill_lab: Lab, tmp_path: Path, netfilter_logged_in_namespaces: None) -> None:
    proc = drill(drill_lab, tmp_path / "o", "run", "--confirm", "--scenario", "ids-scan", source=53)
    document = json.loads((tmp_path / "o/drill.json").read_text())
    v = verdicts(document)
    for profile in DRILL_PROFILES:
        act = v[("ids-scan", host_name(profile))]
        assert act["status"] == get(profile).DRILL["ids-scan"], (act["reason"], act["evidence"], proc.stdout)
        assert act["cleanup"]["ok"]
    assert "/var/log/psad/" in v[("ids-scan", STRONG)]["reason"]
    assert "psad is installed but does not run" in v[("ids-scan", WEAK)]["reason"]
