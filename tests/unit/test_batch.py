"""The batched script, run by a real /bin/sh: markers, exit codes, timeouts, forged markers."""

from __future__ import annotations

import subprocess

from auditor import batch


def run(snippets: list[str], timeout: int = 5, parallel: bool = False) -> dict:
    b = batch.build(snippets, timeout=timeout, parallel=parallel)
    proc = subprocess.run(["/bin/sh", "-s"], input=b.script, capture_output=True, text=True, timeout=60)
    return batch.split(b, proc.stdout)


def test_outputs_exit_codes_and_stderr_are_kept_apart():
    out = run(["echo hi; echo err >&2; exit 3", "printf 'no newline'"])
    assert (out[0].stdout, out[0].stderr, out[0].rc) == ("hi\n", "err\n", 3)
    assert (out[1].stdout, out[1].rc) == ("no newline", 0)


def test_one_slow_fact_does_not_sink_the_others():
    out = run(["sleep 30", "echo after"], timeout=1)
    assert out[0].timed_out and out[0].rc == 124
    assert out[1].stdout == "after\n"


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


def test_parallel_batch_still_times_out_per_fact():
    out = run(["sleep 30", "echo after"], timeout=1, parallel=True)
    assert out[0].timed_out and out[1].stdout == "after\n"
