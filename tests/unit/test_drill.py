"""The drill's pure logic: scenarios checked with file:line:field, the verdict rules of each observation,
drill.json against its schema, the minutes' catalogs and escaping, the EICAR string stored nowhere."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from auditor.drill import minutes, record, scenario
from auditor.drill.actions import DrillError
from auditor.drill.actions.eicar import eicar, judge_scan, scan_script, write_script
from auditor.drill.actions.ssh_bruteforce import banned
from auditor.drill.runner import DrillOptions, plan, run
from auditor.errors import InputError

REPO = Path(__file__).resolve().parents[2]
PATH = "/tmp/auditor-drill-eicar.0123456789ab.AbCdEf12"


@pytest.mark.parametrize("name", scenario.available())
def test_built_in_scenarios_load(name: str) -> None:
    loaded = scenario.load(name)
    assert loaded.name == name and loaded.acts and loaded.title_vi and loaded.proves_vi


def test_the_four_first_scenarios_are_built_in() -> None:
    assert {"av-eicar", "backup-restore", "firewall-block", "ids-bruteforce"} <= set(scenario.available())


GOOD_ACT = "  - action: eicar-file\n    observe: av-reports-detection\n    window: 60\n    cleanup: remove-file\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("scenario: x\ntitle: t\nproves: p\nacts:\n" + GOOD_ACT.replace("eicar-file", "rm-rf"), ":5: acts[0].action:"),
        ("scenario: x\ntitle: t\nproves: p\nacts:\n" + GOOD_ACT.replace("av-reports", "log"), ":6: acts[0].observe:"),
        ("scenario: x\ntitle: t\nproves: p\nacts:\n" + GOOD_ACT.replace("60", "0"), ":7: acts[0].window:"),
        ("scenario: x\ntitle: t\nproves: p\nacts:\n" + GOOD_ACT.replace("remove-file", "x"), ":8: acts[0].cleanup:"),
        ("scenario: x\ntitle: t\nproves: p\nextra: 1\nacts:\n" + GOOD_ACT, ":4: extra:"),
        ("scenario: x\ntitle: t\nproves: p\nacts: []\n", ":4: acts:"),
        (
            "scenario: x\ntitle: t\nproves: p\nacts:\n  - action: failed-ssh-logins\n    with: {attempts: many}\n"
            "    observe: source-banned\n    window: 60\n    cleanup: lift-ban\n",
            ":6: acts[0].with.attempts:",
        ),
    ],
)
def test_a_bad_scenario_names_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        scenario.load(str(path))
    assert exc.value.exit_code == 2 and f"{path}{where}" in str(exc.value), str(exc.value)


def test_an_unknown_scenario_lists_the_built_in_ones() -> None:
    with pytest.raises(InputError, match=r"built in: .*av-eicar"):
        scenario.load("no-such-drill")


# --- av-eicar -----------------------------------------------------------------------------------


def test_only_a_found_line_naming_our_file_and_a_signature_passes() -> None:
    out = f"scanner=clamscan\n{PATH}: Eicar-Test-Signature.UNOFFICIAL FOUND\nrc=1"
    got = judge_scan(PATH, out)
    assert got.status == "pass" and got.details["signature"] == "Eicar-Test-Signature.UNOFFICIAL"


def test_clean_is_a_fail_and_no_scanner_is_a_fail() -> None:
    assert judge_scan(PATH, f"scanner=clamscan\n{PATH}: OK\nrc=0").status == "fail"
    assert judge_scan(PATH, "scanner=none").status == "fail"


@pytest.mark.parametrize(
    "out",
    [
        "scanner=none-file-gone",  # vanished, nothing in the logs: no detection
        "scanner=clamscan\n/tmp/other: Eicar-Test-Signature FOUND\nrc=1",  # another file
        "scanner=clamscan\nLibClamAV Error: cl_load(): No such file or directory\nrc=2",  # could not scan
        f"scanner=clamdscan\n{PATH}: FOUND\nrc=1",  # no signature name
    ],
)
def test_what_proves_nothing_is_an_error_never_a_pass(out: str) -> None:
    with pytest.raises(DrillError):
        judge_scan(PATH, out)


def test_a_vanished_file_that_the_av_log_names_passes() -> None:
    out = f"scanner=none-file-gone\nMon Dec  7 01:02:03 2026 -> {PATH}: Eicar-Test-Signature FOUND"
    assert judge_scan(PATH, out).status == "pass"


def test_the_eicar_string_travels_only_on_stdin_and_is_stored_nowhere() -> None:
    assert len(eicar()) == 68 and eicar().startswith("X5O!") and eicar().endswith("H+H*")
    assert eicar() in write_script("0123456789ab") and eicar() not in scan_script(PATH)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    whole = eicar().encode()
    holding = [f for f in files if f and (REPO / f.decode()).is_file() and whole in (REPO / f.decode()).read_bytes()]
    assert holding == []


# --- ids-bruteforce -----------------------------------------------------------------------------


def test_a_ban_is_read_from_fail2ban_or_crowdsec() -> None:
    assert banned("[fail2ban]\n[{'sshd': ['10.77.49.180']}]\n", "10.77.49.180") == (True, "fail2ban")
    assert banned("[fail2ban]\n[{'sshd': ['10.77.49.1800']}]\n", "10.77.49.180")[0] is False
    assert banned("[fail2ban]\n[{'sshd': ['110.77.49.180']}]\n", "10.77.49.180")[0] is False
    assert banned("[crowdsec]\n1,ban,Ip:10.77.49.180,crowdsecurity/ssh-bf\n", "10.77.49.180") == (True, "crowdsec")
    stopped = "[fail2ban]\nERROR  Failed to access socket path: /var/run/fail2ban/fail2ban.sock. Is fail2ban running?"
    assert banned(stopped, "10.77.49.180") == (False, "fail2ban is installed but its server does not run")
    assert banned("[none]\n", "10.77.49.180")[0] is False


# --- record and minutes -------------------------------------------------------------------------


def act(host: str, status: str, cleanup_ok: bool = True) -> dict[str, Any]:
    return {
        "act": 1, "action": "eicar-file", "observe": "av-reports-detection", "window_seconds": 60.0,
        "cleanup_kind": "remove-file", "host": host, "address": "10.77.49.140",
        "started": "2026-12-07T01:00:00.00Z", "finished": "2026-12-07T01:00:01.00Z", "status": status,
        "reason": "<b>reason</b>", "details": {}, "cleanup": {"ok": cleanup_ok, "detail": "removed"},
        "evidence": [{"phase": "act", "command": "echo <x>", "rc": 0, "output": "\x1b[31m",
                      "at": "2026-12-07T01:00:00.00Z"}],
        "interrupted": False,
    }  # fmt: skip


def document(statuses: list[str], cleanup_ok: bool = True) -> dict[str, Any]:
    loaded = scenario.load("av-eicar")
    acts = [act(f"<script>h{i}</script>", s, cleanup_ok) for i, s in enumerate(statuses)]
    return record.document(
        drill_id="drill-20261207T010000Z-abcdef", started="2026-12-07T01:00:00.00Z",
        finished="2026-12-07T01:00:02.00Z", inventory="hosts.ini", officers=["Nguyễn Văn An"], lessons="",
        results=[{"scenario": loaded, "acts": acts}],
        timeline=[{"at": "2026-12-07T01:00:00.00Z", "host": "h", "phase": "act", "event": "x", "scenario": "av-eicar"}],
        sources=[], interrupted=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [(["pass", "pass"], "pass"), (["pass", "error"], "error"), (["error", "fail"], "fail"), ([], "error")],
)
def test_outcome_is_the_worst_act_and_nothing_run_is_no_pass(statuses: list[str], outcome: str) -> None:
    doc = document(statuses)
    record.validate(doc)
    assert doc["outcome"] == outcome and doc["schema"] == "auditor.drill/1"


def test_a_failed_cleanup_is_recorded() -> None:
    assert document(["pass"], cleanup_ok=False)["cleanup_ok"] is False


def test_the_schema_refuses_a_verdict_it_does_not_know() -> None:
    import jsonschema

    doc = document(["pass"])
    doc["scenarios"][0]["acts"][0]["status"] = "unknown"
    with pytest.raises(jsonschema.ValidationError):
        record.validate(doc)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_minutes_escape_host_data_and_keep_the_reports_policy(lang: str) -> None:
    html = minutes.render_minutes(document(["pass", "fail"]), lang)
    assert "<script>h0" not in html and "&lt;script&gt;h0" in html and "<b>reason" not in html
    assert "\x1b" not in html and "␛" in html
    assert "default-src &#39;none&#39;" in html and "Nguyễn Văn An" in html
    title = "Biên bản diễn tập ứng cứu sự cố" if lang == "vi" else "Incident-response drill minutes"
    assert title in html


def test_the_minutes_mark_host_output_so_a_pack_masks_it() -> None:
    from auditor.evidence_pack.redaction import redacted

    doc = document(["pass"])
    doc["scenarios"][0]["acts"][0]["evidence"][0]["output"] = "PGPASSWORD=drill-secret-4711"
    packed = redacted("drill.html", minutes.render_minutes(doc).encode()).decode()
    assert "drill-secret-4711" not in packed and "PGPASSWORD=********" in packed
    assert "$ echo &lt;x&gt;" in packed  # the command is ours: left alone


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_string_of_the_minutes_is_in_both_catalogs(lang: str) -> None:
    found = extract_from_dir(
        str(REPO / "auditor/drill"),
        method_map=[("**/templates/**.j2", "jinja2.ext:babel_extract"), ("minutes.py", "python")],
        options_map={"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
    )
    ids = {m for _f, _l, m, _c, _x in found if isinstance(m, str) and m}
    with minutes.po_path(lang).open("rb") as fh:
        entries = {m.id: m.string for m in read_po(fh, locale=lang) if m.id}
    assert len(ids) > 30
    assert sorted(ids - entries.keys()) == [] and sorted(entries.keys() - ids) == []
    assert [m for m, s in entries.items() if not s] == []


# --- plan and run, without any host ---------------------------------------------------------------


def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nweb1 ansible_host=192.0.2.10\n[all:vars]\ndrill_source=192.0.2.99\n")
    return path


def test_plan_names_each_act_and_host(tmp_path: Path) -> None:
    lines = plan(DrillOptions(str(inventory(tmp_path)), ["firewall-block"]))
    text = "\n".join(lines)
    assert "web1 (192.0.2.10)" in text and "from the drill source 192.0.2.99" in text and "47613" in text


def test_run_without_confirm_or_inventory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--confirm"):
        run(DrillOptions(str(inventory(tmp_path)), ["av-eicar"], output=tmp_path / "o"), confirm=False)
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="--inventory"):
        plan(DrillOptions(None, ["av-eicar"]))


# --- ids-scan -----------------------------------------------------------------------------------


def test_a_scan_passes_only_on_a_record_naming_the_source() -> None:
    from auditor.drill.actions.port_scan import judge, nmap_argv

    record = "psad=running\npsad_record=1796605874 /var/log/psad/10.77.49.178/danger_level\n"
    assert judge(record, "10.77.49.178").status == "pass"
    assert judge("psad=running\n", "10.77.49.178") is None  # running, nothing yet: keep looking
    assert judge("psad=stopped\n", "10.77.49.178").status == "fail"
    assert judge("", "10.77.49.178").status == "fail"
    argv = nmap_argv("/usr/bin/nmap", "10.77.49.178", "eth0", "10.77.49.138", "1-1024")
    assert argv[-2:] == ["--", "10.77.49.138"]
    with pytest.raises(DrillError):
        nmap_argv("/usr/bin/nmap", "10.77.49.178", "eth0", "10.77.49.138", "-oN /etc/passwd")


def test_the_record_masks_what_a_host_printed() -> None:
    from auditor.drill.actions.base import Step

    step = Step("cat /etc/app.env", 0, "PGPASSWORD=hunter2\nok", "2026-12-07T02:00:00.00Z", "observe")
    recorded = step.as_dict()
    assert "hunter2" not in recorded["output"] and "PGPASSWORD=********" in recorded["output"]
    assert recorded["command"] == "cat /etc/app.env"
