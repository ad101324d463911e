"""A run keeps its finished hosts small (``auditor.spill``) and makes ``document["hosts"]`` one host at a
time: results.json and report.html must come out byte for byte as the builder that held every host's
dict at once made them (kept here as the reference), network results and waivers merged as before."""

from __future__ import annotations

import base64
import hashlib
import io
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from auditor import __version__, results
from auditor import waivers as waivers_mod
from auditor.catalog import load_catalog
from auditor.model import CheckResult, Evidence, HostResult, Verdict
from auditor.network.phase import merge
from auditor.report.html import render_html
from auditor.scoring import FORMULA, WEIGHTS, breakdown, rollup, score
from auditor.spill import Spill, hydrate
from bench.synthetic import synthetic_hosts

HOSTS, CHECKS = 30, 24
NET_PER_HOST = 3  # each host's last results stand for the network phase's, merged after the host phase
WAIVERS = """\
waivers:
  - id: W-1
    checks: ["LNX-SSH-*"]
    hosts: all
    type: compensating_control
    justification: Bastion only
    requested_by: A
    approved_by: B
    approved_on: 2026-01-01
    expires: 2026-12-31
"""


class ReferenceShared:
    """``shared_evidence`` as it was numbered while every host's dict was built in turn."""

    def __init__(self, hosts: list[HostResult]):
        uses = Counter(
            results._key(e.command) for h in hosts for r in h.results for e in r.evidence if e.source is None
        )
        self.repeated = {k for k, n in uses.items() if n > 1 and len(str(k)) >= results.SHARE_MIN_CHARS}
        self.ids: dict[Any, str] = {}
        self.sources: list[Evidence] = []
        self.section: dict[str, dict[str, Any]] = {}

    def _ref(self, key: Any, record: dict[str, Any]) -> str:
        if key not in self.ids:
            self.ids[key] = f"e{len(self.ids) + 1}"
            self.section[self.ids[key]] = record
        return self.ids[key]

    def item(self, e: Evidence) -> dict[str, Any]:
        if e.source is not None:
            self.sources.append(e.source)
            ref = self._ref(("source", id(e.source)), e.source.to_dict())
        elif results._key(e.command) in self.repeated:
            ref = self._ref(results._key(e.command), {"command": e.command})
        else:
            return e.to_dict()
        d = e.to_dict()
        del d["command"]
        return {"shared": ref, **d}


def reference_build(run: dict[str, Any], hosts: list[HostResult], host_key: Any) -> dict[str, Any]:
    """The builder before hosts were streamed: every host's dict made at once, roll-ups from those dicts."""
    shared = ReferenceShared(hosts)
    host_dicts = [results.host_to_dict(h, shared, host_key(h)) for h in hosts]  # type: ignore[arg-type]
    plan_tasks: dict[str, Counter[str]] = defaultdict(Counter)
    for h in host_dicts:
        for task, verdict in h["plan_tasks"].items():
            plan_tasks[task][verdict] += 1
            plan_tasks[task]["total"] += 1
    controls: dict[str, dict[str, list[str]]] = {"2013": defaultdict(list), "2022": defaultdict(list)}
    for h in hosts:
        for r in h.results:
            for edition, ids in r.check.iso27001.items():
                for cid in ids:
                    controls[edition][cid].append(r.status)
    overall = score((r.status, r.check.severity) for h in hosts for r in h.results)
    return {
        "schema": results.SCHEMA_ID,
        "generator": {"name": "auditor", "version": __version__},
        "run": {**run, "complete": True},
        "score": {**overall.to_dict(), "formula": FORMULA, "weights": dict(WEIGHTS)},
        "shared_evidence": shared.section,
        "hosts": host_dicts,
        "plan_tasks": {t: dict(c) for t, c in sorted(plan_tasks.items())},
        "controls": {ed: {cid: str(rollup(v)) for cid, v in sorted(ids.items())} for ed, ids in controls.items()},
        "scores": breakdown(host_dicts),
    }


def host_key(host: HostResult) -> str | None:
    digest = base64.b64encode(hashlib.sha256(host.host.name.encode()).digest()).decode().rstrip("=")
    return f"ed25519 SHA256:{digest}" if host.status == "reachable" else None


def phases() -> tuple[dict[str, Any], list[HostResult], dict[str, list[CheckResult]]]:
    """A synthetic run split as a run sees it: the host phase's results, then each host's network results."""
    run, hosts = synthetic_hosts(HOSTS, CHECKS, network=True)
    network = {}
    for h in hosts:
        for r in h.results:  # only the waivers below waive, naming themselves as the schema wants
            if r.status == Verdict.WAIVED:
                r.status = Verdict.PASS
        network[h.host.name] = h.results[-NET_PER_HOST:]
        del h.results[-NET_PER_HOST:]
    return run, hosts, network


def waivers(tmp_path: Path) -> waivers_mod.Waivers:
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS, encoding="utf-8")
    return waivers_mod.Waivers(waivers_mod.load_file(path, load_catalog(), 365), [str(path)])


def written(document: dict[str, Any]) -> str:
    out = io.StringIO()
    results.dump(document, out)
    return out.getvalue()


def test_results_json_and_report_html_are_those_of_the_whole_document_builder(tmp_path: Path) -> None:
    run, hosts, network = phases()
    waivers_mod.apply(merge(hosts, network), waivers(tmp_path), now=1.78e9)
    expected = reference_build(run, hosts, host_key)

    run, hosts, network = phases()
    spill = Spill()
    kept = [spill.keep(h) for h in hosts]
    del hosts
    waivers_mod.apply(merge(kept, network), waivers(tmp_path), now=1.78e9)
    document = results.build(run, kept, host_keys=host_key, hydrate=hydrate)

    assert any(r.status == "waived" for h in kept for r in h.results)  # the waivers did apply
    assert all(not r.evidence for h in kept for r in h.results[:-NET_PER_HOST])  # evidence was on disk
    assert written(document) == written(expected)
    assert written(document) == written(expected)  # the hosts can be read again
    assert render_html(document, "en") == render_html(expected, "en")
    assert document["hosts"] == expected["hosts"] and len(document["hosts"]) == HOSTS
    results.validate(document)


def test_a_host_reads_back_as_it_was_kept(tmp_path: Path) -> None:
    _, hosts, _ = phases()
    spill = Spill()
    odd = Evidence(
        ["sh", "-c", "printf '\\udc80'"], None, "lone \udc80 surrogate, ü", "2026-01-05T08:00:00Z", "err", 12.34
    )
    hosts[0].results[0].evidence.append(odd)
    kept = [spill.keep(h) for h in hosts]
    for before, after in zip(hosts, map(hydrate, kept), strict=True):
        assert results.host_to_dict(after) == results.host_to_dict(before)
    assert hydrate(kept[0]).results[0].evidence[-1] == odd
