"""logrotate retention (rotate x period, maxage, globals of logrotate.conf) and file_age over a list parameter."""

from __future__ import annotations

import pytest
from conftest import raw, tar_section

from auditor.facts.files import FileAgeFact
from auditor.facts.logrotate import LogrotateFact

CONF = "weekly\nrotate 4\ncreate\ninclude /etc/logrotate.d\n"
RSYSLOG = (
    "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 26\n\tweekly\n\tmissingok\n"
    "\tpostrotate\n\t\t/usr/lib/rsyslog/rsyslog-rotate # daily rotate 1\n\tendscript\n}\n"
)


def _parse(files: dict[str, str], installed: bool = True, logs: tuple[str, ...] = ("/var/log/syslog",)):
    own = "@@installed\n" if installed else "@@absent\n"
    return LogrotateFact().parse([raw(own), raw(tar_section(files))], {"logs": list(logs)})


def test_rotate_times_period():
    value = _parse({"/etc/logrotate.conf": CONF, "/etc/logrotate.d/rsyslog": RSYSLOG},
                   logs=("/var/log/syslog", "/var/log/auth.log"))
    assert value["min_retention_days"] == 182
    assert value["logs"]["/var/log/auth.log"]["file"] == "/etc/logrotate.d/rsyslog"


@pytest.mark.parametrize(
    ("block", "days"),
    [
        ("/var/log/syslog {\n daily\n rotate 30\n}\n", 30),
        ("/var/log/sys* {\n rotate 3\n}\n", 21),  # period from logrotate.conf's globals
        ("/var/log/syslog {\n monthly\n rotate 12\n maxage 200\n}\n", 200),
        ("/var/log/syslog {\n rotate -1\n}\n", 36500),
    ],
)
def test_blocks(block, days):
    assert _parse({"/etc/logrotate.conf": CONF, "/etc/logrotate.d/x": block})["min_retention_days"] == days


def test_size_only_or_unnamed_is_unknown():
    size_only = _parse({"/etc/logrotate.d/x": "/var/log/syslog {\n size 100M\n rotate 5\n}\n"})
    assert size_only["min_retention_days"] is None
    unnamed = _parse({"/etc/logrotate.conf": CONF})
    assert unnamed["min_retention_days"] is None and "no logrotate block" in unnamed["summary"]


def test_other_facts_files_in_the_shared_archive_are_not_configuration():
    """The host's archive holds sshd's and rsyslog's files too: a block there is not logrotate's."""
    value = _parse({"/etc/logrotate.conf": CONF, "/etc/logrotate.d/rsyslog": RSYSLOG,
                    "/etc/rsyslog.d/50-default.conf": "/var/log/syslog {\n rotate 1\n daily\n}\n",
                    "/etc/logrotate.d/.rsyslog.swp": "/var/log/syslog {\n rotate 1\n daily\n}\n"})  # fmt: skip
    assert value["logs"]["/var/log/syslog"]["file"] == "/etc/logrotate.d/rsyslog"
    assert value["min_retention_days"] == 26 * 7


def test_not_installed():
    assert _parse({}, installed=False)["installed"] is False


def test_file_age_flattens_a_list_parameter():
    snippet = FileAgeFact().snippets({"paths": [["/srv/backup/*", "/backup dir/*.tgz"]]})[0]
    assert "for f in /srv/backup/* '/backup dir/'*.tgz; do" in snippet
