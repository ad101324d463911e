"""Strict address parsing: what may reach nmap, ssh, a socket or a URL, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor import addresses
from auditor.errors import InputError
from auditor.inventory import load_inventory


@pytest.mark.parametrize(("text", "canonical"), [
    ("10.0.0.5", "10.0.0.5"), (" 10.0.0.5 ", "10.0.0.5"), ("web01.agency.gov.vn", "web01.agency.gov.vn"),
    ("db_1", "db_1"), ("fd00::1", "fd00::1"), ("fe80::1%eth0", "fe80::1%eth0"), ("fe80::1%3", "fe80::1%3"),
    ("10.1.0.0/16", "10.1.0.0/16"), ("fd00::/112", "fd00::/112"),
])  # fmt: skip
def test_accepted_targets(text: str, canonical: str) -> None:
    assert addresses.target(text) == canonical


@pytest.mark.parametrize("text", [
    "fe80::1%x --script=evil.nse", "fe80::1%x\t-iL/etc/shadow", "fe80::1%-oN", "fe80::1%", "10.0.0.1%eth0",
    "fd00::1%eth0", "fe80::1%aaaaaaaaaaaaaaaa", "-sS", "--script=evil.nse", "-iL/etc/passwd", "a b", "10.0.0.1-50",
    "10.0.0.*", "10.0.0.1,2", "$(id)", "`id`", "a;b", "web-.lab", "-web.lab", "a..b", "", "10.0.0.300", "x/8",
    "-oN/tmp/x", "host\n--script=x",
])  # fmt: skip
def test_refused_targets(text: str) -> None:
    with pytest.raises(addresses.AddressError):
        addresses.target(text)


def test_host_refuses_networks() -> None:
    with pytest.raises(addresses.AddressError):
        addresses.host("10.0.0.0/24")


@pytest.mark.parametrize(("text", "host", "port"), [
    ("https://portal.gov.vn/", "portal.gov.vn", 443), ("https://10.0.0.5:8443/login?x=1", "10.0.0.5", 8443),
    ("https://[fd00::5]/", "fd00::5", 443),
])  # fmt: skip
def test_urls(text: str, host: str, port: int) -> None:
    url = addresses.url(text, ("https",))
    assert (url.host, url.port) == (host, port)


@pytest.mark.parametrize("text", [
    "https://h:22;touch/", "https://h/;touch", "https://h/$(id)", "https://h/a b", "https://h:0/", "https://h:99999/",
    "https://-oN/", "http://h/", "ftp://h/", "https://u:pw@h/", "https://u@h/", "https://fd00::5/", "https://[h]/",
    "https://h/#x", "https://h/`id`", "https://h/'x'", "https:///x", "https://[fe80::1%25eth0]/", "https://h:22x/",
])  # fmt: skip
def test_refused_urls(text: str) -> None:
    with pytest.raises(addresses.AddressError):
        addresses.url(text, ("https",))


def test_sftp_url_user() -> None:
    url = addresses.url("sftp://share@10.0.0.7:2222/srv/share", ("sftp",), allow_user=True)
    assert (url.user, url.host, url.port, url.path) == ("share", "10.0.0.7", 2222, "/srv/share")
    with pytest.raises(addresses.AddressError):
        addresses.url("sftp://-oProxyCommand=x@10.0.0.7/", ("sftp",), allow_user=True)


def test_inventory_refuses_hostile_address_with_file_line_field(tmp_path: Path) -> None:
    inv = tmp_path / "inv.ini"
    inv.write_text("[servers]\nok ansible_host=10.0.0.5\nevil ansible_host='fe80::1%x --script=evil.nse'\n")
    with pytest.raises(InputError) as err:
        load_inventory(inv)
    assert f"{inv}:3: evil.ansible_host:" in str(err.value) and "scope id" in str(err.value)
    yml = tmp_path / "inv.yaml"
    yml.write_text("hosts:\n  evil:\n    address: '-iL/etc/shadow'\n")
    with pytest.raises(InputError, match=r"evil\.ansible_host"):
        load_inventory(yml)
