"""The batch on a real host, over SSH and sudo: a hung fact is stopped with every process it
started, the other facts are kept, and nothing is left running on the host."""

from __future__ import annotations

import time

import pytest

from auditor import batch
from auditor.inventory import load_inventory
from auditor.transports import ConnectOptions, open_transport
from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab


# A `kill` of several processes is one kill() each, and a loaded host can deschedule the shell between
# two of them: this build makes it certain (as tests/unit/test_batch.py's SLOW_KILL).
SLOW_KILL = (
    "kill() { case $1 in -*) __s=$1; shift;; *) __s=-TERM;; esac\n"
    "  for __x; do command kill $__s $__x; sleep 0.2; done; }\n"
)


@pytest.mark.parametrize("slow_kill", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_a_hung_fact_is_stopped_and_the_others_kept(lab: Lab, parallel: bool, slow_kill: bool) -> None:
    host = load_inventory(lab.inventory).hosts[host_name("compliant")]
    hung = "sh -c 'sleep 97 & sleep 98; echo never'"  # the grandchild holds stdout open: it must die too
    built = batch.build([hung, "id -u", "echo err >&2; exit 4"], timeout=2, parallel=parallel)
    with open_transport(host, ConnectOptions(known_hosts=lab.known_hosts)) as transport:
        started = time.monotonic()
        result = transport.run((SLOW_KILL if slow_kill else "") + built.script, timeout=60)
        elapsed = time.monotonic() - started
        out = batch.split(built, result.stdout)
        left = transport.run("ps -eo stat,args\n", timeout=30).stdout
    assert elapsed < (20 if slow_kill else 10), f"the batch took {elapsed:.1f} s"
    assert out[0].timed_out and out[0].rc == 124 and "never" not in out[0].stdout
    assert (out[1].stdout, out[1].timed_out) == ("0\n", False)  # under sudo
    assert (out[2].rc, out[2].stderr) == (4, "err\n")
    assert "sleep 9" not in left, left
