"""``aide_db``: the database AIDE itself names (``aide --config-check``), on real outputs captured in the
lab base (tests/unit/data/aide/README.md says how)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from auditor.clock import Reference
from auditor.facts.aide_db import AideDbFact, parse_config_check, snippet
from auditor.facts.base import FactUnreadable, RawOutput

DATA = Path(__file__).parent / "data" / "aide"


def parsed(name: str, config: str = "/etc/aide/aide.conf", rc: int | None = 0) -> dict[str, Any]:
    text = (DATA / f"{name}.out").read_text()
    lines = text.splitlines()
    # Judged as at capture time: the auditor's clock then was the host's (a lab host), not today's.
    captured = float(lines[lines.index("@@stat") + 1]) if "@@stat" in lines else None
    reference = None if captured is None else Reference(captured, captured)
    return AideDbFact().parse([RawOutput(text, "", rc, reference=reference)], {"config": config})


def test_the_first_database_in_wins() -> None:
    # /var/lib/aide/aide.db exists on that host and is named later: AIDE ignores it, so does the fact.
    v = parsed("first-wins-fresh")
    assert v["count"] == 1 and v["newest_path"] == "/srv/aide/aide.db"
    assert v["database_in"] == "file:/srv/aide/aide.db"
    assert isinstance(v["newest_days"], float) and "first value AIDE set" in v["summary"]


def test_the_database_aide_names_is_missing() -> None:
    v = parsed("first-wins-missing")
    assert v["count"] == 0 and v["newest_path"] is None
    assert "/srv/aide/aide.db does not exist" in v["summary"]


def test_x_include_skips_names_its_regex_rejects() -> None:
    rc, url, errors = parse_config_check((DATA / "xinclude-skips.out").read_text().splitlines())
    assert (rc, url, errors) == (0, "file:/second/db", [])
    assert parsed("xinclude-skips", "/etc/x.conf")["count"] == 0


def test_file_url_is_read_as_aide_prints_it() -> None:
    v = parsed("file-url", "/etc/w.conf")
    assert v["database_in"] == "file:/var/lib/aide/aide.db.gz" and v["count"] == 0


@pytest.mark.parametrize(
    ("name", "config", "why"),
    [
        ("config-missing", "/etc/nope.conf", "/etc/nope.conf does not exist"),
        ("no-database-in", "/etc/y.conf", "sets no database_in"),
    ],
)
def test_no_baseline_aide_could_use(name: str, config: str, why: str) -> None:
    v = parsed(name, config)
    assert v["count"] == 0 and why in v["summary"]


@pytest.mark.parametrize(
    ("name", "config", "why"),
    [
        ("include-unreadable", "/etc/aide/aide.conf", "Permission denied"),
        ("db-dir-unreadable", "/etc/aide/aide.conf", "cannot stat /srv/aide/aide.db"),
        ("stdin", "/etc/u.conf", "not a local file"),
        ("relative", "/etc/v.conf", "relative path"),
    ],
)
def test_doubt_is_unreadable_never_an_answer(name: str, config: str, why: str) -> None:
    with pytest.raises(FactUnreadable, match=why):
        parsed(name, config)


def test_a_config_missing_for_lack_of_permission_is_unreadable() -> None:
    text = (DATA / "config-missing.out").read_text().replace("No such file or directory", "Permission denied")
    with pytest.raises(FactUnreadable, match="Permission denied"):
        AideDbFact().parse([RawOutput(text, "", 0)], {"config": "/etc/nope.conf"})


def test_cut_short_and_host_disagreement_are_unreadable() -> None:
    text = (DATA / "first-wins-fresh.out").read_text()
    with pytest.raises(FactUnreadable):
        AideDbFact().parse([RawOutput(text.split("@@stat")[0], "", 0)], {})
    with pytest.raises(FactUnreadable, match="did not finish"):
        parsed("first-wins-fresh", rc=None)
    with pytest.raises(FactUnreadable, match="the host dated"):
        AideDbFact().parse([RawOutput(text.replace("|/srv/aide/aide.db", "|/var/lib/aide/aide.db"), "", 0)], {})


def test_aide_absent() -> None:
    v = AideDbFact().parse([RawOutput("@@absent\n", "", 0)], {})
    assert v["count"] == 0 and v["summary"] == "aide is not installed"


def test_the_config_is_one_quoted_absolute_word(tmp_path: Path) -> None:
    hostile = "/etc/a b;touch " + str(tmp_path / "pwned")
    fake = tmp_path / "bin" / "aide"  # records its arguments, one a line
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path / 'args'}\n")
    fake.chmod(0o755)
    subprocess.run(["/bin/sh", "-c", snippet(hostile)], capture_output=True, timeout=30,
                   env={"PATH": f"{fake.parent}:/usr/bin:/bin"})  # fmt: skip
    assert (tmp_path / "args").read_text().splitlines()[0] == "--config=" + hostile
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ValueError):
        snippet("-c/etc/aide.conf")
