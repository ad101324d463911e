"""The AIDE baseline judged as AIDE reads it, on two hosts of their own (profiles/aidesay_*.py): the audit
runs the real ``python -m auditor run``; the fixed list of database paths the check read before is shown
to say the opposite on each host, and AIDE's own ``--config-check`` to name the database that decides."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.helpers import assert_expected_checks, module_lab
from tests.lab.lab import Lab, host_name
from tests.lab.profiles import AIDE_PROFILES
from tests.lab.sshutil import root_output

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
FAIL, PASS = host_name("aidesay_fail"), host_name("aidesay_pass")
# The baseline as the check read it before: files at a fixed list of paths.
OLD_PATHS = "ls -d /var/lib/aide/aide.db /var/lib/aide/aide.db.gz 2>/dev/null; true"
ASK_AIDE = "aide --config=/etc/aide/aide.conf --config-check -L config </dev/null 2>&1 | grep \"set 'database_in'\""


@pytest.fixture(scope="module")
def aide_lab() -> Iterator[Lab]:
    with module_lab(AIDE_PROFILES, "i", ".192/26") as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(aide_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(aide_lab, tmp_path_factory.mktemp("aide"))


def test_the_fixed_paths_read_the_opposite(aide_lab: Lab) -> None:
    assert "/var/lib/aide/aide.db" in root_output(aide_lab, FAIL, OLD_PATHS)  # a fresh file: the old check passed
    assert root_output(aide_lab, PASS, OLD_PATHS).strip() == ""  # nothing there: the old check failed


def test_aide_names_the_database(aide_lab: Lab) -> None:
    assert "'file:/srv/aide/aide.db.gz'" in root_output(aide_lab, FAIL, ASK_AIDE)
    assert "'file:/srv/aide/aide.db'" in root_output(aide_lab, PASS, ASK_AIDE)


def test_config_check_is_cheap(aide_lab: Lab) -> None:
    start = time.monotonic()
    root_output(aide_lab, PASS, "for i in 1 2 3 4 5 6 7 8 9 10; do " + ASK_AIDE + " >/dev/null; done")
    assert (time.monotonic() - start) / 10 < 0.2  # ssh included: aide itself takes ~15 ms


@pytest.mark.parametrize("name", [FAIL, PASS])
def test_verdicts(results: dict[str, dict[str, Any]], name: str) -> None:
    assert_expected_checks(results, name)


def test_reasons(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-FILE-INTEGRITY-BASELINE"]["reason"]
    assert "/srv/aide/aide.db.gz does not exist" in r, r
    r = results[PASS]["LNX-FILE-INTEGRITY-BASELINE"]["reason"]
    assert "/srv/aide/aide.db" in r and "database_in file:/srv/aide/aide.db" in r, r
