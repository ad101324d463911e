"""Schedules: every value checked before it reaches a crontab or a unit; the files systemd and cron read."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditor import schedule
from auditor.errors import InputError
from auditor.output import OutputError

REPO = Path(__file__).resolve().parents[2]


def request(**changes: object) -> schedule.Request:
    values: dict = {"name": "nightly", "every": "daily", "inventory": "/etc/auditor/hosts.ini"}
    values.update(changes)
    return schedule.Request(**values)  # type: ignore[arg-type]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize(
    "expression",
    ["* * * * *", "*/15 1-5 * * 1-5", "0 2 1,15 * *", "30 4 * 1-12/3 *", "59 23 31 12 7", "0-30/10 * * * 0"],
)
def test_cron_expressions_accepted(expression: str) -> None:
    assert schedule.cron_expression("x", expression) == expression


@pytest.mark.parametrize(
    "expression",
    [
        "* * * *",  # four fields
        "* * * * * *",  # six: a user field or a command would follow
        "* * * * *\n* * * * * root rm -rf /",
        "* * * * *\r",
        "*\t* * * *",
        "*  * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "5/10 * * * *",
        "*/0 * * * *",
        "@reboot",
        "* * * jan *",
        "-1 * * * *",
        "1,,2 * * * *",
        "١ * * * *",  # a digit, but not an ASCII one
    ],
)
def test_cron_expressions_refused(expression: str) -> None:
    with pytest.raises(InputError, match="--every"):
        schedule.plan(request(every=expression), "cron")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "night.ly"}, "--name"),
        ({"name": "-x"}, "--name"),
        ({"name": "a" * 49}, "--name"),
        ({"name": "nightly\n* * * * * root id"}, "--name"),
        ({"inventory": "hosts.ini"}, "--inventory"),
        ({"inventory": "/etc/hosts.ini\n* * * * * root id"}, "--inventory"),
        ({"inventory": "/etc/a%b"}, "--inventory"),
        ({"inventory": "/etc/$HOME"}, "--inventory"),
        ({"inventory": "/etc/it's"}, "--inventory"),
        ({"inventory": "/etc/a\\b"}, "--inventory"),
        ({"playbook": "../x.yaml"}, "--playbook"),
        ({"playbook": "-x"}, "--playbook"),
        ({"params": ("log_server=10.0.0.1\n* * * * * root id",)}, "--param"),
        ({"params": ("novalue",)}, "--param"),
        ({"params": ("k;x=1",)}, "--param"),
        ({"db": "postgresql+psycopg://auditor:secret@db/auditor"}, "--db"),
        # libpq takes a password from the query too: it would sit in a 0644 file all the same
        ({"db": "postgresql+psycopg://auditor@db/auditor?password=secret"}, "--db"),
        ({"db": "postgresql+psycopg://auditor@db/auditor?sslmode=require&PASSWORD=secret"}, "--db"),
        # parameters a run never records (secret names, a URL's password) are not written beside it either
        ({"params": ("api_password=secret",)}, "--param"),
        ({"params": ("smtp.token=secret",)}, "--param"),
        ({"params": ("feed=https://reader:secret@feeds.lab/x",)}, "--param"),
        ({"output_root": "runs"}, "--output-root"),
        ({"known_hosts": "~/.ssh/known_hosts"}, "--known-hosts"),
    ],
)
def test_values_refused(changes: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        schedule.plan(request(**changes), "cron")
    assert field in str(info.value)


def test_command_is_the_runs_argv_quoted() -> None:
    the_plan = schedule.plan(
        request(params=("motto=a b;c", "log_server=10.77.46.2"), output_root="/srv/audit runs", db="sqlite:////x.db"),
        "cron",
    )
    argv = shlex.split(the_plan.command)
    assert argv == the_plan.argv
    run = argv.index("run")
    assert argv[run + 1 :] == [
        "--inventory=/etc/auditor/hosts.ini",
        "--param=motto=a b;c",
        "--param=log_server=10.77.46.2",
        "--db=sqlite:////x.db",
        "--output-root=/srv/audit runs",
        "--lock=nightly",
    ]
    line = the_plan.files["/etc/cron.d/auditor-nightly"].splitlines()[-1]
    assert line.endswith(f" root {the_plan.command}")
    assert line.split(" ")[:5] == [str(schedule._spread("nightly")), "2", "*", "*", "*"]


def test_a_command_too_long_for_cron_is_refused_counting_bytes() -> None:
    """400 characters of Vietnamese or Japanese are 800-1200 bytes: cron counts bytes, so must we."""
    schedule.plan(request(params=("motto=" + "a" * 400,)), "cron")
    for text in ("ệ" * 400, "日" * 400):
        with pytest.raises(InputError, match="bytes; cron reads at most"):
            schedule.plan(request(params=(f"motto={text}",)), "cron")


def test_dry_run_json_and_the_crontab_lines() -> None:
    proc = cli("schedule", "install", "--name", "weekly1", "--every", "weekly", "--inventory", "/etc/h.ini",
               "--kind", "cron", "--dry-run", "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"kind", "files", "command"} and out["kind"] == "cron"
    text = out["files"]["/etc/cron.d/auditor-weekly1"]
    assert text.startswith("# Written by auditor")
    jobs = [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(jobs) == 1 and jobs[0].endswith(out["command"])


def test_bad_value_exits_2_naming_the_option() -> None:
    proc = cli("schedule", "install", "--name", "x", "--every", "* * * * * *", "--inventory", "/h", "--dry-run")
    assert proc.returncode == 2 and "--every" in proc.stderr and "Traceback" not in proc.stderr


def test_systemd_calendar_follows_cron() -> None:
    assert schedule.on_calendar("x", "*/15 1-5 * * 1-5") == (
        "Mon,Tue,Wed,Thu,Fri *-*-* 01,02,03,04,05:00,15,30,45:00",
        "1min",
    )
    assert schedule.on_calendar("x", "0 2 * * 0,7")[0] == "Sun *-*-* 02:00:00"
    with pytest.raises(InputError, match="both day of month and day of week"):
        schedule.on_calendar("x", "0 2 1 * 1")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("every", ["daily", "weekly", "*/15 1-5 * * 1-5", "0 3 1,15 */2 *"])
def test_systemd_analyze_verifies_the_units(tmp_path: Path, every: str) -> None:
    the_plan = schedule.plan(request(every=every, params=("motto=a b",)), "systemd")
    schedule.install(the_plan, tmp_path)
    units = tmp_path / "etc/systemd/system"
    names = ["auditor-nightly.service", "auditor-nightly.timer"]
    proc = subprocess.run(["systemd-analyze", "verify", *names], cwd=units, capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    timer = (units / names[1]).read_text()
    assert "Persistent=true" in timer and "RandomizedDelaySec=" in timer
    calendar = timer.split("OnCalendar=")[1].splitlines()[0]
    assert subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True).returncode == 0
    # The verifier is not a rubber stamp: the same unit with a broken calendar is refused.
    (units / names[1]).write_text(timer.replace(calendar, "*-*-* 99:00:00"))
    proc = subprocess.run(["systemd-analyze", "verify", *names], cwd=units, capture_output=True, text=True)
    assert proc.returncode != 0


def test_install_list_remove_under_a_root(tmp_path: Path) -> None:
    cron_d = tmp_path / "etc/cron.d"
    cron_d.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    (cron_d / "auditor-nightly").symlink_to(victim)  # planted: must be replaced, never written through
    (cron_d / "auditor-other").write_text("0 * * * * root true\n")  # not ours: never listed nor removed
    the_plan = schedule.plan(request(every="* * * * *"), "cron")
    schedule.install(the_plan, tmp_path)
    written = cron_d / "auditor-nightly"
    assert victim.read_text() == "untouched\n" and not written.is_symlink()
    assert written.stat().st_mode & 0o777 == 0o644 and written.read_text() == next(iter(the_plan.files.values()))
    listed = schedule.listing(tmp_path)
    assert listed == [
        {
            "name": "nightly",
            "kind": "cron",
            "every": "* * * * *",
            "command": the_plan.command,
            "files": ["/etc/cron.d/auditor-nightly"],
        }
    ]
    with pytest.raises(InputError):
        schedule.remove("other", tmp_path)
    assert schedule.remove("nightly", tmp_path) == [str(written)]
    assert not written.exists() and (cron_d / "auditor-other").exists() and schedule.listing(tmp_path) == []


def test_program_carries_the_source_folder_only_from_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    assert schedule.program() == ["/usr/bin/env", f"PYTHONPATH={REPO}", sys.executable, "-m", "auditor"]
    monkeypatch.setenv("PYTHONPATH", "")
    assert schedule.program() == [sys.executable, "-m", "auditor"]
    assert os.path.isabs(sys.executable)


def test_the_scheduled_command_is_one_auditor_run_accepts(tmp_path: Path) -> None:
    """Every option the schedule writes parses as `auditor run` options, notices included."""
    import click

    from auditor import cli as cli_module
    from auditor import notify

    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    notices = notify.settings(("soc@lab.example",), "mx.lab", 587, "auditor@lab.example", str(ca),
                              command="/usr/local/bin/page", timeout=30)  # fmt: skip
    the_plan = schedule.plan(
        request(playbook="agency", params=("log_server=10.77.46.2",), known_hosts="/etc/k", no_network=True,
                notices=notices),
        "cron",
    )  # fmt: skip
    args = the_plan.argv[the_plan.argv.index("run") + 1 :]
    context = cli_module.run.make_context("run", list(args))
    assert isinstance(context, click.Context)
    assert context.params["lock"] == "nightly" and context.params["output_root"] == "/var/lib/auditor/runs/nightly"
    assert context.params["notify_emails"] == ("soc@lab.example",) and context.params["smtp_ca_file"] == str(ca)
    assert context.params["notify_command"] == "/usr/local/bin/page" and context.params["no_network"]


def test_a_mail_login_is_not_scheduled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import notify

    monkeypatch.setenv(notify.SMTP_PASSWORD_ENV, "s3cret")
    notices = notify.settings(("soc@lab.example",), "mx.lab", 587, "auditor@lab.example", smtp_user="auditor")
    with pytest.raises(InputError, match="--smtp-user"):
        schedule.plan(request(notices=notices), "cron")


def test_install_never_replaces_a_file_the_auditor_did_not_write(tmp_path: Path) -> None:
    cron_d = tmp_path / "etc/cron.d"
    cron_d.mkdir(parents=True)
    theirs = cron_d / "auditor-other"
    theirs.write_text("0 * * * * root /usr/local/bin/backup\n")
    with pytest.raises(OutputError, match="not written by the auditor"):
        schedule.install(schedule.plan(request(name="other"), "cron"), tmp_path)
    assert theirs.read_text() == "0 * * * * root /usr/local/bin/backup\n"
    first = schedule.plan(request(name="other", every="daily"), "cron")
    theirs.unlink()
    schedule.install(first, tmp_path)
    again = schedule.plan(request(name="other", every="weekly"), "cron")
    schedule.install(again, tmp_path)  # its own earlier file is replaced
    assert theirs.read_text() == next(iter(again.files.values()))
    units = tmp_path / "etc/systemd/system"
    units.mkdir(parents=True)
    (units / "auditor-other.timer").write_text("[Timer]\nOnCalendar=hourly\n")
    with pytest.raises(OutputError, match=r"auditor-other\.timer"):
        schedule.install(schedule.plan(request(name="other"), "systemd"), tmp_path)
    assert not (units / "auditor-other.service").exists()  # nothing written when one file is refused


def test_a_dry_run_writes_nothing_and_an_install_writes_the_plan(tmp_path: Path) -> None:
    the_plan, written = schedule.install_request(request(), "cron", tmp_path, dry_run=True)
    assert written is None and not any(tmp_path.iterdir())
    the_plan, written = schedule.install_request(request(), "cron", tmp_path, dry_run=False)
    assert written == [str(tmp_path / path.lstrip("/")) for path in the_plan.files]
    assert all(Path(path).read_text() == text for path, text in zip(written, the_plan.files.values(), strict=True))
