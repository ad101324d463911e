"""Jobs counted only where cron runs them, on two hosts of their own (profiles/cronsay_*.py): the audit
runs the real ``python -m auditor run``; a grep of the same files (the old reading) is shown to say the
opposite on each host, so the verdicts below rest on cron's reading alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.helpers import assert_expected_checks, module_lab
from tests.lab.lab import Lab, host_name
from tests.lab.profiles import CRON_PROFILES
from tests.lab.sshutil import root_output

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
FAIL, PASS = host_name("cronsay_fail"), host_name("cronsay_pass")
# The backup job as the catalog read it before: a grep of these files.
OLD_GREP = (
    "grep -lE '(^|[^A-Za-z0-9_.-])(tar|restic)([^A-Za-z0-9_-]|$)' /etc/crontab /etc/cron.d/* /etc/cron.daily/* "
    "/etc/cron.weekly/* /var/spool/cron/crontabs/*"
)


@pytest.fixture(scope="module")
def cron_lab() -> Iterator[Lab]:
    with module_lab(CRON_PROFILES, "c", ".128/26") as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(cron_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(cron_lab, tmp_path_factory.mktemp("cron"))


def test_a_grep_reads_the_opposite(cron_lab: Lab) -> None:
    assert "/etc/cron.d/backup.disabled" in root_output(cron_lab, FAIL, OLD_GREP)
    assert "/etc/cron.d/nightly" in root_output(cron_lab, FAIL, OLD_GREP)
    assert root_output(cron_lab, FAIL, "ls /var/lib/aide/aide.db")  # the old baseline check's only question
    assert root_output(cron_lab, PASS, OLD_GREP).strip() == ""


def test_run_parts_is_the_reading(cron_lab: Lab) -> None:
    assert "/etc/cron.daily/aide" not in root_output(cron_lab, FAIL, "run-parts --test /etc/cron.daily")
    assert "/etc/cron.hourly/site-backup" in root_output(cron_lab, PASS, "run-parts --test /etc/cron.hourly")


@pytest.mark.parametrize("name", [FAIL, PASS])
def test_verdicts(results: dict[str, dict[str, Any]], name: str) -> None:
    assert_expected_checks(results, name)


def test_reasons(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-BACKUP-RECENT"]["reason"]
    assert "backup jobs cron runs = 0" in r, r
    r = results[FAIL]["LNX-FILE-INTEGRITY-BASELINE"]["reason"]
    assert "integrity check jobs cron runs = 0" in r, r
    r = results[PASS]["LNX-BACKUP-RECENT"]["reason"]
    assert "/etc/cron.hourly/site-backup" in r, r
