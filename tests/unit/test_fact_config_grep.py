"""config_grep facts sharing one grep: each keeps its own lines; a reading nobody can vouch for is an error."""

from __future__ import annotations

import subprocess

import pytest

from auditor.facts import REGISTRY, FactUnreadable, RawOutput

GREP = REGISTRY["config_grep"]
MAX_OK = {"paths": ["{d}/login.defs"], "pattern": "^[[:space:]]*PASS_MAX_DAYS[[:space:]]+([1-9]|[1-8][0-9]|90)$"}
MAX_BAD = {"paths": ["{d}/login.defs"], "pattern": "^[[:space:]]*PASS_MAX_DAYS[[:space:]]+(0*|9[1-9]|[0-9]{3,})$"}
CRON = {"paths": ["{d}/cron.d/*", "{d}/login.defs"], "pattern": "(^|[^A-Za-z])rsync([^A-Za-z]|$)"}


def params(tmp_path, *facts: dict) -> list[dict]:
    return [{"paths": [p.format(d=tmp_path) for p in f["paths"]], "pattern": f["pattern"]} for f in facts]


def run(snippet: str) -> RawOutput:
    proc = subprocess.run(["/bin/sh", "-c", snippet], capture_output=True, text=True, env={"LC_ALL": "C"})
    return RawOutput(proc.stdout, proc.stderr, proc.returncode)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "cron.d").mkdir()
    (tmp_path / "login.defs").write_text("PASS_MAX_DAYS 30\n# PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 99999\nrsync x\n")
    (tmp_path / "cron.d" / "backup").write_text("0 1 * * * root rsync -a /srv /backup\nPASS_MAX_DAYS 30\n")
    return tmp_path


def test_each_fact_reads_from_the_shared_grep_what_its_own_grep_reads(files):
    facts = params(files, MAX_OK, MAX_BAD, CRON)
    merged = GREP.merge_params(facts)
    assert merged is not None and len(merged["groups"]) == 2  # the two login.defs facts list it once
    shared = run(GREP.snippets(merged)[0])
    for fact in facts:
        alone = run(GREP.snippets(fact)[0])
        assert GREP.parse([shared], fact) == GREP.parse([alone], fact)
        assert sorted(GREP.evidence([shared], fact).splitlines()) == sorted(alone.stdout.splitlines())
    assert GREP.parse([shared], facts[0])["count"] == 1  # the 30, not the 99999 nor the cron file's line
    assert GREP.parse([shared], facts[2])["count"] == 2  # cron.d/backup and login.defs, listed by both groups


def test_a_line_grep_found_but_no_translated_pattern_matches_makes_every_fact_an_error(files):
    facts = params(files, MAX_OK, CRON)
    shared = run(GREP.snippets(GREP.merge_params(facts))[0])
    forged = RawOutput(shared.stdout + f"{files}/login.defs:9:something neither pattern matches\n", "", 0)
    for fact in facts:
        with pytest.raises(FactUnreadable, match="differently"):
            GREP.parse([forged], fact)


def test_output_without_this_facts_files_is_unreadable_not_empty(files):
    facts = params(files, MAX_OK, CRON)
    shared = run(GREP.snippets(GREP.merge_params(facts[1:]))[0])  # ran without the first fact
    with pytest.raises(FactUnreadable, match="lacks"):
        GREP.parse([shared], facts[0])
    with pytest.raises(FactUnreadable, match="incomplete"):
        GREP.parse([RawOutput(shared.stdout.split("@@grep")[0], "", 0)], facts[1])


def test_permission_denied_counts_only_for_the_facts_own_files(files):
    facts = params(files, MAX_OK, CRON)
    shared = run(GREP.snippets(GREP.merge_params(facts))[0])
    denied = f"grep: {files}/cron.d/backup: Permission denied\n"
    only_cron = RawOutput(shared.stdout.replace(f"{files}/cron.d/backup:1:", "x"), denied, 2)
    assert GREP.parse([only_cron], facts[0])["count"] == 1  # login.defs was read: the denial is not its
    lines = shared.stdout.split("\n")
    empty = RawOutput("\n".join(x for x in lines if not (x.startswith(str(files)) and "rsync" in x)), denied, 2)
    with pytest.raises(FactUnreadable, match="Permission denied"):
        GREP.parse([empty], facts[1])


@pytest.mark.parametrize(
    "fact",
    [{"paths": ["/etc/x"], "pattern": r"\bword"}, {"paths": ["relative/x"], "pattern": "a"},
     {"paths": ["/etc/x"], "pattern": "a\nb"}],
)  # fmt: skip
def test_facts_that_cannot_be_shared_exactly_keep_their_own_grep(fact):
    assert GREP.merge_params([fact, {"paths": ["/etc/y"], "pattern": "b"}]) is None


@pytest.mark.parametrize(
    "raw",
    [RawOutput("", "", None), RawOutput("", "", 124, timed_out=True), RawOutput("", "grep: Unmatched ( or \\(\n", 2)],
    ids=["unfinished", "timed out", "bad pattern"],
)
def test_no_lines_because_grep_did_not_finish_or_failed_is_an_error_not_an_empty_answer(raw):
    # A check that passes on "no line matches" (a forbidden setting) would pass on any of these.
    with pytest.raises(FactUnreadable):
        GREP.parse([raw], {"paths": ["/etc/x"], "pattern": "a"})
