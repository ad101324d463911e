"""results.json stores what many results share once: its size per host stays flat as hosts are added,
and every evidence item still resolves to the command that ran and its own output."""

from __future__ import annotations

import dataclasses
import json
import shlex
import threading
from pathlib import Path

import jsonschema
import pytest

from auditor.catalog import load_catalog
from auditor.model import CheckResult, Evidence, Host, HostResult, Verdict
from auditor.network import phase, scan
from auditor.network.probes import REGISTRY as PROBES
from auditor.network.probes import Run, Target
from auditor.report import RENDERERS
from auditor.report.evidence import evidence_of, whole_output
from auditor.results import SCHEMA_ID, build, host_to_dict, validate
from auditor.transports import ConnectOptions

AT = "2026-01-05T08:00:00Z"
DATA = Path(__file__).parent / "data" / "report"
NET_CHECKS = ("NET-NO-CLEARTEXT-SERVICES", "NET-FTP-NO-ANONYMOUS", "NET-SNMP-NO-PUBLIC", "NET-ONLY-ALLOWED-PORTS")
HOST_CHECKS = ("LNX-SSH-ROOT-LOGIN-DISABLED", "LNX-AV-INSTALLED", "LNX-FIREWALL-EFFECTIVE", "LNX-IDS-RUNNING")
SNIPPET = "/bin/sh -s: if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='${Package}' -- clamav; fi"


def hosts(n: int) -> list[HostResult]:
    """n hosts as a run leaves them: host facts read by the same snippet everywhere, and NET-* evidence whose
    command line names every target (one scan of them all), each host's output its own lines."""
    checks = load_catalog().checks
    addresses = [f"10.1.{i // 256}.{i % 256}" for i in range(n)]
    nmap = shlex.join(["nmap", "-oX", "-", "-n", "-sS", "-sV", "--host-timeout", "60s", *addresses])
    out = []
    for i, address in enumerate(addresses):
        results = [
            CheckResult(checks[c], Verdict.PASS, "ok", [Evidence(SNIPPET, 0, f"clamav on host {i}\n" * 3, AT)])
            for c in HOST_CHECKS
        ]
        results += [
            CheckResult(checks[c], Verdict.PASS, "ok", [Evidence(nmap, 0, f"{address} 22/tcp open ssh", AT)])
            for c in NET_CHECKS
        ]
        out.append(HostResult(Host(f"h{i:04d}", address), "reachable", None, results, AT, AT))
    return out


def size(document: dict) -> int:
    return len(json.dumps(document, ensure_ascii=False).encode("utf-8"))


def test_bytes_per_host_are_flat() -> None:
    small, large = (
        build({"id": "s", "started": AT, "finished": AT, "playbook": "b", "params": {}}, hosts(10)),
        build({"id": "l", "started": AT, "finished": AT, "playbook": "b", "params": {}}, hosts(200)),
    )
    per_small, per_large = size(small) / 10, size(large) / 200
    # With the scan's command line per host, 200 hosts cost ~2.5 × what 10 do, and 3,176 hosts ~30 ×.
    assert per_large / per_small < 1.1, (per_small, per_large)


def test_shared_commands_resolve_and_outputs_stay_per_host() -> None:
    run = hosts(30)
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, run)
    validate(document)
    assert document["schema"] == SCHEMA_ID == "auditor.results/2"
    assert len(document["shared_evidence"]) == 2  # the snippet and the nmap command line, once each
    for host, result in zip(document["hosts"], run, strict=True):
        inline = host_to_dict(result)  # the journal's self-contained form: what ran, item by item
        for got, want in zip(host["results"], inline["results"], strict=True):
            assert all("command" not in e and "shared" in e for e in got["evidence"])
            assert evidence_of(document, got) == want["evidence"]
    net = next(r for r in document["hosts"][7]["results"] if r["check"] == NET_CHECKS[0])
    assert net["evidence"][0]["output"] == "10.1.0.7 22/tcp open ssh"


def test_a_command_used_once_stays_inline() -> None:
    (one,) = hosts(1)
    shared = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, [one])
    assert all("shared" in e for r in shared["hosts"][0]["results"] for e in r["evidence"])  # 4 results each
    one.results = [one.results[0], one.results[4]]
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, [one])
    assert document["shared_evidence"] == {}
    assert [r["evidence"] for r in document["hosts"][0]["results"]] == [
        [e.to_dict()] for r in one.results for e in r.evidence
    ]


def test_a_dangling_reference_is_refused() -> None:
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, hosts(3))
    document["shared_evidence"].pop("e1")
    with pytest.raises(jsonschema.ValidationError, match="e1"):
        validate(document)


def test_an_argument_vector_is_shared_too() -> None:
    run = hosts(3)
    argv = ["nmap", "-oX", "-", "-n", "--", "10.0.0.1", "10.0.0.2", "10.0.0.3", "x" * 40]
    for h in run:
        h.results[-1] = dataclasses.replace(h.results[-1], evidence=[Evidence(argv, 0, "own", AT)])  # type: ignore[arg-type]
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, run)
    validate(document)
    ref = document["hosts"][2]["results"][-1]["evidence"][0]["shared"]
    assert document["shared_evidence"][ref] == {"command": argv}
    assert evidence_of(document, document["hosts"][2]["results"][-1])[0]["command"] == shlex.join(argv)


def test_exposure_evidence_shares_the_scan_and_keeps_its_own_lines() -> None:
    """How the network phase attaches evidence: the scan's command and whole output once (a source every
    host refers to), each host's output only its own ports."""
    check = load_catalog().checks["NET-NO-CLEARTEXT-SERVICES"]
    targets = {"a": "10.9.0.1", "b": "10.9.0.2"}
    run_ = scan.ScanRun(shlex.join(["nmap", "-oX", "-", *targets.values()]), {}, "<nmaprun>10.9.0.1 10.9.0.2</nmaprun>")
    record = phase._scan_record(run_)
    port = {"a": scan.Port("tcp", 22, "open", "ssh", conf=10), "b": scan.Port("tcp", 23, "open", "telnet", conf=10)}
    results = []
    for name, address in targets.items():
        shared = Run(ConnectOptions(known_hosts=Path("/nonexistent")), 1.0, [], "t", threading.Event(), run_, record)
        host_scan = scan.HostScan(address, True, "syn-ack", [port[name]])
        reading = PROBES["exposure"].probe(Target(Host(name, address), {}, shared, host_scan))
        evidence = phase._fact(phase.Probe("exposure", {}), reading).evidence
        assert evidence.source is record and evidence.command == run_.command
        results.append(
            HostResult(
                Host(name, address), "reachable", None, [CheckResult(check, Verdict.PASS, "ok", [evidence])], AT, AT
            )
        )
    document = build({"id": "r", "started": AT, "finished": AT, "playbook": "b", "params": {}}, results)
    validate(document)
    (ref,) = document["shared_evidence"]
    assert document["shared_evidence"][ref]["output"] == run_.xml
    a, b = (h["results"][0]["evidence"][0] for h in document["hosts"])
    assert a["shared"] == b["shared"] == ref
    assert a["output"] == "22/tcp open ssh [conf 10]" and b["output"] == "23/tcp open telnet [conf 10]"
    assert evidence_of(document, document["hosts"][1]["results"][0])[0]["command"] == run_.command
    assert whole_output(document, a) == run_.xml


@pytest.mark.parametrize("fixture", ["results-v1.json", "results.json"])
@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_both_versions_render_with_their_commands(fixture: str, fmt: str) -> None:
    """A stored version-1 document (every command inline) and a version-2 one (commands shared) render alike."""
    document = json.loads((DATA / fixture).read_text(encoding="utf-8"))
    validate(document)
    text = RENDERERS[fmt](document, "en", document)
    for command in ("/bin/sh -s: probe LNX-SSH-ROOT-LOGIN-DISABLED", "/bin/sh -s: probe LNX-AV-INSTALLED"):
        assert command in text


def test_the_fixtures_are_one_run_in_two_versions() -> None:
    old = json.loads((DATA / "results-v1.json").read_text(encoding="utf-8"))
    new = json.loads((DATA / "results.json").read_text(encoding="utf-8"))
    assert old["schema"] == "auditor.results/1" and new["schema"] == "auditor.results/2"
    assert "shared_evidence" not in old and new["shared_evidence"]
    for h_old, h_new in zip(old["hosts"], new["hosts"], strict=True):
        for r_old, r_new in zip(h_old["results"], h_new["results"], strict=True):
            assert evidence_of(old, r_old) == evidence_of(new, r_new)
