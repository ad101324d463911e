"""``file`` and ``file_age``: the real snippet under /bin/sh on a real tree, then the parser."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable, RawOutput
from auditor.facts.file import FileFact
from auditor.facts.file_age import FileAgeFact

DAY = 86400


def run(snippet: str) -> RawOutput:
    proc = subprocess.run(["/bin/sh", "-c", snippet], capture_output=True, text=True, check=False)
    return RawOutput(proc.stdout, proc.stderr, proc.returncode)


@pytest.fixture
def backups(tmp_path):
    """Three hundred archives (one `stat` must serve them all), odd names, a dangling link."""
    root = tmp_path / "backup dir"
    root.mkdir()
    now = time.time()
    for n in range(300):
        path = root / f"db-{n:03}.tar.gz"
        path.write_bytes(b"x" * n)
        os.utime(path, (now - (n + 2) * DAY, now - (n + 2) * DAY))
    odd = root / "a b|c.tgz"
    odd.write_text("y")
    os.utime(odd, (now - DAY, now - DAY))
    (root / "gone.tgz").symlink_to(tmp_path / "nowhere")
    os.utime(root / "gone.tgz", (now - 400 * DAY, now - 400 * DAY), follow_symlinks=False)
    return root


def test_file_age_of_hundreds_of_files(backups, tmp_path):
    params = {"paths": [f"{backups}/*.tar.gz", f"{backups}/*.tgz", f"{tmp_path}/none/*"]}
    value = FileAgeFact().parse([run(FileAgeFact().snippets(params)[0])], params)
    assert value["count"] == 302
    assert value["newest_path"] == f"{backups}/a b|c.tgz"
    assert 0.99 < value["newest_days"] < 1.01
    assert 399.9 < value["oldest_days"] < 400.1  # the link itself (lstat), as before


def test_file_lists_each_path_once_with_its_type_and_mode(backups):
    params = {"paths": [f"{backups}/*.tgz", f"{backups}/missing.tgz"]}
    value = FileFact().parse([run(FileFact().snippets(params)[0])], params)
    assert value["paths"] == [f"{backups}/a b|c.tgz", f"{backups}/gone.tgz"]
    assert [f["type"] for f in value["files"]] == ["regular file", "symbolic link"]
    assert all(len(m) == 4 for m in value["modes"])


def test_nothing_there_is_no_file_not_an_error(tmp_path):
    params = {"paths": [f"{tmp_path}/*.tar", f"{tmp_path}/x"]}
    assert FileFact().parse([run(FileFact().snippets(params)[0])], params)["exists"] is False


def test_a_failed_stat_is_an_error_never_a_reading():
    """A file removed between the test and stat (or stat missing) leaves no verdict from the rest."""
    out = raw("1700000000\nregular file|644|root|root|1|1699990000|/b/x.tgz\n", 1, "stat: cannot statx '/b/y.tgz'")
    with pytest.raises(FactUnreadable, match="cannot statx"):
        FileAgeFact().parse([out], {"paths": ["/b/*.tgz"]})
