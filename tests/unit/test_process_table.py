"""The process table snippet under /bin/sh on this machine, with a real process in another network
namespace (``unshare --net``): with procps' netns column, with a ps that refuses it (busybox, an old
procps) and with no ps at all, the same reading. Needs root (unshare), as the lab does."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable
from auditor.facts.process import PROCESS_TABLE, ProcessFact
from auditor.facts.service import ServiceFact

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")

MARK = "audnetnsprobe"  # a name no other process has (15 characters at most: /proc's comm)


@pytest.fixture(scope="module")
def contained():
    """``sleep`` renamed MARK, in a network namespace of its own, and a second one in ours."""
    bin_dir = Path(tempfile.mkdtemp())
    (bin_dir / MARK).symlink_to(shutil.which("sleep"))
    inside = subprocess.Popen(["unshare", "--net", str(bin_dir / MARK), "60"])
    outside = subprocess.Popen([str(bin_dir / MARK), "61"])
    yield bin_dir
    for proc in (inside, outside):
        proc.kill()
        proc.wait()
    shutil.rmtree(bin_dir)


def listing(path: str) -> str:
    proc = subprocess.run(["/bin/sh", "-c", PROCESS_TABLE], capture_output=True, text=True, env={"PATH": path})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def fake_ps(tmp_path: Path, refuse_netns: bool) -> str:
    """A PATH where ``ps`` is procps refusing the netns column (as busybox does), or absent."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ls", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    if refuse_netns:
        real = shutil.which("ps")
        refusing = f'#!/bin/sh\ncase "$*" in *netns*) echo "ps: bad -o" >&2; exit 1;; esac\nexec {real} "$@"\n'
        (bin_dir / "ps").write_text(refusing)
        (bin_dir / "ps").chmod(0o755)
    return str(bin_dir)


def reading(stdout: str) -> dict:
    value = ProcessFact().parse([raw(stdout)], {"names": [MARK]})
    return {"pids": len(value["pids"].get(MARK, [])), "elsewhere": value["in_other_namespaces"]}


def test_procps_names_the_namespace(contained):
    out = listing(os.environ["PATH"])
    assert "@@psns" in out.splitlines() and "@@nslinks" not in out.splitlines()
    assert reading(out) == {"pids": 1, "elsewhere": [MARK]}  # the contained one is not counted


@pytest.mark.parametrize("refuse_netns", [True, False], ids=["ps-without-netns", "no-ps"])
def test_without_the_netns_column_the_proc_links_say_the_same(contained, tmp_path, refuse_netns):
    out = listing(fake_ps(tmp_path, refuse_netns))
    assert "@@nslinks" in out.splitlines()
    assert reading(out) == {"pids": 1, "elsewhere": [MARK]}


def as_nobody(path: str) -> str:
    """The listing as an unprivileged user (the audit without become): root's namespace links are unreadable."""
    cmd = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", PROCESS_TABLE]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={"PATH": path})
    assert proc.returncode == 0, proc.stderr
    assert "@@uid 65534" in proc.stdout.splitlines()
    return proc.stdout


def without_grep(tmp_path: Path) -> str:
    bin_dir = tmp_path / "nogrep"
    bin_dir.mkdir()
    for tool in ("ps", "ls", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return str(bin_dir)


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv")
def test_unprivileged_reading_tells_namespaces_by_the_kernels_netlink_socket(contained):
    out = as_nobody(os.environ["PATH"])
    own = [line for line in out.splitlines() if line.split()[-2:] == [f"{contained}/{MARK}", "61"]]
    assert own and own[0].split()[1] == "-", "the root process's netns is unreadable to ps as nobody"
    assert reading(out) == {"pids": 1, "elsewhere": [MARK]}


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv")
def test_unprivileged_without_any_source_is_unknown_never_ours(contained, tmp_path):
    """Neither ps nor the netlink socket names the namespace: the daemon is not counted as the host's."""
    out = as_nobody(without_grep(tmp_path))
    with pytest.raises(FactUnreadable, match=r"audnetnsprobe runs, but the user auditing \(uid 65534\) cannot read"):
        ProcessFact().parse([raw(out)], {"names": [MARK]})
    service = ServiceFact().parse  # the systemd view is absent here: the process table alone would decide
    with pytest.raises(FactUnreadable, match="cannot read its network namespace"):
        service([raw("@@nosystemd\n"), raw(out)], {"units": ["x"], "processes": [MARK]})


def test_a_readable_daemon_of_ours_still_counts_when_others_are_undetermined() -> None:
    out = (
        "@@uid 1000\n@@self 10\n@@psns\n    1 - init init\n   10 4026531840 sh sh\n"
        "   20 4026531840 fail2ban-server /usr/bin/python3 /usr/bin/fail2ban-server\n   30 - suricata suricata\n"
    )
    value = ProcessFact().parse([raw(out)], {"names": ["fail2ban-server", "suricata"]})
    assert value["running"] == ["fail2ban-server"]
