"""A distributed run against a real redis-server (password, unix socket), without workers: what a
task message holds (no secret), a segment without a live worker, and where credentials may come from.
No host is contacted: no worker consumes these queues."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.redis_server import RedisServer, running_redis

KEY_TEXT = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-KEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def auditor(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_a_local_run_imports_neither_celery_nor_redis() -> None:
    code = (
        "import sys, auditor.cli, auditor.run\n"
        "from auditor.distributed.startup import DistributedRun, distributed_settings\n"
        "assert distributed_settings(DistributedRun()) is None\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu', 'redis'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _inventory(tmp: Path) -> Path:
    key = tmp / "operator_key"
    key.write_text(KEY_TEXT)
    key.chmod(0o600)
    inv = tmp / "inv.ini"
    inv.write_text(
        "[web]\n"
        f"w1 ansible_host=127.0.0.2 ansible_user=auditor ansible_ssh_private_key_file={key} segment=nowhere"
        " ansible_password=SSH-PASSWORD-VALUE db_password=DB-PASSWORD-VALUE ansible_become_password=BECOME-VALUE\n"
        f"w2 ansible_host=127.0.0.3 ansible_user=auditor ansible_ssh_private_key_file={key} segment=nowhere\n"
    )
    return inv


def test_no_live_worker_ends_in_error_exit_3_and_the_task_carries_no_secret(redis: RedisServer, tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    out = tmp_path / "out"
    proc = auditor(
        "run", "--distributed", "-i", str(inv), "--no-network", "-o", str(out), "--segment-timeout", "3",
        env={"AUDITOR_BROKER": redis.url},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    document = json.loads((out / "results.json").read_text())
    assert [h["name"] for h in document["hosts"]] == ["w1", "w2"]
    for h in document["hosts"]:
        assert h["status"] == "error" and "no live worker" in h["error"] and "'nowhere'" in h["error"]
        assert h["results"] and all(r["status"] == "error" for r in h["results"])
    assert "segment nowhere: 2/2 hosts done" in proc.stderr
    # The message still waits in the segment's queue (a list in Redis): read it as a worker would get it.
    messages = redis.client().lrange("auditor.segment.nowhere", 0, -1)
    assert len(messages) == 1
    envelope = json.loads(messages[0])
    body = base64.b64decode(envelope["body"]).decode()
    payload = json.loads(body)[0][0]
    assert [h["name"] for h in payload["hosts"]] == ["w1", "w2"]
    assert payload["hosts"][0]["address"] == "127.0.0.2" and payload["hosts"][0]["user"] == "auditor"
    everything = messages[0].decode() + body
    for secret in (str(tmp_path / "operator_key"), "operator_key", "KEYMATERIAL", "PRIVATE KEY", "SSH-PASSWORD-VALUE",
                   "DB-PASSWORD-VALUE", "BECOME-VALUE", redis.password, "key_file"):  # fmt: skip
        assert secret not in everything, secret
    # Nor does the broker's password reach what the run wrote or said.
    for text in (proc.stdout, proc.stderr, (out / "results.json").read_text(), (out / "report.html").read_text()):
        assert redis.password not in text
    # A worker that comes after the run ended drops the shard: nothing is audited for a run that is over.
    (tmp_path / "known_hosts").write_text("")
    worker = subprocess.Popen(
        [sys.executable, "-m", "auditor", "worker", "--queue", "nowhere", "--allow-net", "127.0.0.0/8",
         "--identity", str(tmp_path / "operator_key"), "--known-hosts", str(tmp_path / "known_hosts")],
        cwd=REPO, env={**os.environ, "AUDITOR_BROKER": redis.url},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        key = f"celery-task-meta-{envelope['headers']['id']}"
        deadline = time.monotonic() + 60
        while not redis.client().exists(key):
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.1)
        stored = json.loads(redis.client().get(key))
        assert stored["status"] == "SUCCESS" and stored["result"]["dropped"] == "the run was over"
        assert stored["result"]["hosts"] == [] and redis.client().llen("auditor.segment.nowhere") == 0
    finally:
        worker.terminate()
        _, said = worker.communicate(timeout=30)
    assert "audited" not in said and redis.password not in said


def test_a_password_on_the_command_line_is_refused(redis: RedisServer, tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    proc = auditor("run", "--distributed", "--broker", redis.url, "-i", str(inv), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "AUDITOR_BROKER" in proc.stderr and redis.password not in proc.stderr + proc.stdout
    assert not (tmp_path / "o").exists()
    proc = auditor("worker", "--broker", redis.url, "--allow-net", "127.0.0.0/8")
    assert proc.returncode == 2 and "AUDITOR_BROKER" in proc.stderr and redis.password not in proc.stderr


def test_a_credentials_file_others_can_read_is_refused(redis: RedisServer, tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"broker: {redis.url}\n")
    creds.chmod(0o640)
    args = [
        "run",
        "--distributed",
        "--credentials",
        str(creds),
        "-i",
        str(inv),
        "--no-network",
        "--segment-timeout",
        "2",
    ]
    proc = auditor(*args, "-o", str(tmp_path / "o1"))
    assert proc.returncode == 2 and "chmod 600" in proc.stderr and redis.password not in proc.stderr
    creds.chmod(0o600)
    proc = auditor(*args, "-o", str(tmp_path / "o2"))
    assert proc.returncode == 3, proc.stderr  # the broker was used: the hosts wait for a worker that never comes
    assert "no live worker" in (tmp_path / "o2/results.json").read_text()


def test_an_unreachable_broker_is_an_environment_error(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    proc = auditor(
        "run", "--distributed", "-i", str(inv), "-o", str(tmp_path / "o"),
        env={"AUDITOR_BROKER": f"redis+socket://:pw-NOT-SHOWN@{tmp_path}/none.sock"},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith("error: the broker") and "pw-NOT-SHOWN" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_the_distributed_extra_one_line_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import sys\nsys.modules['celery'] = None  # as if the extra were not installed\n"
        "from auditor.cli import main\n"
        "sys.argv = ['auditor', 'worker', '--broker', 'redis://127.0.0.1:1/0', '--allow-net', '127.0.0.0/8']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        "error: distributed runs need Celery and redis: pip install 'auditor[distributed]' (celery is missing)"
    ]


def test_a_broker_lost_during_the_run_ends_it_in_error_not_a_traceback(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    out = tmp_path / "out"
    with running_redis() as lost:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "run", "--distributed", "-i", str(inv), "--no-network", "-o", str(out),
             "--segment-timeout", "3"],
            cwd=REPO, env={**os.environ, "AUDITOR_BROKER": lost.url}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not lost.client().llen("auditor.segment.nowhere"):  # the shard is sent: the run waits for its result
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    _, err = proc.communicate(timeout=120)  # the broker is gone now
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    hosts = json.loads((out / "results.json").read_text())["hosts"]
    assert [h["status"] for h in hosts] == ["error", "error"]


def test_bad_input_is_refused_before_the_output_folder_is_taken(redis: RedisServer, tmp_path: Path) -> None:
    cases = {
        "[s]\nme ansible_host=127.0.0.2\n[s:vars]\nsegment=bad seg\n": "inv.ini:4: me.segment: 'bad seg' is no",
        "[s]\nme ansible_connection=local\n": "inv.ini:2: me.ansible_connection: a host audited over a local",
        "": "--inventory: a distributed run needs an inventory",
    }
    for text, said in cases.items():
        (tmp_path / "inv.ini").write_text(text)
        inventory = ["-i", str(tmp_path / "inv.ini")] if text else []
        out = tmp_path / "out"
        proc = auditor("run", "--distributed", *inventory, "-o", str(out), env={"AUDITOR_BROKER": redis.url})
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert not out.exists()
