"""Secrets never reach a report: values after secret-like words are masked in every evidence excerpt."""

from __future__ import annotations

import pytest

from auditor.evidence import _SECRET, redact, stored_excerpt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2", "password=********"),
        ("DB_PASSWD: s3cr3t\nother", "DB_PASSWD: ********\nother"),
        ("rootpw passphrase abc", "rootpw passphrase ********"),
        ("X-API-Key: 0123", "X-API-Key: ********"),
        ("apikey=zz token = t0k", "apikey=******** token = ********"),
        ("PasswordAuthentication no", "PasswordAuthentication no"),  # not a secret: sshd's yes/no
        ("permitrootlogin no\nport 22", "permitrootlogin no\nport 22"),
        # sshd -T: a value ending in "password" is no key; the next line's word is not its value.
        (
            "permitrootlogin without-password\npasswordauthentication yes\nport 22",
            "permitrootlogin without-password\npasswordauthentication yes\nport 22",
        ),
        ("token:\nabc", "token:\nabc"),
        ("ſecret=x", "ſecret=********"),  # U+017F matches 's' case-insensitively: the fast path must not skip it
        # what hosts print that the rule missed: an environment file, JSON, a DSN, Redis, keepalived, XML
        ("PGPASSWORD=S3cret", "PGPASSWORD=********"),
        ('{"password": "S3cret", "user": "app"}', '{"password": ******** "user": "app"}'),
        ("'db_password' => 'S3cret',", "'db_password' => ********"),
        ("DATABASE_URL=postgresql://app:S3cret@db/app", "DATABASE_URL=postgresql://app:********@db/app"),
        ("url: redis://:S3cret@cache:6379/0", "url: redis://:********@cache:6379/0"),
        ("requirepass S3cret\nmasterauth S3cret", "requirepass ********\nmasterauth ********"),
        ("    auth_pass S3cret", "    auth_pass ********"),
        ("db_pass=S3cret", "db_pass=********"),
        ("<password>S3cret</password>", "<password>********"),
        ("https://mirror.lab/debian bookworm main", "https://mirror.lab/debian bookworm main"),
        ("ssh://git@forge.lab:22/x", "ssh://git@forge.lab:22/x"),
        ("PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 1", "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 1"),
    ],
)
def test_secret_values_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert stored_excerpt(text) == expected


def test_the_fast_path_never_skips_what_the_pattern_would_mask() -> None:
    samples = ["Password: a", "PASSWD b", "Secret c", "TOKEN d", "Api_Key e", "api-key f", "nothing here", "ſecret g",
               "requirepass h", "masterauth i", "auth_pass j", "PGPASSWORD=k"]  # fmt: skip
    for text in samples:
        assert redact(text) == _SECRET.sub(lambda m: m.group(1) + m.group(2) + "********", text), text


def test_words_inside_other_words_are_left_alone() -> None:
    assert redact("%admin ALL=(ALL) NOPASSWD: ALL") == "%admin ALL=(ALL) NOPASSWD: ALL"
    assert redact("spring.datasource.password=x") == "spring.datasource.password=********"


def test_a_failed_audit_scripts_error_text_is_masked(monkeypatch, tmp_path):
    """The host's error (results.json, the report) quotes what the host printed (here sudo's refusal):
    masked like evidence."""
    from auditor import engine
    from auditor.catalog import load_catalog
    from auditor.model import Host, HostPlan
    from auditor.transports import ConnectOptions
    from auditor.transports.base import ExecResult, Transport

    class FailingHost(Transport):
        def connect(self) -> None:
            pass

        def run(self, script: str, timeout: float) -> ExecResult:
            return ExecResult(1, "", "sudo: PGPASSWORD=hunter2 db_pass=hunter2 is not allowed", 0.1)

    monkeypatch.setattr(engine, "open_transport", lambda host, options: FailingHost())
    checks = [load_catalog().checks["LNX-ACCOUNTS-NO-EMPTY-PASSWORD"]]
    plan = HostPlan(Host("web01", "192.0.2.10"), checks, {})
    result = engine.audit_host(plan, engine.RunOptions(connect=ConnectOptions(known_hosts=tmp_path / "kh")))
    assert "PGPASSWORD=********" in result.error
    assert "hunter2" not in result.error and "hunter2" not in result.results[0].reason
