"""The pure rules of NET-* probes in a distributed run: every address a probe would contact is held to the
worker's --allow-net (a refused probe is ``error`` with the reason, nothing contacted), each host's NET-*
checks travel with its host checks, and a shard's nmap record comes back as the same shared evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor import results
from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.distributed import allow, shards
from auditor.inventory import load_inventory, make_host
from auditor.model import CheckResult, Evidence, HostPlan, HostResult, Verdict
from auditor.network import phase
from auditor.network import plans as netplans
from auditor.network.probes import REGISTRY
from auditor.transports import ConnectOptions

NETS = allow.parse_networks(["10.1.0.0/24"])
INVENTORY = (
    "[portals]\n"
    "web ansible_host=10.1.0.5 portal_url=https://10.9.9.9/ segment=a\n"
    "[servers]\n"
    "app ansible_host=10.1.0.6 segment=a\n"
    "logs ansible_host=10.9.9.7 segment=b\n"
    "[all:vars]\nlog_server=logs\nfile_server=sftp://auditor@10.1.0.8/srv\n"
)


def plans_for(tmp_path: Path, ini: str) -> list[HostPlan]:
    catalog = load_catalog()
    inv = tmp_path / "hosts.ini"
    inv.write_text(ini)
    return plan_run(load_playbook("baseline", catalog), catalog, load_inventory(inv), {})


def job_for(tmp_path: Path, ini: str, networks: list[allow.Network]) -> phase.Job:
    plans = plans_for(tmp_path, ini)
    _, net = netplans.split(plans)
    options = phase.NetworkOptions(
        connect=ConnectOptions(known_hosts=tmp_path / "kh"),
        inventory_hosts=[p.host for p in plans],
        refuse=lambda address: allow.refusal(address, networks),
    )
    return phase.prepare(net, options)


def test_every_probe_type_names_every_address_it_contacts() -> None:
    host = make_host("web", {"ansible_host": "10.1.0.5"}, ["all"], "inv", 1)
    logs = make_host("logs", {"ansible_host": "10.9.9.7"}, ["all"], "inv", 2)
    cases: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "exposure": ({}, {}),
        "https_portal": ({"url": "https://portal.example:8443/"}, {"url": "portal.example"}),
        "portal_http": ({"url": "https://[fd00::1]/"}, {"url": "fd00::1"}),
        "smtp": ({"hostname": "mail.example", "port": 2525}, {}),  # a TLS server name: never connected to
        "mailbox": ({"hostname": "mail.example"}, {}),
        "log_marker": ({"server": "logs"}, {"server": "10.9.9.7"}),  # the inventory host's address
        "file_server": ({"url": "sftp://u@files.example:2222/srv"}, {"url": "files.example"}),
    }
    assert set(cases) == set(REGISTRY)  # a new probe type must say what it contacts
    for kind, (params, others) in cases.items():
        assert REGISTRY[kind].reaches(host, params, [host, logs]) == {"address": "10.1.0.5", **others}, kind
    # A log server that is no inventory host is not searched: nothing to contact.
    assert REGISTRY["log_marker"].reaches(host, {"server": "elsewhere"}, [host]) == {"address": "10.1.0.5"}


def test_a_probe_whose_parameter_reaches_outside_is_refused_by_name(tmp_path: Path) -> None:
    job = job_for(tmp_path, INVENTORY, NETS)
    refused = phase.refusals(job)
    web = {p.type: refused["web"].get(p.key) for p in job.probes["web"]}
    outside = "refused by this worker: {} is outside its allowed networks (10.1.0.0/24); nothing was contacted"
    assert web["https_portal"] == "portal_url: " + outside.format("10.9.9.9")
    assert web["portal_http"] == "portal_url: " + outside.format("10.9.9.9")
    assert web["log_marker"] == "log_server: " + outside.format("10.9.9.7")
    assert web["exposure"] is None and web["file_server"] is None  # inside: run as in a local run
    app = {p.type: refused["app"].get(p.key) for p in job.probes["app"]}
    assert app["log_marker"] is not None and app["exposure"] is None
    # A worker allowed everywhere the probes go refuses nothing.
    wide = job_for(tmp_path, INVENTORY, allow.parse_networks(["10.1.0.0/24", "10.9.9.0/24"]))
    assert all(not r for r in phase.refusals(wide).values())
    # Without a limit (a local run) nothing is refused.
    job.options.refuse = None
    assert all(not r for r in phase.refusals(job).values())


def test_refused_probes_are_errors_and_nothing_is_contacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.network import fileserver, http, logmarker, mail, scan, tls

    def contacted(*_args: object, **_kw: object) -> None:
        raise AssertionError("a refused probe contacted something")

    for module, name in [
        (scan, "run_scan"),
        (tls, "probe_tls"),
        (http, "fetch"),
        (mail, "probe_smtp"),
        (logmarker, "send"),
        (logmarker, "search"),
        (fileserver, "probe"),
    ]:
        monkeypatch.setattr(module, name, contacted)
    ini = INVENTORY.replace("10.1.0.", "10.2.0.")  # every target and server outside 10.1.0.0/24
    job = job_for(tmp_path, ini, NETS)
    got = phase.run(job)
    web = {r.check.id: r for r in got["web"]}
    assert web and all(r.status in (Verdict.ERROR, Verdict.NOT_APPLICABLE) for r in web.values())
    portal = web["NET-PORTAL-CERT-TRUSTED"]
    assert portal.status == Verdict.ERROR and "refused by this worker: 10.2.0.5 is outside" in portal.reason
    assert portal.evidence[0].command == "https_portal probe of web (not run: refused)"
    assert "refused by this worker" in web["NET-NO-CLEARTEXT-SERVICES"].reason


def test_a_shard_stopped_before_its_probes_leaves_every_net_check_in_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.network import scan

    monkeypatch.setattr(scan, "run_scan", lambda *_a, **_k: pytest.fail("a stopped shard ran nmap"))
    job = job_for(tmp_path, INVENTORY, NETS)
    job.options.stop.set()  # the shard's time limit, before the network phase began
    got = phase.run(job)
    assert set(got) == {p.host.name for p in job.plans}
    for name, checks in got.items():
        applicable = [r for r in checks if r.status != Verdict.NOT_APPLICABLE]
        assert applicable and all(r.status == Verdict.ERROR for r in applicable), name
        assert all("interrupted" in r.reason for r in applicable if "refused" not in r.reason), name


def test_each_host_net_checks_go_with_its_host_checks(tmp_path: Path) -> None:
    plans = plans_for(tmp_path, INVENTORY)
    host_plans, net_plans = netplans.split(plans)
    joined = netplans.join(host_plans, net_plans)
    for before, host, after in zip(plans, host_plans, joined, strict=True):
        network = [c.id for c in after.checks if netplans.is_network(c)]
        assert [c.id for c in after.checks] == [c.id for c in host.checks] + network
        assert set(network) <= {c.id for c in before.checks} and network  # every host here is probed
    shard = shards.Shard(0, "a", joined[:2])
    contacts = phase.inventory_contacts(netplans.split(shard.plans)[1], [p.host for p in plans])
    payload = shards.task_payload("r", shard, {"name": "baseline"}, {}, {"deadline_s": 1}, contacts)
    assert payload["settings"]["network"] is True
    assert [h["name"] for h in payload["network_hosts"]] == ["logs"]  # the log server, outside the shard
    quiet = shards.task_payload("r", shards.Shard(1, "a", host_plans[:2]), {"name": "baseline"}, {}, {}, [])
    assert quiet["settings"]["network"] is False  # --no-network: the worker probes nothing


def _host(name: str, address: str, scan_record: Evidence, check_id: str) -> HostResult:
    catalog = load_catalog()
    host = make_host(name, {"ansible_host": address}, ["all"], "inv", 1)
    item = Evidence(scan_record.command, None, f"{address} 22/tcp open ssh", "2026-12-07T00:00:02Z", source=scan_record)
    own = Evidence("getent passwd", 0, "root:x:0:0", "2026-12-07T00:00:01Z", "", 1.5)
    check, other = catalog.checks[check_id], catalog.checks["LNX-ACCOUNTS-ONLY-ROOT-UID0"]
    return HostResult(
        host, "reachable", None,
        [CheckResult(other, Verdict.PASS, "only root", [own]), CheckResult(check, Verdict.PASS, "ok", [item])],
        "2026-12-07T00:00:00Z", "2026-12-07T00:00:03Z",
    )  # fmt: skip


def _back(found: list[HostResult]) -> list[HostResult]:
    """Through a worker's answer (JSON) into the coordinator's host results."""
    import json

    lines, sources = shards.host_lines(found)
    value = json.loads(json.dumps({"hosts": lines, "sources": sources}))
    table = shards.evidence_sources(value)
    plans = {h.host.name: HostPlan(h.host, [r.check for r in h.results], {}) for h in found}
    return [shards.host_result(plans[line["name"]], line, "now", table) for line in value["hosts"]]


def test_a_shard_nmap_record_arrives_as_shared_evidence_per_shard() -> None:
    scan_a = Evidence("nmap -n -- 10.1.0.5 10.1.0.6", 0, "<nmaprun a/>", "2026-12-07T00:00:09Z")
    scan_b = Evidence("nmap -n -- 10.2.0.5", 0, "<nmaprun b/>", "2026-12-07T00:00:08Z")
    shard_a = [
        _host("a1", "10.1.0.5", scan_a, "NET-NO-CLEARTEXT-SERVICES"),
        _host("a2", "10.1.0.6", scan_a, "NET-FTP-NO-ANONYMOUS"),
    ]
    shard_b = [_host("b1", "10.2.0.5", scan_b, "NET-NO-CLEARTEXT-SERVICES")]
    run = {
        "id": "r",
        "started": "2026-12-07T00:00:00Z",
        "finished": "2026-12-07T00:00:09Z",
        "playbook": "baseline",
        "params": {},
        "inventory": "inv",
    }
    # One shard: the document is the one a local run over its hosts writes.
    assert results.build(run, _back(shard_a)) == results.build(run, shard_a)
    # Two shards: one record each (each worker ran its own nmap), every host referring to its own.
    document = results.build(run, _back(shard_a) + _back(shard_b))
    records = {ref: r for ref, r in document["shared_evidence"].items() if r["command"].startswith("nmap")}
    assert sorted(r["output"] for r in records.values()) == ["<nmaprun a/>", "<nmaprun b/>"]
    refs = {h["name"]: h["results"][1]["evidence"][0] for h in document["hosts"]}
    assert refs["a1"]["shared"] == refs["a2"]["shared"] != refs["b1"]["shared"]
    assert records[refs["b1"]["shared"]]["command"] == scan_b.command
    assert refs["a2"]["output"] == "10.1.0.6 22/tcp open ssh" and refs["a2"]["at"] == "2026-12-07T00:00:02Z"
    results.validate_shape(document)


def test_evidence_naming_a_record_the_worker_did_not_send_is_unusable() -> None:
    scan = Evidence("nmap -n -- 10.1.0.5", 0, "<nmaprun/>", "2026-12-07T00:00:09Z")
    found = [_host("a1", "10.1.0.5", scan, "NET-NO-CLEARTEXT-SERVICES")]
    lines, _ = shards.host_lines(found)
    plan = HostPlan(found[0].host, [r.check for r in found[0].results], {})
    got = shards.host_result(plan, lines[0], "now", {})
    assert got.status == "error" and "did not send" in str(got.error)
