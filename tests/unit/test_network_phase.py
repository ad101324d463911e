"""Catalog, planning and safety of the network phase (no network contacted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.errors import InputError
from auditor.inventory import load_inventory
from auditor.network import logmarker, phase, targets
from auditor.network import plans as netplans
from auditor.network.fileserver import parse_url
from auditor.network.probes.base import portal_url
from auditor.transports import ConnectOptions


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def plans_for(catalog, tmp_path: Path, ini: str, **params: object):  # type: ignore[no-untyped-def]
    inv = tmp_path / "hosts.ini"
    inv.write_text(ini)
    return plan_run(load_playbook("baseline", catalog), catalog, load_inventory(inv), dict(params))


def test_network_checks_in_catalog(catalog) -> None:  # type: ignore[no-untyped-def]
    net = {cid: c for cid, c in catalog.checks.items() if cid.startswith("NET-")}
    assert {t for c in net.values() for t in c.plan} == {
        "PT-NETWORK",
        "PT-PORTAL-CHANNEL",
        "PT-MAIL-CRYPTO",
        "PT-LOG",
        "PT-USB",
    }
    assert all(c.applies["probe"] == "network" and "os" not in c.applies for c in net.values())
    assert net["NET-PORTAL-HSTS"].applies["groups"] == ["portals"]


def test_split_by_group_and_local(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plans = plans_for(
        catalog,
        tmp_path,
        "[portals]\nweb ansible_host=10.0.0.5\n[mail]\nmx ansible_host=10.0.0.6\n"
        "me ansible_connection=local\nlo ansible_host=127.0.0.1\n",
    )
    host_plans, net_plans = netplans.split(plans)
    assert all(not netplans.is_network(c) for p in host_plans for c in p.checks)
    by_host = {p.host.name: {c.id for c in p.checks} for p in net_plans}
    assert set(by_host) == {"web", "mx"}  # the local machine and loopback are not probed
    assert "NET-PORTAL-HSTS" in by_host["web"] and "NET-PORTAL-HSTS" not in by_host["mx"]
    assert "NET-MAIL-STARTTLS" in by_host["mx"] and "NET-NO-CLEARTEXT-SERVICES" in by_host["web"]


def test_prepare_vets_targets_and_parameters(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    options = phase.NetworkOptions(connect=ConnectOptions(known_hosts=tmp_path / "kh"))
    _, net = netplans.split(plans_for(catalog, tmp_path, "[portals]\nweb ansible_host=10.0.0.5 smtp_port=2525\n"))
    job = phase.prepare(net, options)
    probes = {p.type: p.params for p in job.probes["web"]}
    assert probes["https_portal"] == {} and "smtp" not in probes  # portal_url unset: the probe's default URL
    assert str(portal_url(net[0].host, probes["https_portal"])) == "https://10.0.0.5/"
    assert "443" in " ".join(job.nmap_args)
    for ini, message in [
        ("[servers]\nwide ansible_host=10.0.0.0/8\n", "--allow-wide-scan"),
        ("[portals]\nweb ansible_host=10.0.0.5 portal_url=http://10.0.0.5/\n", "https://"),
        ("[servers]\nweb ansible_host=10.0.0.5 tls_ca_file=/nonexistent.pem\n", "tls_ca_file"),
        ("[servers]\nweb ansible_host=10.0.0.5 allowed_ports=ssh\n", "allowed_ports"),
    ]:
        _, net = netplans.split(plans_for(catalog, tmp_path, ini))
        with pytest.raises(InputError, match=message.replace("+", r"\+")):
            phase.prepare(net, options)
    _, net = netplans.split(plans_for(catalog, tmp_path, "[servers]\nwide ansible_host=10.0.0.0/8\n"))
    assert phase.prepare(net, phase.NetworkOptions(connect=options.connect, allow_wide_scan=True)).scan_targets


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("10.0.0.5", True),
        ("10.1.0.0/16", True),
        ("10.0.0.0/15", False),
        ("web01.agency.gov.vn", True),
        ("10.0.0.1-50", False),
        ("-sS", False),
        ("a b", False),
        ("fd00::/112", True),
        ("fd00::/64", False),
    ],
)
def test_vet(address: str, ok: bool) -> None:
    if ok:
        assert targets.vet(address)
    else:
        with pytest.raises(InputError):
            targets.vet(address)


def test_marker_search_output() -> None:
    marker = logmarker.new_marker("20261123T1200-ab12", "web 01")
    assert " " not in marker and marker.startswith("auditor-marker-")
    found = logmarker.parse_found(f"/var/log/remote/10.0.0.5.log:{marker}\n/var/log/syslog:unrelated\n")
    assert found == {marker: "/var/log/remote/10.0.0.5.log"}
    assert marker in logmarker.search_script([marker], ["/var/log"])  # on stdin, never a command line


def test_file_server_url() -> None:
    assert parse_url("sftp://share@10.0.0.7/srv/share") == ("sftp", "10.0.0.7", 22, "share", "/srv/share")
    assert parse_url("smb://fs/dept")[2] == 445
    with pytest.raises(ValueError):
        parse_url("http://fs/")


@pytest.mark.parametrize(("param", "value", "message"), [
    ("portal_url", "https://h:22;touch/", "portal_url"), ("portal_url", "https://h/$(id)", "portal_url"),
    ("file_server", "sftp://u@h/x;touch", "file_server"), ("file_server", "sftp://u@-oProxyCommand=x/", "file_server"),
    ("log_server", "-x", "log_server"), ("log_server", "a b", "log_server"), ("smtp_hostname", "--x", "smtp_hostname"),
    ("smtp_port", "25;x", "smtp_port"), ("smtp_port", "70000", "smtp_port"),
    ("log_marker_wait", "abc", "log_marker_wait"),
    ("scan_probe_wait_ms", "1e9", "scan_probe_wait_ms"), ("scan_ports", "22 -iL x", "scan_ports"),
    ("file_server_key", "/nonexistent/key", "file_server_key"),
])  # fmt: skip
def test_every_network_parameter_is_parsed_strictly(
    catalog,
    tmp_path: Path,
    param: str,
    value: str,  # type: ignore[no-untyped-def]
    message: str,
) -> None:
    from auditor.network import params as netparams

    with pytest.raises(InputError) as err:  # refused by the plan's types or by the strict network parsers
        plans = plans_for(catalog, tmp_path, "[portals]\nweb ansible_host=10.0.0.5\n[mail]\nweb\n", **{param: value})
        netparams.check_all(plans)
    assert str(err.value).startswith(f"--param {message}: "), str(err.value)
    assert str(err.value).endswith("(host web)"), str(err.value)
