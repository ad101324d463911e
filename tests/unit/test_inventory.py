"""Ansible INI and YAML inventories, with their edge cases."""

from __future__ import annotations

import pytest

from auditor.errors import InventoryError
from auditor.inventory import expand_range, load_inventory

INI = """\
# comment
loose1 ansible_host=10.0.0.9
[web]
web[01:03] ansible_user=audit
portal ansible_host=10.0.0.5 ansible_port=2222 ansible_become=yes level=3 log_server=10.0.0.99
[db]
db-[a:b] ansible_host=10.0.1.1
[servers:children]
web
db
[servers:vars]
ansible_ssh_private_key_file=~/.ssh/audit_key
ansible_become=true
log_server="10.0.0.50"
[all:vars]
av_max_signature_age_days=3
ansible_password=hunter2
[local]
me ansible_connection=local
"""


@pytest.fixture
def inv(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text(INI)
    return load_inventory(path)


def test_hosts_groups_and_ranges(inv):
    assert list(inv.hosts) == ["loose1", "web01", "web02", "web03", "portal", "db-a", "db-b", "me"]
    assert [h.name for h in inv.select(["servers"])] == ["web01", "web02", "web03", "portal", "db-a", "db-b"]
    assert inv.groups["ungrouped"] == ["loose1"]
    assert inv.hosts["web02"].groups == ["servers", "web"]


def test_variable_precedence(inv):
    portal = inv.hosts["portal"]
    assert (portal.address, portal.port, portal.level) == ("10.0.0.5", 2222, 3)
    assert portal.vars["log_server"] == "10.0.0.99"  # host line beats group vars
    assert inv.hosts["web01"].vars["log_server"] == "10.0.0.50"  # child of servers, quotes removed
    assert inv.hosts["web01"].become is True and inv.hosts["web01"].key_file == "~/.ssh/audit_key"
    assert inv.hosts["loose1"].vars == {"av_max_signature_age_days": 3}
    assert inv.hosts["web01"].address == "web01"  # no ansible_host: the name is the address


def test_secrets_never_become_parameters(inv):
    assert all("ansible_password" not in h.vars for h in inv.hosts.values())


def test_local_connection(inv):
    assert inv.hosts["me"].transport == "local"


def test_ranges():
    assert expand_range("h[8:10]") == ["h8", "h9", "h10"]
    assert expand_range("h[08:10]") == ["h08", "h09", "h10"]
    assert expand_range("x[a:c]y") == ["xay", "xby", "xcy"]
    assert expand_range("n[0:4:2]") == ["n0", "n2", "n4"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[web\nh1\n", 1, "bad section header"),
        ("[web]\nh1 ansible_port=abc\n", 2, "whole number"),
        ("[web]\nh1 ansible_become=maybe\n", 2, "yes/no"),
        ("[web]\nh1 level=9\n", 2, "between 1 and 5"),
        ("[web]\nh1 nokeyvalue\n", 2, "key=value"),
        ("[g:children]\nmissing\n", None, "not defined"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.ini"
    path.write_text(text)
    with pytest.raises(InventoryError) as exc:
        load_inventory(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)
    if line:
        assert f":{line}:" in str(exc.value)


def test_yaml_inventory(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(
        "vars: {log_server: 10.9.9.9}\n"
        "hosts:\n  a: {address: 10.0.0.1, user: audit, become: true, level: 4, groups: [servers]}\n"
        "  b: {address: 10.0.0.2, os: linux}\n"
        "groups:\n  servers: {vars: {av_max_signature_age_days: 2}}\n  all_servers: {children: [servers]}\n"
    )
    inv = load_inventory(path)
    assert inv.hosts["a"].vars == {"log_server": "10.9.9.9", "av_max_signature_age_days": 2}
    assert [h.name for h in inv.select(["all_servers"])] == ["a"]
    assert inv.hosts["a"].level == 4 and inv.hosts["a"].become


def test_yaml_inventory_unknown_key(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text("hosts:\n  a:\n    adress: 10.0.0.1\n")
    with pytest.raises(InventoryError, match=r"inv.yaml:3: hosts.a.adress: unknown key 'adress'"):
        load_inventory(path)
