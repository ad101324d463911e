"""`auditor run` records into the history, and the history commands, through the real `auditor` command on
this machine (a one-check playbook keeps each run short); a store that fails never costs the run's files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

PASSWORD = "Xq7-never-shown-pw"


def auditor(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def quick(tmp_path: Path) -> tuple[Path, Path]:
    """A one-host (this machine) inventory and a playbook of the SSH checks only."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("me ansible_connection=local\n")
    book = tmp_path / "quick.yaml"
    book.write_text("name: quick\nplays:\n  - hosts: [all]\n    checks: ['LNX-SSH-*']\n    plan: [PT-AUTH]\n")
    return inventory, book


def run(quick: tuple[Path, Path], out: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    inventory, book = quick
    return auditor("run", "-i", str(inventory), "-p", str(book), "-o", str(out), "--no-network", *extra, env=env)


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_runs_are_recorded_and_the_commands_give_their_json(quick: tuple[Path, Path], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    first, second = run(quick, tmp_path / "r1", "--db", db), run(quick, tmp_path / "r2", "--db", db)
    assert "error:" not in first.stderr + second.stderr, second.stderr
    docs = [json.loads((tmp_path / r / "results.json").read_text()) for r in ("r1", "r2")]
    runs = as_json(auditor("history", "list", "--db", db, "--format", "json"))
    assert [r["id"] for r in runs] == [docs[1]["run"]["id"], docs[0]["run"]["id"]]
    assert runs[0] == {
        "id": docs[1]["run"]["id"],
        "started": docs[1]["run"]["started"],
        "finished": docs[1]["run"]["finished"],
        "playbook": "quick",
        "inventory": docs[1]["run"]["inventory"],
        "score": docs[1]["score"]["value"],
        "coverage": docs[1]["score"]["coverage"],
        "hosts": 1,
        "complete": True,
    }
    assert as_json(auditor("diff", "--db", db, "--format", "json")) == {
        "from": docs[0]["run"]["id"], "to": docs[1]["run"]["id"], "changes": [], "plan_task_changes": [],
        "hosts_added": [], "hosts_removed": [], "host_keys_changed": [],
    }  # fmt: skip
    points = as_json(auditor("trend", "--db", db, "--format", "json", "--host", "me"))
    assert [p["id"] for p in points] == [d["run"]["id"] for d in docs]
    shown = as_json(auditor("history", "show", docs[0]["run"]["id"][:20], "--db", db, "--format", "json"))
    assert shown["id"] == docs[0]["run"]["id"] and [h["name"] for h in shown["host_results"]] == ["me"]
    exported = auditor("history", "export", docs[0]["run"]["id"], "--db", db, "--output", str(tmp_path / "x"))
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "x/results.json").read_text()) == docs[0]
    assert (tmp_path / "x/report.html").read_text().startswith("<!DOCTYPE html>")
    # The second run's report shows what changed since the first, from the history alone.
    assert 'id="since-last-run"' in (tmp_path / "r2/report.html").read_text()
    assert 'id="since-last-run"' not in (tmp_path / "r1/report.html").read_text()


def test_no_history_records_nothing(quick: tuple[Path, Path], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    proc = run(quick, tmp_path / "r", "--db", db, "--no-history")
    assert "error:" not in proc.stderr, proc.stderr
    assert (tmp_path / "r/results.json").exists() and not (tmp_path / "h.db").exists()


@pytest.mark.parametrize("via", ["option", "environment"])
def test_unreachable_store_keeps_the_run_and_never_shows_the_password(
    quick: tuple[Path, Path], tmp_path: Path, via: str
) -> None:
    url = f"postgresql+psycopg://auditor:{PASSWORD}@127.0.0.1:{closed_port()}/history"
    proc = (
        run(quick, tmp_path / "r", "--db", url)
        if via == "option"
        else run(quick, tmp_path / "r", env={"AUDITOR_DB": url})
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error: history store postgresql+psycopg://auditor:***@127.0.0.1:" in proc.stderr, proc.stderr
    assert "the run was not recorded" in proc.stderr and str(tmp_path / "r") in proc.stderr
    written = [(tmp_path / "r" / name).read_text() for name in ("results.json", "report.html")]
    assert json.loads(written[0])["run"]["complete"] is True
    for text_ in (proc.stdout, proc.stderr, *written):
        assert PASSWORD not in text_
    listed = auditor("history", "list", "--db", url)
    assert listed.returncode == 3 and PASSWORD not in listed.stderr and "Traceback" not in listed.stderr
    assert "auditor:***@" in listed.stderr


def test_read_only_store_keeps_the_run(quick: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    db = f"sqlite:///{store / 'h.db'}"
    assert "error:" not in run(quick, tmp_path / "r1", "--db", db).stderr
    subprocess.run(["mount", "--bind", str(store), str(store)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True)
        proc = run(quick, tmp_path / "r2", "--db", db)
    finally:
        subprocess.run(["umount", str(store)], check=True)
    assert proc.returncode == 3, proc.stderr
    assert f"error: history store sqlite:///{store / 'h.db'}:" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "r2/results.json").read_text())["run"]["complete"] is True
    assert (tmp_path / "r2/report.html").exists()
    assert len(as_json(auditor("history", "list", "--db", db, "--format", "json"))) == 1


def test_a_newer_store_is_refused_with_exit_3(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert auditor("history", "list", "--db", db).returncode == 0
    engine = create_engine(db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    engine.dispose()
    proc = auditor("history", "list", "--db", db)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "revision f00d) is newer than this auditor's" in proc.stderr


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    bad = [
        ["history", "show", "nope"],
        ["history", "prune"],
        ["history", "prune", "--keep-days", "1", "--keep-last", "1"],
        ["diff"],
        ["history", "export", "nope", "--output", str(tmp_path / "x")],
    ]
    for args in bad:
        proc = auditor(*args, "--db", db)
        assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr, args


def test_a_killed_run_leaves_the_store_consistent(tmp_path: Path) -> None:
    """SIGKILL while one host hangs: the run is listed incomplete, the host that finished is kept."""
    import os
    import signal
    import time

    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen()  # the kernel accepts; no SSH banner ever comes
    db = f"sqlite:///{tmp_path / 'h.db'}"
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"me ansible_connection=local\nhung ansible_host=127.0.0.1 ansible_port={hung.getsockname()[1]}\n"
    )
    book = tmp_path / "quick.yaml"
    book.write_text("name: quick\nplays:\n  - hosts: [all]\n    checks: ['LNX-SSH-*']\n    plan: [PT-AUTH]\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditor", "run", "-i", str(inventory), "-p", str(book), "-o", str(out), "--db", db,
         "--no-network", "--connect-timeout", "120", "--known-hosts", str(tmp_path / "kh")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        journal, deadline = out / "hosts.jsonl", time.monotonic() + 60
        while time.monotonic() < deadline and not (journal.exists() and journal.read_text().strip()):
            time.sleep(0.2)
        assert journal.read_text().strip(), "the local host should finish while the other one hangs"
        while time.monotonic() < deadline and recorded_hosts(db) < 1:  # its history row follows its journal line
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        hung.close()
    runs = as_json(auditor("history", "list", "--db", db, "--format", "json"))
    assert len(runs) == 1 and runs[0]["complete"] is False and runs[0]["finished"] is None and runs[0]["hosts"] == 1
    shown = as_json(auditor("history", "show", runs[0]["id"], "--db", db, "--format", "json"))
    assert [h["name"] for h in shown["host_results"]] == ["me"]
    refused = auditor("history", "export", runs[0]["id"], "--db", db, "--output", str(tmp_path / "x"))
    assert refused.returncode == 2 and "did not finish" in refused.stderr


def recorded_hosts(db: str) -> int:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM journal")).scalar() or 0)
    except Exception:  # not created yet
        return 0
    finally:
        engine.dispose()
