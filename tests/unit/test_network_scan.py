"""The scan parser and the exposure judgement on a real captured nmap run (tests/unit/data/network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.network import scan, values

DATA = Path(__file__).parent / "data" / "network"


@pytest.fixture(scope="module")
def scans() -> dict[str, scan.HostScan]:
    captured = json.loads((DATA / "scan.json").read_text())
    return scan.parse(captured["result"], captured["hosts"], (DATA / "scan.xml").read_text())


def test_every_target_parsed_with_services(scans: dict[str, scan.HostScan]) -> None:
    assert all(s.up for s in scans.values())
    portal = {p.label: p for p in scans["portal1"].open_ports()}
    assert set(portal) == {"22/tcp", "80/tcp", "443/tcp"}
    assert portal["443/tcp"].tunnel == "ssl" and portal["443/tcp"].name == "http"  # from the XML
    assert portal["80/tcp"].tunnel == "" and portal["80/tcp"].detected


def test_insecure_host_judged_by_service_detection(scans: dict[str, scan.HostScan]) -> None:
    facts = values.exposure_facts(scans["insecure1"], {8080: "serves a login form"}, values.parse_allowed_ports("22"))
    assert any(f.startswith("23/tcp telnet") for f in facts["cleartext"])
    assert any(f.startswith("2121/tcp FTP") for f in facts["cleartext"])  # FTP on a non-standard port
    assert any(f.startswith("8080/tcp HTTP admin/login page") for f in facts["cleartext"])
    assert facts["anonymous_ftp"] == ["2121/tcp anonymous FTP login allowed"]
    assert facts["snmp_public"] == ["161/udp SNMP answers to community 'public'"]
    assert facts["unexpected_ports"] == ["23/tcp", "161/udp", "2121/tcp", "8080/tcp"]


def test_port_table_guess_is_not_a_finding(scans: dict[str, scan.HostScan]) -> None:
    """514/tcp on the log server is syslog; nmap's port table says 'shell' (rsh) with conf 3: not rsh."""
    facts = values.exposure_facts(scans["logsrv1"], {}, None)
    assert facts["cleartext"] == [] and facts["unidentified"] == ["514/tcp"]
    assert facts["unexpected_ports"] is None  # no allowed_ports: not decided


def test_https_and_redirect_only_is_clean(scans: dict[str, scan.HostScan]) -> None:
    facts = values.exposure_facts(scans["portal1"], {}, values.parse_allowed_ports("22,80,443"))
    assert facts["cleartext"] == [] and facts["unexpected_ports"] == []
    assert [p.label for p in scans["portal1"].open_ports() if values.is_plain_http(p)] == ["80/tcp"]


def test_mailbox_services_include_unidentified_tls_ports(scans: dict[str, scan.HostScan]) -> None:
    labels = [p.label for p in values.mailbox_services(scans["mailtls1"])]
    assert labels == ["110/tcp", "143/tcp", "993/tcp", "995/tcp"]


def test_target_not_in_results_is_down_never_clean() -> None:
    parsed = scan.parse({"scan": {}}, {"down1": "10.77.4.254"}, "")
    assert not parsed["down1"].up and "did not answer" in parsed["down1"].reason


def test_host_timeout_is_not_up() -> None:
    xml = '<nmaprun><host timedout="true"><address addr="10.0.0.9" addrtype="ipv4"/></host></nmaprun>'
    result = {"scan": {"10.0.0.9": {"status": {"state": "up", "reason": "arp-response"}, "tcp": {}}}}
    parsed = scan.parse(result, {"slow": "10.0.0.9"}, xml)
    assert not parsed["slow"].up and "host-timeout" in parsed["slow"].reason


def test_nmap_arguments() -> None:
    args = " ".join(scan.nmap_arguments("22,80", root=True, host_timeout=30))
    assert "-sS -sU -p T:22,80,U:161" in args and "--host-timeout 30s" in args and args.startswith("-n ")
    assert "-sT -p T:22,80 " in " ".join(scan.nmap_arguments("22,80", root=False, host_timeout=30))
    with pytest.raises(ValueError):
        scan.nmap_arguments("22; rm -rf /", root=True, host_timeout=30)


def test_probe_waits_capped() -> None:
    text = "Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\nmatch x m|^x|\nProbe TCP Foo q|a|\nrarity 1\n"
    out = scan.cap_probe_waits(text, 1000)
    assert out.count("totalwaitms 1000") == 2 and "tcpwrappedms 1000" in out and "6000" not in out
    assert scan.cap_probe_waits("Probe TCP X q||\ntotalwaitms 500\n", 1000).count("totalwaitms 500") == 1


@pytest.mark.parametrize("bad", ["23/tcpx", "abc", "22/sctp"])
def test_allowed_ports_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        values.parse_allowed_ports(bad)


def test_network_and_named_targets() -> None:
    captured = json.loads((DATA / "scan.json").read_text())
    xml = (DATA / "scan.xml").read_text()
    portal_ip = captured["hosts"]["portal1"]
    network = portal_ip.rsplit(".", 1)[0] + ".128/26"
    parsed = scan.parse(captured["result"], {"lab": network}, xml)["lab"]
    assert parsed.up and {p.address for p in parsed.ports} == set(captured["hosts"].values())
    assert any(p.tunnel == "ssl" and p.address == portal_ip for p in parsed.ports)
    # a target given by name: nmap lists the name as hostname type "user" under the address
    captured["result"]["scan"][portal_ip]["hostnames"] = [{"name": "portal.lab", "type": "user"}]
    named = scan.parse(captured["result"], {"portal": "portal.lab"}, xml)["portal"]
    assert named.up and {p.label for p in named.open_ports()} == {"22/tcp", "80/tcp", "443/tcp"}
