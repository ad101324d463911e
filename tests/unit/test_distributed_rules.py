"""The pure rules of distributed runs: which addresses a worker may audit, how hosts become shards and task
payloads (no secret), results back into the run, and where broker credentials may come from."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from auditor.catalog import load_catalog
from auditor.catalog.playbook import HostPlan
from auditor.distributed import allow, credentials, shards
from auditor.errors import InputError
from auditor.inventory import make_host
from auditor.model import Verdict
from auditor.results import host_to_dict

NETS = allow.parse_networks(["10.1.0.0/24", "fd00:1::/64"])


def fake_dns(table: dict[str, list[str]]) -> allow.Resolver:
    def resolver(name: str) -> list[str]:
        if name not in table:
            raise OSError(-2, "Name or service not known")
        return table[name]

    return resolver


@pytest.mark.parametrize("address", ["10.1.0.5", "10.1.0.0/25", "fd00:1::9", "web.example"])
def test_addresses_inside_the_allowed_networks_pass(address: str) -> None:
    assert allow.refusal(address, NETS, fake_dns({"web.example": ["10.1.0.7", "fd00:1::7"]})) is None


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.1.1.5", "10.1.1.5 is outside its allowed networks (10.1.0.0/24, fd00:1::/64)"),
        ("10.1.0.0/23", "network 10.1.0.0/23 is not inside"),
        ("split.example", "split.example (10.9.9.9) is outside"),  # one address of two outside: refused
        ("gone.example", "gone.example does not resolve"),
        ("-oProxyCommand=x", "is not an IP address"),
        ("10.1.0.1-50", "is not an IP address"),
    ],
)
def test_addresses_outside_are_refused_with_the_reason(address: str, why: str) -> None:
    reason = allow.refusal(address, NETS, fake_dns({"split.example": ["10.1.0.8", "10.9.9.9"]}))
    assert reason is not None and reason.startswith("refused by this worker: ") and why in reason


@pytest.mark.parametrize("value", ["10.1.0.5/24", "web.example", "10.0.0.0/33", "", "10.0.0.0/8 -x"])
def test_allow_net_is_parsed_strictly(value: str) -> None:
    with pytest.raises(InputError):
        allow.parse_networks([value])


def test_allow_net_is_required_and_a_bare_address_is_its_own_network() -> None:
    with pytest.raises(InputError, match="--allow-net"):
        allow.parse_networks([])
    assert allow.parse_networks(["10.2.3.4"]) == [ipaddress.ip_network("10.2.3.4/32")]


def plan(name: str, **variables: object) -> HostPlan:
    catalog = load_catalog()
    host = make_host(name, {"ansible_host": "10.1.0.9", **variables}, ["web", "all"], "inv", 1)
    return HostPlan(host, [catalog.checks["LNX-ACCOUNTS-ONLY-ROOT-UID0"]], {})


def test_shards_follow_segments_in_inventory_order() -> None:
    plans = [plan("a1", segment="a"), plan("d1"), plan("a2", segment="a"), plan("a3", segment="a")]
    got = [(s.number, s.segment, [p.host.name for p in s.plans]) for s in shards.split(plans, 2)]
    assert got == [(0, "a", ["a1", "a2"]), (1, "a", ["a3"]), (2, "default", ["d1"])]
    with pytest.raises(InputError, match="segment"):
        shards.split([plan("x", segment="a b")], 2)
    with pytest.raises(InputError, match="local connection"):
        shards.split([plan("me", ansible_connection="local")], 2)


def test_a_task_payload_carries_no_key_and_no_secret() -> None:
    host = plan(
        "w1",
        ansible_ssh_private_key_file="/root/.ssh/operator",
        ansible_password="PW1",
        db_password="PW2",
        note="https://u:PW3@portal.example/",
    ).host
    payload = shards.host_payload(host)
    text = repr(payload)
    for secret in ("operator", "PW1", "PW2", "PW3", "key_file"):
        assert secret not in text
    assert payload["groups"] == ["web"] and payload["address"] == "10.1.0.9"
    with pytest.raises(InputError, match="secret"):
        shards.check_params({"smtp_password": "x"})


def test_a_worker_result_comes_back_as_the_same_host_result() -> None:
    p = plan("w1")
    check = p.checks[0]
    from auditor.model import CheckResult, Evidence, HostResult

    original = HostResult(
        p.host, "reachable", None,
        [CheckResult(check, Verdict.PASS, "only root", [Evidence("getent passwd", 0, "root:x:0:0", "T", "", 1.5)])],
        "T0", "T1",
    )  # fmt: skip
    line = host_to_dict(original)
    again = shards.host_result(p, line, "now")
    assert host_to_dict(again) == line
    # A worker whose catalog differs cannot give this machine's checks a verdict.
    line["results"][0]["check"] = "LNX-SOMETHING-ELSE"
    other = shards.host_result(p, line, "now")
    assert other.status == "error" and "checks differ" in str(other.error)
    assert [r.status for r in other.results] == [Verdict.ERROR]


def test_a_password_in_a_command_line_url_is_refused() -> None:
    with pytest.raises(InputError, match="AUDITOR_BROKER"):
        credentials.resolve("broker", "redis://:hunter2@127.0.0.1:6379/0", None)
    with pytest.raises(InputError, match="AUDITOR_DB"):
        credentials.resolve("db", "postgresql://auditor:hunter2@db/auditor", None)
    assert credentials.resolve("broker", "redis://127.0.0.1:6379/0", None) == "redis://127.0.0.1:6379/0"
    with pytest.raises(InputError, match="no Redis URL"):
        credentials.resolve("broker", "amqp://127.0.0.1", None)


def test_the_environment_then_an_owner_only_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text("broker: redis://:fromfile@127.0.0.1/0\ndb: postgresql://a:b@db/x\n")
    file.chmod(0o644)
    monkeypatch.delenv("AUDITOR_BROKER", raising=False)
    with pytest.raises(InputError, match="chmod 600") as caught:
        credentials.resolve("broker", None, str(file))
    assert "fromfile" not in str(caught.value)
    file.chmod(0o600)
    assert credentials.resolve("broker", None, str(file)) == "redis://:fromfile@127.0.0.1/0"
    monkeypatch.setenv("AUDITOR_BROKER", "redis://:fromenv@127.0.0.1/0")
    assert credentials.resolve("broker", None, str(file)) == "redis://:fromenv@127.0.0.1/0"
    assert credentials.shown("redis://:fromenv@127.0.0.1/0") == "redis://:***@127.0.0.1/0"


def test_a_task_cannot_set_how_or_as_whom_the_worker_connects(tmp_path: Path) -> None:
    from auditor.distributed.worker import _inventory
    from auditor.inventory import load_inventory

    task_host = {
        "name": "w1", "address": "10.1.0.9", "port": 22, "user": "auditor", "become": True, "os": "linux",
        "level": None, "groups": ["web"],
        "vars": {"ansible_connection": "local", "ANSIBLE_SSH_PRIVATE_KEY_FILE": "/root/.ssh/other", "os": "windows",
                 "log_server": "10.1.0.2"},
    }  # fmt: skip
    import yaml

    path = tmp_path / "inv.yaml"
    path.write_text(yaml.safe_dump(_inventory([task_host], tmp_path / "worker_key")))
    host = load_inventory(path).hosts["w1"]
    assert (host.transport, host.key_file, host.os) == ("ssh", str(tmp_path / "worker_key"), "linux")
    assert host.vars == {"log_server": "10.1.0.2"} and host.groups == ["web"]


def test_a_task_names_no_file_of_the_worker(tmp_path: Path) -> None:
    from auditor.distributed.worker import _playbook

    assert _playbook({"name": "baseline"}, tmp_path) == "baseline"
    for name in ("../../etc/passwd", "/etc/shadow", "baseline.yaml", "nosuchbook"):
        assert _playbook({"name": name}, tmp_path) is None
    written = _playbook({"name": "../../x", "text": "plays: []\n"}, tmp_path)
    assert written == str(tmp_path / "playbook.yaml") and sorted(p.name for p in tmp_path.iterdir()) == [
        "playbook.yaml"
    ]
