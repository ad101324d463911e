"""logrotate retention as logrotate -d reads the configuration (outputs captured on the logkeep lab hosts, whose
configuration a reader of the files gets wrong), and file_age over a list parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable
from auditor.facts.file_age import FileAgeFact
from auditor.facts.logrotate import LogrotateFact, parse_debug

DATA = Path(__file__).parent / "data/logrotate"
LOGS = {"logs": ["/var/log/syslog", "/var/log/auth.log"]}


def _parse(name: str) -> dict:
    return LogrotateFact().parse([raw((DATA / name).read_text())], LOGS)


def test_block_in_a_file_logrotate_conf_includes_wins():
    """logrotate.local (included before logrotate.d) keeps 26 weeks; logrotate.d/rsyslog's "rotate 4" for the
    same logs is rejected by logrotate as a duplicate: a reader of logrotate.d says 28 days."""
    value = _parse("include-local.out")
    assert value["min_retention_days"] == 182
    assert value["logs"]["/var/log/auth.log"]["rotate"] == 26
    assert "/etc/logrotate.local" in value["summary"] and "logrotate -d as root" in value["summary"]


def test_a_block_in_a_disabled_file_counts_for_nothing():
    """logrotate.d/00-keep.disabled says rotate 52; logrotate skips it and keeps logrotate.d/rsyslog's 4 weeks."""
    value = _parse("disabled-skipped.out")
    assert value["min_retention_days"] == 28
    lines = [line[1:] for line in (DATA / "disabled-skipped.out").read_text().splitlines() if line.startswith("|")]
    _, read, _ = parse_debug(lines)
    assert "/etc/logrotate.d/00-keep.disabled" not in read and "/etc/logrotate.d/rsyslog" in read


def test_maxage_in_the_winning_block_caps_it():
    assert _parse("block-maxage.out")["min_retention_days"] == 90


def test_a_global_maxage_that_may_reach_the_block_makes_a_range():
    """A top-level "maxage 60" in a file read later: globals apply to later blocks only, but the reading of
    the files does not place it for sure, so the days are a range (a pass only when all of it passes)."""
    assert _parse("global-maxage-after.out")["min_retention_days"] == {"at_least": 60, "at_most": 182}


def test_size_rotation_has_no_period():
    value = _parse("block-maxage-size.out")
    assert value["min_retention_days"] is None and "size only" in value["summary"]


def test_without_root_logrotate_is_not_asked():
    with pytest.raises(FactUnreadable, match="needs root"):
        _parse("not-root.out")


def test_not_installed():
    assert LogrotateFact().parse([raw("@@absent\n")], LOGS)["installed"] is False


def test_a_log_no_block_names_is_unknown():
    text = (DATA / "include-local.out").read_text()
    value = LogrotateFact().parse([raw(text)], {"logs": ["/var/log/secure"]})
    assert value["min_retention_days"] is None and "no block logrotate reads" in value["summary"]


def test_configuration_text_cannot_fake_a_section():
    """Every line logrotate or a configuration file prints is prefixed: a line "@@uid" in a file stays text."""
    text = (DATA / "include-local.out").read_text().replace("|\tmissingok", "|@@uid\n|0", 1)
    assert _parse_text(text)["min_retention_days"] == 182


def _parse_text(text: str) -> dict:
    return LogrotateFact().parse([raw(text)], LOGS)


def test_file_age_flattens_a_list_parameter():
    snippet = FileAgeFact().snippets({"paths": [["/srv/backup/*", "/backup dir/*.tgz"]]})[0]
    assert "for f in /srv/backup/* '/backup dir/'*.tgz; do" in snippet
