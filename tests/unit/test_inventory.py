"""Ansible INI and YAML inventories, with their edge cases."""

from __future__ import annotations

import re

import pytest

from auditor.errors import InventoryError
from auditor.inventory import expand_range, load_inventory
from tests.helpers import doc_block

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


# --- read as Ansible's INI plugin reads it --------------------------------------------------------------

INVENTORY_PAGE = "docs/inventories-and-playbooks.md"
README_INI = """\
[servers]
web01 ansible_host=10.0.0.5 ansible_user=auditor ansible_ssh_private_key_file=~/.ssh/audit level=3
db[01:04].agency.example    # a host range: db01 … db04, reached by name
[servers:vars]
ansible_become=true
; any variable that is not a connection setting is a check parameter
log_server=10.0.0.50
[portals:children]
servers
"""


def test_the_documented_example_loads_with_its_comments(tmp_path):
    assert doc_block(INVENTORY_PAGE, "Ansible INI inventories", "ini") == README_INI  # what the page shows
    path = tmp_path / "hosts.ini"
    path.write_text(README_INI)
    inv = load_inventory(path)
    assert list(inv.hosts) == ["web01", *(f"db{i:02d}.agency.example" for i in range(1, 5))]
    assert all(h.vars["log_server"] == "10.0.0.50" for h in inv.hosts.values())
    assert inv.hosts["db02.agency.example"].become is True
    assert [h.name for h in inv.select(["portals"])] == list(inv.hosts)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # Ansible keeps everything after '=' in a [g:vars] line: the comment would be in the value.
        ("[s]\nh\n[s:vars]\nlog_server=10.0.0.50   ; central\n", 4, "comment included"),
        ("[s]\nh\n[s:vars]\nlog_server=10.0.0.50 # central\n", 4, "comment included"),
        # Ansible's host lines know only '#': ';' is a word there.
        ("[s]\nh1 ansible_host=10.0.0.5  ; web\n", 2, "';' starts no comment"),
        ("[typo:vars]\nx=1\n[s]\nh\n", 1, "not defined"),
        ("[s]\nh\n[s:children]\nnope\n", 4, "'nope' is not defined"),
        ("[s:wrong]\nh\n", 1, "unknown type"),
        ("[s]\nh 'unclosed=1\n", 2, "cannot split"),
        ("[s]\nh1 bad-name=1\n", 2, "not a variable name"),
        ("[s]\nh1:\n", 2, "ends in ':'"),
        ("[s]\nh1:ssh\n", 2, "not a port number"),
    ],
)
def test_ansible_grammar_errors(tmp_path, text, line, message):
    path = tmp_path / "bad.ini"
    path.write_text(text)
    with pytest.raises(InventoryError) as exc:
        load_inventory(path)
    assert message in str(exc.value) and f"{path}:{line}:" in str(exc.value)


def test_values_and_comments_as_ansible_reads_them(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[s]  # a comment after a header\n"
        "h1 a=3 b=True c='x y' d=\"[1, 2]\" e=10.0.0.5 f=a#b   # trailing comment\n"
        "h2:2222 ansible_host=10.0.0.6\n"
        "[s:vars]\n"
        'q="quoted ; not a comment"\n'
        "url=https://h/#frag\n"
        "n=5 # Python literal: Ansible reads 5\n"
    )
    inv = load_inventory(path)
    h1, h2 = inv.hosts["h1"], inv.hosts["h2"]
    # shlex (as Ansible calls it) ends a word at '#' and drops the quotes before the literal is read
    assert h1.vars == {
        "a": 3,
        "b": True,
        "c": "x y",
        "d": [1, 2],
        "e": "10.0.0.5",
        "f": "a",
        "q": "quoted ; not a comment",
        "url": "https://h/#frag",
        "n": 5,
    }
    assert (h2.port, h2.address) == (2222, "10.0.0.6")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("web[01:03", "unclosed"),
        ("web01:03]", "']' without '['"),
        ("web[03:01]", "begin is after end"),
        ("web[c:a]", "begin is after end"),
        ("web[a:1]", "two numbers or two single letters"),
        ("web[aa:ab]", "two numbers or two single letters"),
        ("web[1:3:0]", "step"),
        ("web[1:3:-1]", "step"),
        ("web[1:3:x]", "step"),
        ("web[1:2:3:4]", "[begin:end]"),
        ("web[01:100]", "equal length"),
        ("web[1:²]", "two numbers"),
        ("w[0:999][0:999]", "expands to"),
        ("web[1:999999]", "larger than 200000 hosts"),
    ],
)
def test_malformed_ranges_are_refused(tmp_path, pattern, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        expand_range(pattern)
    path = tmp_path / "r.ini"
    path.write_text(f"[s]\nok\n{pattern}\n")
    with pytest.raises(InventoryError, match=rf"r\.ini:3: {re.escape(pattern)}: "):
        load_inventory(path)


def test_an_inventory_holds_at_most_max_hosts(tmp_path):
    path = tmp_path / "many.ini"
    path.write_text("[a]\na[1:150000]\n[b]\nb[1:150000]\n")  # each line within the range limit, not both
    with pytest.raises(InventoryError, match=r"many\.ini:4: more than 200000 hosts in one inventory"):
        load_inventory(path)


def test_two_ranges_in_one_name():
    assert expand_range("r[1:2]-[a:b]") == ["r1-a", "r1-b", "r2-a", "r2-b"]
    assert expand_range("h[:2]") == ["h0", "h1", "h2"]  # Ansible: an empty begin is 0


# --- unreadable and empty inventories ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no host in this inventory"),
        (b"# only comments\n[servers]\n[servers:vars]\nx=1\n", "no host in this inventory"),
        (b"[s]\nh1\n\xff\xfe\x00garbage", "not UTF-8"),
        (b"[s]\nh1\x00\n", "NUL byte"),
    ],
)
def test_empty_or_binary_inventories_are_bad_input(tmp_path, content, message):
    path = tmp_path / "hosts.ini"
    path.write_bytes(content)
    with pytest.raises(InventoryError, match=message) as exc:
        load_inventory(path)
    assert exc.value.exit_code == 2 and str(path) in str(exc.value)


def test_a_folder_or_missing_file_is_bad_input(tmp_path):
    for path in (tmp_path, tmp_path / "missing.ini"):
        with pytest.raises(InventoryError, match=r"cannot read|not a regular file") as exc:
            load_inventory(path)
        assert exc.value.exit_code == 2


def test_yaml_inventory_child_group_must_exist(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text("hosts:\n  a: {groups: [web]}\ngroups:\n  servers: {children: [wbe]}\n")
    with pytest.raises(InventoryError, match=r"inv.yaml:4: groups.servers.children: child group 'wbe'"):
        load_inventory(path)


def test_where_a_variable_was_set(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text("[all:vars]\nx=1\n[web]\nw1 y=2\nw2\n[web:vars]\ny=3\n")
    inv = load_inventory(path)
    assert inv.origin(inv.hosts["w1"], "y") == 4
    assert inv.origin(inv.hosts["w2"], "y") == 7
    assert inv.origin(inv.hosts["w2"], "x") == 2
    yaml_path = tmp_path / "inv.yaml"
    yaml_path.write_text(
        "vars: {x: 1}\nhosts:\n  a:\n    groups: [g]\n    vars: {y: 2}\ngroups:\n  g:\n    vars: {z: 3}\n"
    )
    inv = load_inventory(yaml_path)
    assert [inv.origin(inv.hosts["a"], v) for v in "xyz"] == [1, 5, 8]


# --- loading is linear ------------------------------------------------------------------------------------


def _traced_lines(text: str, tmp_path) -> int:
    """Python lines executed in auditor/inventory.py to load ``text``: a count, not a time."""
    import sys

    import auditor.inventory as module

    path = tmp_path / "big.ini"
    path.write_text(text)
    count = 0

    def tracer(frame, event, _arg):
        nonlocal count
        if frame.f_code.co_filename != module.__file__:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        load_inventory(path)
    finally:
        sys.settrace(None)
    return count


def _many_groups(n: int) -> str:
    # Every host in its own group, every group a child of one parent: work must grow with hosts x groups
    # each host is in (2 here), not with hosts x all groups.
    lines = [f"[g{i}]\nh{i}\n" for i in range(n)]
    lines.append("[parent:children]\n" + "".join(f"g{i}\n" for i in range(n)))
    return "".join(lines)


def test_loading_grows_linearly_with_hosts_and_groups(tmp_path):
    small, large = _traced_lines(_many_groups(250), tmp_path), _traced_lines(_many_groups(1000), tmp_path)
    assert large < 5 * small, (small, large)  # 4x the hosts: linear is ~4x, quadratic ~16x
