"""On every lab host, each config_grep fact reads the same lines from the shared grep as from a grep of
its own: the merge (one process instead of one a fact) changes the cost, never a verdict."""

from __future__ import annotations

import pytest

from auditor import batch
from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.engine import plan_work
from auditor.facts import REGISTRY
from auditor.inventory import load_inventory
from auditor.network.plans import split
from auditor.transports import ConnectOptions, open_transport
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab


def test_the_shared_grep_gives_each_fact_what_its_own_grep_gives(lab: Lab) -> None:
    catalog = load_catalog()
    plans = split(plan_run(load_playbook("baseline", catalog), catalog, load_inventory(lab.inventory), {}))[0]
    grep = REGISTRY["config_grep"]
    compared = 0
    for plan in plans:
        if plan.host.name.startswith("nosudo"):
            continue  # refused sudo: nothing to compare
        specs = [s for s in plan_work(plan).specs.values() if s.type == "config_grep"]
        merged = grep.merge_params([s.params for s in specs])
        assert merged is not None, "every catalog pattern translates exactly"
        snippets = grep.snippets(merged) + [grep.snippets(s.params)[0] for s in specs]
        built = batch.build(snippets, timeout=30)
        with open_transport(plan.host, ConnectOptions(known_hosts=lab.known_hosts)) as transport:
            out = batch.split(built, transport.run(built.script, timeout=60).stdout)
        shared = out[0]
        for n, spec in enumerate(specs, start=1):
            alone = grep.parse([out[n]], spec.params)
            together = grep.parse([shared], spec.params)
            key = lambda m: (m["file"], m["line"])  # noqa: E731 - the shared grep may list files in another order
            assert sorted(together["matches"], key=key) == sorted(alone["matches"], key=key), (plan.host.name, spec)
            assert together["files"] == alone["files"]
            evidence = grep.evidence([shared], spec.params).splitlines()
            assert sorted(evidence) == sorted(out[n].stdout.splitlines()), (plan.host.name, spec)
            compared += together["count"]
    assert compared > 10, "the lab's hosts have lines for these patterns: a comparison of nothing proves nothing"
