"""firewall on real `nft -j list ruleset` and `iptables-save` outputs (tests/unit/data/nft, iptables)."""

from __future__ import annotations

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable
from auditor.facts.firewall import FirewallFact, evaluate, parse_iptables_save, parse_nft_json

FACT = FirewallFact()


HOST = {"ip": [("eth0", "10.77.22.5")], "ip6": [("eth0", "fe80::30ed:cfff:fec8:446d")]}


@pytest.mark.parametrize(
    ("name", "ipv4", "ipv6"),
    [
        ("01_empty", "open", "open"),
        ("02_policy_drop_ssh", "closed", "closed"),
        ("03_policy_accept_no_drop", "open", "open"),
        ("04_policy_accept_final_drop", "closed", "closed"),
        ("04b_policy_accept_final_counter_drop", "closed", "closed"),
        ("05_policy_accept_final_reject", "closed", "closed"),
        ("05b_policy_accept_final_reject_tcp_reset", "closed", "closed"),
        ("06_policy_drop_first_rule_accept", "open", "open"),  # an unconditional accept first opens everything
        ("07_ip6_only_policy_drop", "open", "closed"),
        ("08_firewalld_like", "closed", "closed"),  # accept policy, jump to zones, final reject
        ("09_output_hook_only", "open", "open"),
        ("10_two_tables_ip_drop_inet_accept", "closed", "open"),  # every base chain must pass a packet
        # a rule that matches every packet, whatever its form, opens the host
        ("20_saddr_any_accept", "open", "closed"),
        ("21_ip6_saddr_any_accept", "closed", "open"),
        ("22_dport_1_65535", "open", "open"),
        ("23_dport_0_65535_counter_comment", "open", "open"),
        ("24_l4proto_tcp", "open", "open"),
        ("25_iifname_eth0", "open", "open"),  # the host's traffic arrives on eth0
        ("27_anon_set_all", "open", "closed"),
        ("28_named_interval_set_all", "open", "closed"),
        ("29_ct_new_established", "open", "open"),
        ("31_jump_to_accept_chain", "open", "closed"),
        ("33_policy_accept_accept_before_final_drop", "open", "open"),  # table ip: no IPv6 chain at all
        ("35_dport_split_ranges", "open", "open"),
        ("36_dport_not_22", "open", "open"),
        ("38b_ct_vmap_new_accept", "open", "open"),
        ("39_iifname_wildcard", "open", "open"),
        ("41_limit_accept", "open", "open"),
        ("44_ip_protocol_tcp_inet", "open", "closed"),
        # accepts that look wide to a line reader but leave the arbitrary probe to the drop
        ("26_iifname_lo_only", "closed", "closed"),
        ("32_two_base_chains_accept_then_drop", "closed", "closed"),  # an accept does not bypass the next base chain
        ("34_dport_range_partial", "closed", "closed"),
        ("38_ct_vmap", "closed", "closed"),
        ("40_ipv4_closed_ipv6_open", "closed", "open"),
        ("42_saddr_private_only", "closed", "closed"),
        ("43_udp_all", "closed", "closed"),
        ("45_drop_in_jumped_chain_return", "closed", "closed"),
        # a construct the evaluator does not model, in a rule that could accept: never closed
        ("37_unknown_meta_mark", "unknown", "unknown"),
    ],
)
def test_nft_rulesets(captures, name, ipv4, ipv6):
    out, _, rc = captures.run(f"nft/{name}.json")
    assert rc == 0
    result = evaluate(parse_nft_json(out) if out.strip() else [], ["eth0"], HOST)
    assert (result["ipv4_state"], result["ipv6_state"]) == (ipv4, ipv6), result


@pytest.mark.parametrize("name", ["25_iifname_eth0", "39_iifname_wildcard"])
def test_interface_accept_is_closed_where_traffic_arrives_elsewhere(captures, name):
    out, _, _ = captures.run(f"nft/{name}.json")
    result = evaluate(parse_nft_json(out), ["ens3"], {"ip": [("ens3", "10.77.22.5")], "ip6": []})
    assert result["ipv4_state"] == "closed", result


def test_interface_accept_is_unknown_when_interfaces_unread(captures):
    out, _, _ = captures.run("nft/25_iifname_eth0.json")
    result = evaluate(parse_nft_json(out), None, None)
    assert result["ipv4_state"] == "unknown" and "interfaces could not be read" in result["ipv4_why"]


def test_unknown_construct_is_named(captures):
    out, _, _ = captures.run("nft/37_unknown_meta_mark.json")
    value = FACT.parse([raw(f"@@nft\n{out}@@nft-rc 0\n")], {})
    assert value["effective"] is None
    assert "meta mark" in value["summary"]


def _host(name: str, captures) -> str:
    link, _, _ = captures.run(f"fwhost/{name}.link")
    addr, _, _ = captures.run(f"fwhost/{name}.addr")
    return "".join(f"@@link {x}\n" for x in link.splitlines()) + "".join(f"@@addr {x}\n" for x in addr.splitlines())


@pytest.mark.parametrize(
    ("host", "name", "effective"),
    [
        ("01_eth0_v4_v6", "40_ipv4_closed_ipv6_open", False),  # a link-local IPv6 address is reachable
        ("02_eth0_v4_only", "40_ipv4_closed_ipv6_open", True),  # IPv6 disabled: nothing to judge
        ("01_eth0_v4_v6", "02_policy_drop_ssh", True),
        ("01_eth0_v4_v6", "25_iifname_eth0", False),
        ("01_eth0_v4_v6", "26_iifname_lo_only", True),
    ],
)
def test_fact_reads_the_hosts_interfaces(captures, host, name, effective):
    out, _, _ = captures.run(f"nft/{name}.json")
    value = FACT.parse([raw(_host(host, captures) + f"@@nft\n{out}@@nft-rc 0\n")], {})
    assert value["interfaces"] == ["eth0"]
    assert value["effective"] is effective, value["summary"]


def test_nft_fact_reasons_name_the_rule(captures):
    out, _, _ = captures.run("nft/06_policy_drop_first_rule_accept.json")
    value = FACT.parse([raw(f"@@nft\n{out}@@nft-rc 0\n")], {})
    assert value["effective"] is False
    assert "rule 1 accepts any new TCP connection" in value["summary"]


def test_nft_permission_denied_is_unreadable(captures):
    out, err, rc = captures.run("nft/11_non_root.json")
    with pytest.raises(FactUnreadable, match="Operation not permitted"):
        FACT.parse([raw(f"@@nft\n{out}{err}@@nft-rc {rc}\n")], {})


def test_no_firewall_tool_is_unreadable():
    with pytest.raises(FactUnreadable, match="no firewall tool"):
        FACT.parse([raw("")], {})


@pytest.mark.parametrize(
    ("name", "effective"),
    [
        ("00_empty", False),
        ("01_policy_drop", True),
        ("02_policy_accept_last_reject", True),
        ("03_policy_accept_no_rules", False),
        ("04_ip6_only_drop", False),
    ],
)
def test_iptables_save(captures, name, effective):
    out, _, rc = captures.run(f"iptables/{name}.iptables-save")
    assert rc == 0
    assert evaluate(parse_iptables_save(out, "ip"), ["eth0"], HOST)["ipv4_effective"] is effective


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("10_saddr_any_accept", "open"),  # iptables-save prints `-s 0.0.0.0/0` as a bare `-j ACCEPT`
        ("11_multiport_all", "open"),
        ("12_iface_wildcard", "open"),
        ("13_ctstate_new", "open"),
        ("17_not_lo", "open"),
        ("14_lo_only_all_ports", "closed"),
        ("15_partial_ports_private_src", "closed"),
        ("16_unknown_match", "unknown"),
    ],
)
def test_iptables_semantics(captures, name, state):
    out, _, rc = captures.run(f"iptables/{name}.iptables-save")
    assert rc == 0
    result = evaluate(parse_iptables_save(out, "ip"), ["eth0"], HOST)
    assert result["ipv4_state"] == state, result


def test_iptables_nft_rules_seen_as_xt_targets(captures):
    """nft shows iptables-nft matches as opaque xt expressions: alone they cannot decide ..."""
    out, _, _ = captures.run("iptables/02_policy_accept_last_reject.nft-json")
    result = evaluate(parse_nft_json(out), ["eth0"], HOST)
    assert result["ipv4_state"] == "unknown" and "xt conntrack" in result["ipv4_why"]


def test_iptables_nft_tables_read_from_iptables_nft_save(captures):
    """... so the fact reads those tables from iptables-nft-save instead."""
    nft, _, _ = captures.run("iptables/02_policy_accept_last_reject.nft-json")
    save, _, _ = captures.run("iptables/02_policy_accept_last_reject.iptables-save")
    text = f"@@nft\n{nft}@@nft-rc 0\n@@iptables-nft-save\n{save}@@iptables-nft-save-rc 0\n"
    value = FACT.parse([raw(_host("02_eth0_v4_only", captures) + text)], {})
    assert value["effective"] is True, value["summary"]


def test_iptables_non_root_is_unreadable(captures):
    out, err, rc = captures.run("iptables/05_non_root.iptables-save")
    assert rc == 4
    with pytest.raises(FactUnreadable, match="Permission denied"):
        FACT.parse([raw(f"@@iptables-save\n{out}{err}@@iptables-save-rc {rc}\n")], {})
