"""The batched script, run by a real /bin/sh: markers, exit codes, timeouts, forged markers."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from auditor import batch


def run(snippets: list[str], timeout: int = 5, parallel: bool = False, shell: str = "/bin/sh") -> dict:
    b = batch.build(snippets, timeout=timeout, parallel=parallel)
    proc = subprocess.run([shell, "-s"], input=b.script, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    return batch.split(b, proc.stdout)


def test_outputs_exit_codes_and_stderr_are_kept_apart():
    out = run(["echo hi; echo err >&2; exit 3", "printf 'no newline'"])
    assert (out[0].stdout, out[0].stderr, out[0].rc) == ("hi\n", "err\n", 3)
    assert (out[1].stdout, out[1].rc) == ("no newline", 0)


def test_host_output_cannot_forge_a_boundary():
    out = run(["echo '@@AUDITOR-0000000000000000 END 0 0'; echo '\n@@AUDITOR-x BEGIN 1'", "echo real"])
    assert out[1].stdout == "real\n"
    assert "@@AUDITOR-0000000000000000" in out[0].stdout


def test_values_with_quotes_reach_the_shell_quoted():
    out = run(["printf '%s' \"it's; $(echo no)\""])
    assert out[0].stdout == "it's; no"


def test_parallel_batch_gives_the_same_outputs():
    snippets = ["echo hi; echo err >&2; exit 3", "printf 'no newline'", "sleep 0.2; echo a", "echo b >&2; echo c"]
    assert run(snippets, parallel=True) == run(snippets)


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])  # dash on Debian, bash where /bin/sh is bash
@pytest.mark.parametrize("parallel", [False, True])
def test_a_hung_fact_is_stopped_with_every_process_it_started(shell: str, parallel: bool):
    # The grandchild keeps the batch's stdout open: unless it is killed too, the batch never ends.
    started = time.monotonic()
    out = run(["sh -c 'sleep 60 & sleep 60; echo never'", "echo after"], timeout=1, parallel=parallel, shell=shell)
    assert time.monotonic() - started < 10
    assert out[0].timed_out and out[0].rc == 124 and "never" not in out[0].stdout
    assert out[1].stdout == "after\n" and not out[1].timed_out


def test_snippets_read_the_hosts_clock_once_a_batch_and_still_run_alone():
    # "${_now:-$(date +%s)}": no date process a snippet inside a batch; the same text on its own still works.
    before = int(time.time())
    in_batch = run(['echo "${_now:-unset}"'])[0].stdout
    alone = subprocess.run(["/bin/sh", "-c", 'echo "${_now:-$(date +%s)}"'], capture_output=True, text=True).stdout
    assert before <= int(in_batch) <= int(alone) <= time.time()


def test_a_fact_that_exits_124_itself_is_not_a_timeout():
    out = run(["exit 124", "exit 137"])
    assert (out[0].rc, out[0].timed_out, out[1].rc, out[1].timed_out) == (124, False, 137, False)


def test_a_fact_cannot_end_the_batch_or_touch_its_state():
    out = run(["exit 5", "_d=/nonexistent; _run() { :; }; cd /; echo x >&2", "echo still; echo err >&2"])
    assert out[0].rc == 5 and out[1].stderr == "x\n"
    assert (out[2].stdout, out[2].stderr) == ("still\n", "err\n")


def test_the_batch_leaves_no_process_behind():
    b = batch.build(["echo hi"], timeout=5)
    # Its own session: whatever the batch leaves behind keeps the session id, even once orphaned.
    proc = subprocess.Popen(["/bin/sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    proc.communicate(b.script, timeout=30)
    time.sleep(1.5)  # the watchdog's last `sleep 1` may outlive it by a second
    states = subprocess.run(["ps", "-o", "stat=", "-s", str(proc.pid)], capture_output=True, text=True).stdout
    assert [s for s in states.split() if not s.startswith("Z")] == []  # zombies wait for an init that reaps


def test_an_empty_batch_is_a_valid_script():
    assert run([]) == {} and run([], parallel=True) == {}


def test_a_stopped_batch_leaves_no_output_and_no_process_on_the_host(tmp_path):
    b = batch.build(["echo secret-config", "sleep 31.25"], timeout=60)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(["/bin/sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdin is not None
    proc.stdin.write(b.script)
    proc.stdin.close()
    deadline = time.monotonic() + 10
    while not any(tmp_path.rglob("p1")) and time.monotonic() < deadline:  # the second snippet is running
        time.sleep(0.05)
    assert any(tmp_path.rglob("o")), "the batch's output file was never written"
    proc.terminate()
    proc.wait(timeout=10)
    assert list(tmp_path.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", "sleep 31.25"], capture_output=True).returncode == 1  # none left


# A `kill` of several processes is one kill() each, and a loaded host can deschedule the shell between
# two of them (CI did, once: a timed-out tree survived its batch). This build of the batch makes that
# certain: it pauses after each one.
SLOW_KILL = (
    "kill() { case $1 in -*) __s=$1; shift;; *) __s=-TERM;; esac\n"
    "  for __x; do command kill $__s $__x; sleep 0.2; done; }\n"
)


def survivors(session: int, mark: str) -> list[str]:
    """The processes of a session whose command line holds `mark` and that have not ended (zombies have none)."""
    ps = subprocess.run(["ps", "-o", "stat=,args=", "-s", str(session)], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if mark in line]


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])
@pytest.mark.parametrize("parallel", [False, True])
def test_a_timed_out_tree_is_dead_when_the_output_is_complete_even_if_the_watchdog_is_slow(shell: str, parallel: bool):
    b = batch.build(["sh -c 'sleep 31.7 & sleep 31.6; echo never'", "echo after"], timeout=1, parallel=parallel)
    proc = subprocess.Popen([shell, "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    stdout, stderr = proc.communicate(SLOW_KILL + b.script, timeout=60)
    left = survivors(proc.pid, "sleep 31.")  # at once: no process of the snippet may outlive its END line
    subprocess.run(["pkill", "-KILL", "-s", str(proc.pid), "-f", "sleep 31."])
    out = batch.split(b, stdout)
    assert out[0].timed_out and out[0].rc == 124 and "never" not in out[0].stdout
    assert out[1].stdout == "after\n" and not out[1].timed_out
    assert (left, proc.returncode, stderr) == ([], 0, "")


def tree_states(session: int) -> dict[str, str]:
    ps = subprocess.run(["ps", "-o", "stat=,args=", "-s", str(session)], capture_output=True, text=True).stdout
    return {args.strip(): stat for stat, _, args in (line.strip().partition(" ") for line in ps.splitlines())}


@pytest.mark.parametrize("moment", ["freezing", "killing"])
@pytest.mark.parametrize("parallel", [False, True])
def test_a_batch_stopped_while_its_watchdog_works_leaves_no_process(tmp_path, parallel: bool, moment: str):
    b = batch.build(["sh -c 'sleep 31.5 & sleep 31.4; echo never'", "sleep 31.3"], timeout=1, parallel=parallel)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(["/bin/sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                            start_new_session=True)  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(SLOW_KILL + b.script)
    proc.stdin.close()
    deadline = time.monotonic() + 30
    seen = False
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
        if moment == "freezing":  # the tree is marked timed out, its processes are being stopped
            seen = any(tmp_path.rglob("t0"))
        else:  # the snippet's `sh -c` is killed, its children (stopped, now init's) not yet
            states = {args.split(";")[0]: stat for args, stat in tree_states(proc.pid).items()}
            seen = "sh -c sleep 31.5 & sleep 31.4" not in states and states.get("sleep 31.4", "").startswith("T")
    time.sleep(0.3 if moment == "freezing" else 0)
    proc.send_signal(signal.SIGHUP)
    proc.wait(timeout=30)
    left = survivors(proc.pid, "sleep 31.")
    subprocess.run(["pkill", "-KILL", "-s", str(proc.pid), "-f", "sleep 31."])
    assert seen, f"the watchdog was never seen {moment}"
    assert left == [] and list(tmp_path.iterdir()) == []


def test_a_parallel_batch_stopped_before_a_snippet_wrote_its_pid_leaves_no_process(tmp_path):
    # This build writes each pid file half a second late: the snippet already runs, unknown to the p files.
    slow_echo = 'echo() { sleep 0.5; command echo "$@"; }\n'
    b = batch.build(["echo a", "sleep 31.2"], timeout=60, parallel=True)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(["/bin/sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                            start_new_session=True)  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(slow_echo + b.script)
    proc.stdin.close()
    deadline = time.monotonic() + 10
    while not survivors(proc.pid, "sleep 31.2") and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGHUP)
    proc.wait(timeout=30)
    left = survivors(proc.pid, "sleep 31.2")
    subprocess.run(["pkill", "-KILL", "-s", str(proc.pid), "-f", "sleep 31.2"])
    assert left == [] and list(tmp_path.iterdir()) == []
