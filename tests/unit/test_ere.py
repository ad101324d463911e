"""The ERE translation agrees with a real ``grep -E`` (C locale), line by line, for every catalog pattern."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auditor.catalog import load_catalog
from auditor.facts.ere import Unsupported, as_bytes, translate
from tests.former_greps import FORMER_GREPS

CATALOG_PATTERNS = sorted(
    {
        spec.params["pattern"]
        for check in load_catalog().checks.values()
        for spec in check.facts.values()
        if spec.type == "config_grep"
    }
)
# Constructs a catalog author may write next, with their traps: "]" first in a bracket, "\" in one,
# intervals, "^" and "$" inside, non-ASCII letters (bytes to C-locale grep).
FORMER_CATALOG_PATTERNS = [grep["pattern"] for grep in FORMER_GREPS]


MORE_PATTERNS = [
    r"[]a-c]x",
    r"[^]/]+\.conf$",
    r"a[\]b",
    r"(ab){2,3}c{,2}d",
    r"x{3}",
    r"^(#|;)?[[:space:]]*key[[:blank:]]*=[[:digit:][:upper:]]+",
    r"[Đđ]ược|giám sát",
    r"a.c|^\$HOME|end$",
    r"[[:punct:]]{2}",
    r"[a-]z",
]


def grep_lines(pattern: str, lines: list[bytes]) -> set[int]:
    """Indexes of the lines a real grep -E finds, in the C locale as the batch runs it."""
    with tempfile.NamedTemporaryFile(delete=False) as fh:
        fh.write(b"\n".join(lines) + b"\n")
    try:
        proc = subprocess.run(
            ["grep", "-naE", "-e", pattern, "--", fh.name],
            capture_output=True,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    finally:
        os.unlink(fh.name)
    assert proc.returncode in (0, 1), proc.stderr
    return {int(line.split(b":", 1)[0]) - 1 for line in proc.stdout.split(b"\n") if line}


def python_lines(pattern: str, lines: list[bytes]) -> set[int]:
    # Through text and back, as the auditor reads a host's output.
    texts = [line.decode("utf-8", "surrogateescape") for line in lines]
    return {i for i, text in enumerate(texts) if translate(pattern).search(as_bytes(text))}


def a_line(pattern: str) -> st.SearchStrategy[bytes]:
    """Lines that match (per the translation), near misses of those, and plain text."""
    matching = st.from_regex(translate(pattern)).map(lambda b: b.replace(b"\n", b" ").replace(b"\0", b""))
    mutated = st.tuples(matching, st.integers(0, 200), st.binary(max_size=2)).map(
        lambda t: (t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]).replace(b"\n", b" ").replace(b"\0", b"")
    )
    characters = st.characters(blacklist_characters="\n\0", blacklist_categories=["Cs"])
    text = st.text(alphabet=characters, max_size=60).map(str.encode)
    return st.one_of(matching, mutated, text)


ALL_PATTERNS = sorted({*CATALOG_PATTERNS, *FORMER_CATALOG_PATTERNS, *MORE_PATTERNS})


def test_every_catalog_pattern_translates():
    for pattern in [*CATALOG_PATTERNS, *FORMER_CATALOG_PATTERNS]:  # the catalog's own may be none
        translate(pattern)


# No shrinking: the assertion names the pattern, and shrinking a mismatch takes minutes.
@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_translation_finds_exactly_the_lines_grep_finds(data: st.DataObject):
    for pattern in ALL_PATTERNS:
        lines = data.draw(st.lists(a_line(pattern), min_size=1, max_size=25), label=pattern)
        assert python_lines(pattern, lines) == grep_lines(pattern, lines), pattern


def test_lines_from_real_configuration_files_agree():
    lines = [
        b"PASS_MAX_DAYS\t90",
        b"  PASS_MAX_DAYS 99999",
        b"PASS_MAX_DAYS 0",
        b"PASS_MAX_DAYS -1",
        b"# PASS_MAX_DAYS 30",
        b'APT::Periodic::Unattended-Upgrade "1";',
        b'APT::Periodic::Unattended-Upgrade "0";',
        b"Defaults\tlogfile=/var/log/sudo.log",
        b"Defaults  env_reset, !syslog",
        b"auth required pam_faillock.so preauth",
        b"-w /etc/shadow -p wa -k identity",
        b"-a always,exit -F path=/etc/sudoers -F perm=wa",
        b"server 10.0.0.1 iburst",
        b"NTP=ntp.example.vn",
        "Cảnh báo: chỉ người được phép; mọi truy cập trái phép bị giám sát.".encode(),
        "ĐƯỢC PHÉP".encode(),
        b"0 2 * * * root /usr/bin/rsync -a /srv /backup",
        b"30 1 * * * root clamscan -r /home",
        b"\xff\xfe not utf-8 PASS_MAX_DAYS 30",
    ]
    for pattern in ALL_PATTERNS:
        assert python_lines(pattern, lines) == grep_lines(pattern, lines), pattern


@pytest.mark.parametrize(
    "pattern",
    [r"\w+", r"\bword", r"(a)\1", r"\<x", "*a", "a**", "a+?", "(|a)", "a|", "()", "[[:word:]]", "[[=a=]]", "[z-a]",
     "a{", "a{x}", "[abc", r"\s", "[[:alpha:]-z]"],
)  # fmt: skip
def test_what_it_cannot_reproduce_exactly_is_refused(pattern: str):
    with pytest.raises(Unsupported):
        translate(pattern)
