"""On every lab host, each fact reads from what the host's facts share the same as from a reading of its
own: grep facts from one grep (the catalog's former greps), file-reading facts (sshd, syslog, accounts…)
from one archive. The sharing changes the cost, never a verdict nor its evidence."""

from __future__ import annotations

import pytest

from auditor import batch
from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.engine import plan_work
from auditor.facts import REGISTRY
from auditor.facts.base import files_snippet
from auditor.inventory import load_inventory
from auditor.model import FactSpec
from auditor.network.plans import split
from auditor.transports import ConnectOptions, open_transport
from tests.former_greps import FORMER_GREPS
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab


def _plans(lab: Lab) -> list:
    catalog = load_catalog()
    return split(plan_run(load_playbook("baseline", catalog), catalog, load_inventory(lab.inventory), {}))[0]


def _run(lab: Lab, plan, snippets: list[str]) -> dict:
    built = batch.build(snippets, timeout=30)
    with open_transport(plan.host, ConnectOptions(known_hosts=lab.known_hosts)) as transport:
        return batch.split(built, transport.run(built.script, timeout=60).stdout)


def test_the_shared_grep_gives_each_fact_what_its_own_grep_gives(lab: Lab) -> None:
    plans = _plans(lab)
    grep = REGISTRY["config_grep"]
    compared = 0
    for plan in plans:
        if plan.host.name.startswith("nosudo"):
            continue  # refused sudo: nothing to compare
        specs = [FactSpec("config_grep", params) for params in FORMER_GREPS]
        merged = grep.merge_params([s.params for s in specs])
        assert merged is not None, "every catalog pattern translates exactly"
        snippets = grep.snippets(merged) + [grep.snippets(s.params)[0] for s in specs]
        out = _run(lab, plan, snippets)
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


def test_the_shared_archive_gives_each_fact_what_its_own_archive_gives(lab: Lab) -> None:
    files_read = 0
    for plan in _plans(lab):
        if plan.host.name.startswith("nosudo"):
            continue
        work = plan_work(plan)
        readers = [s for s in work.specs.values() if REGISTRY[s.type].files(s.params)]
        types = {s.type for s in readers}
        assert {"sshd_effective", "syslog_forwarding", "accounts", "pam_lockout"} <= types, types
        shared = work.snippets[work.spec_snippets[readers[0].key][-1]]  # the host's one archive
        own = {s.key: [*REGISTRY[s.type].snippets(s.params), files_snippet(REGISTRY[s.type].files(s.params))]
               for s in readers}  # fmt: skip
        snippets = list(dict.fromkeys([shared, *(x for mine in own.values() for x in mine)]))
        out = _run(lab, plan, snippets)
        for spec in readers:
            fact = REGISTRY[spec.type]
            outputs = [out[snippets.index(x)] for x in own[spec.key]]
            together = [*outputs[:-1], out[0]]
            assert fact.parse(together, spec.params) == fact.parse(outputs, spec.params), (plan.host.name, spec)
            assert fact.evidence(together, spec.params) == fact.evidence(outputs, spec.params)
            files_read += fact.evidence(outputs, spec.params).count("==> /")
    assert files_read > 30, "the lab's hosts have these files: a comparison of nothing proves nothing"
