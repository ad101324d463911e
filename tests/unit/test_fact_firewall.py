"""firewall on real `nft -j list ruleset` and `iptables-save` outputs (tests/unit/data/nft, iptables)."""

from __future__ import annotations

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable
from auditor.facts.firewall import FirewallFact, evaluate, parse_iptables_save, parse_nft_json

FACT = FirewallFact()


@pytest.mark.parametrize(
    ("name", "ipv4", "ipv6"),
    [
        ("01_empty", False, False),
        ("02_policy_drop_ssh", True, True),
        ("03_policy_accept_no_drop", False, False),
        ("04_policy_accept_final_drop", True, True),
        ("04b_policy_accept_final_counter_drop", True, True),
        ("05_policy_accept_final_reject", True, True),
        ("05b_policy_accept_final_reject_tcp_reset", True, True),
        ("06_policy_drop_first_rule_accept", False, False),  # an unconditional accept first opens everything
        ("07_ip6_only_policy_drop", False, True),
        ("08_firewalld_like", True, True),  # accept policy, jump to zones, final reject
        ("09_output_hook_only", False, False),
        ("10_two_tables_ip_drop_inet_accept", True, False),  # every base chain must pass a packet
    ],
)
def test_nft_rulesets(captures, name, ipv4, ipv6):
    out, _, rc = captures.run(f"nft/{name}.json")
    assert rc == 0
    result = evaluate(parse_nft_json(out)) if out.strip() else evaluate([])
    assert result["ipv4_effective"] is ipv4, result
    assert result["ipv6_effective"] is ipv6, result


def test_nft_fact_reasons_name_the_rule(captures):
    out, _, _ = captures.run("nft/06_policy_drop_first_rule_accept.json")
    value = FACT.parse([raw(f"@@nft\n{out}@@nft-rc 0\n")], {})
    assert value["effective"] is False
    assert "accepts every packet" in value["summary"]


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
    assert evaluate(parse_iptables_save(out, "ip"))["ipv4_effective"] is effective


def test_iptables_nft_rules_seen_as_xt_targets(captures):
    out, _, _ = captures.run("iptables/02_policy_accept_last_reject.nft-json")
    assert evaluate(parse_nft_json(out))["ipv4_effective"] is True


def test_iptables_non_root_is_unreadable(captures):
    out, err, rc = captures.run("iptables/05_non_root.iptables-save")
    assert rc == 4
    with pytest.raises(FactUnreadable, match="Permission denied"):
        FACT.parse([raw(f"@@iptables-save\n{out}{err}@@iptables-save-rc {rc}\n")], {})
