"""``firewall``: is a host firewall loaded AND effective for incoming traffic?

Effective means: what no rule allowed is dropped. For each input-hook chain we walk
its rules in order; the first *unconditional* verdict decides what happens to
traffic nothing matched (``accept`` -> open, ``drop``/``reject`` -> closed), and
an unconditional ``jump``/``goto`` is followed. With no unconditional verdict the
chain's policy decides. IPv4 counts as protected when some input chain of family
``ip`` or ``inet`` is closed (a packet must pass every base chain on the hook).

Sources: ``nft -j list ruleset`` (nftables, firewalld, iptables-nft) and
``iptables-legacy-save`` (ufw on legacy iptables), or ``iptables-save`` where nft is absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, first_line, register, sections

# nft sees nftables, firewalld and iptables-nft rules alike; legacy iptables tables are invisible to it,
# so iptables-legacy-save runs only when such tables are loaded. Without nft, iptables-save is the source.
SNIPPET = (
    'if command -v nft >/dev/null 2>&1; then echo @@nft; nft -j list ruleset 2>&1; echo "@@nft-rc $?"; '
    "if { read -r _ < /proc/net/ip_tables_names; } 2>/dev/null && command -v iptables-legacy-save >/dev/null; "
    'then echo @@iptables-legacy-save; iptables-legacy-save 2>&1; echo "@@iptables-legacy-save-rc $?"; fi; '
    "else for t in iptables-save ip6tables-save; do command -v $t >/dev/null 2>&1 || continue; "
    'echo "@@$t"; $t 2>&1; echo "@@$t-rc $?"; done; fi; true'
)

# Expression kinds that do not restrict which packets a rule applies to.
_NEUTRAL_EXPRS = {"counter", "log", "comment", "notrack"}
_TERMINAL = {"accept", "drop", "reject", "jump", "goto", "return", "queue"}
_CLOSED = {"drop", "reject"}


@dataclass
class Chain:
    family: str
    table: str
    name: str
    hook: str | None
    policy: str | None
    rules: list[tuple[str | None, str | None]]  # (unconditional verdict or None, jump target)


def _rule_verdict(exprs: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(verdict, target) when the nft rule applies to every packet, else (None, None)."""
    verdict, target = None, None
    for expr in exprs:
        ((kind, value),) = expr.items()
        if kind in _NEUTRAL_EXPRS:
            continue
        if kind == "xt" and isinstance(value, dict) and value.get("type") == "target":
            # iptables-nft rules appear in nft JSON as xt targets: {"xt": {"type": "target", "name": "REJECT"}}
            name = str(value.get("name", "")).lower()
            verdict = name if name in _TERMINAL else verdict
            continue
        if kind in _TERMINAL:
            verdict = kind
            if kind in ("jump", "goto") and isinstance(value, dict):
                target = value.get("target")
            continue
        return None, None  # a match, a limit, a lookup...: conditional
    return verdict, target


def parse_nft_json(text: str) -> list[Chain]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactUnreadable(f"nft -j output is not JSON: {first_line(text) or exc}") from None
    chains: dict[tuple[str, str, str], Chain] = {}
    for item in doc.get("nftables", []):
        if "chain" in item:
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = Chain(
                c["family"], c["table"], c["name"], c.get("hook"), c.get("policy"), []
            )
        elif "rule" in item:
            r = item["rule"]
            chain = chains.get((r["family"], r["table"], r["chain"]))
            if chain is not None:
                chain.rules.append(_rule_verdict(r.get("expr", [])))
    return list(chains.values())


def parse_iptables_save(text: str, family: str) -> list[Chain]:
    chains: dict[str, Chain] = {}
    table = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table == "filter" and line.startswith(":"):
            name, policy = line[1:].split()[:2]
            hook = "input" if name == "INPUT" else None
            chains[name] = Chain(family, "filter", name, hook, None if policy == "-" else policy.lower(), [])
        elif table == "filter" and line.startswith("-A "):
            words = line.split()
            chain = chains.get(words[1])
            if chain is None:
                continue
            chain.rules.append(_iptables_rule(words[2:]))
    return list(chains.values())


def _iptables_rule(words: list[str]) -> tuple[str | None, str | None]:
    """(verdict, target) of an iptables rule that matches every packet, else (None, None).

    Options after ``-j TARGET`` belong to the target (``--reject-with``); any option before it is a match,
    except a comment.
    """
    jump = next((i for i, w in enumerate(words) if w in ("-j", "-g")), None)
    if jump is None or jump + 1 >= len(words):
        return None, None
    matches = words[:jump]
    if matches[:3] == ["-m", "comment", "--comment"]:
        matches = matches[4:]
    if matches:
        return None, None
    target = words[jump + 1]
    if target.lower() in _TERMINAL:
        return target.lower(), None
    return ("jump" if words[jump] == "-j" else "goto"), target


def chain_outcome(chain: Chain, by_name: dict[tuple[str, str, str], Chain], depth: int = 0) -> tuple[str, str]:
    """('closed'|'open'|'returns', why) for packets no earlier rule matched."""
    for index, (verdict, target) in enumerate(chain.rules, 1):
        if verdict is None or verdict == "queue":
            continue
        if verdict in _CLOSED:
            return "closed", f"rule {index} of {chain.name} drops everything not allowed before it"
        if verdict == "accept":
            return "open", f"rule {index} of {chain.name} accepts every packet"
        if verdict == "return":
            break
        if verdict in ("jump", "goto") and target and depth < 16:
            sub = by_name.get((chain.family, chain.table, target))
            if sub is not None:
                outcome, why = chain_outcome(sub, by_name, depth + 1)
                if outcome != "returns":
                    return outcome, why
                if verdict == "goto":  # the goto'd chain returned: so does this one
                    break
    if chain.hook is None:
        return "returns", f"{chain.name} ends"
    if chain.policy in _CLOSED:
        return "closed", f"policy {chain.policy}"
    return "open", f"policy {chain.policy or 'accept'} and no final drop/reject"


def evaluate(chains: list[Chain]) -> dict[str, Any]:
    by_name = {(c.family, c.table, c.name): c for c in chains}
    inputs = []
    for chain in chains:
        if chain.hook != "input":
            continue
        outcome, why = chain_outcome(chain, by_name)
        inputs.append(
            {
                "family": chain.family,
                "table": chain.table,
                "chain": chain.name,
                "policy": chain.policy,
                "closed": outcome == "closed",
                "why": why,
            }
        )
    ipv4 = any(c["closed"] for c in inputs if c["family"] in ("ip", "inet"))
    ipv6 = any(c["closed"] for c in inputs if c["family"] in ("ip6", "inet"))
    return {"input_chains": inputs, "ipv4_effective": ipv4, "ipv6_effective": ipv6}


@register
class FirewallFact(ScriptFact):
    name = "firewall"
    script = SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        found = sections(outputs[0].stdout)
        chains: list[Chain] = []
        read, failures = [], []
        for tool, family in (
            ("nft", None),
            ("iptables-save", "ip"),
            ("iptables-legacy-save", "ip"),
            ("ip6tables-save", "ip6"),
        ):
            if tool not in found:
                continue
            rc_key = next((k for k in found if k.startswith(f"{tool}-rc ")), f"{tool}-rc ?")
            text = "\n".join(found[tool])
            if rc_key.split()[-1] != "0":
                failures.append(f"{tool}: {first_line(text) or 'failed'}")
                continue
            read.append(tool)
            if tool == "nft":
                chains += parse_nft_json(text) if text.strip() else []
            else:
                chains += parse_iptables_save(text, family or "ip")
        if not read:
            if failures:
                raise FactUnreadable("cannot read the firewall: " + "; ".join(failures))
            raise FactUnreadable("no firewall tool found (nft, iptables-save)")
        result = evaluate(chains)
        result.update(
            {
                "tools_read": read,
                "tools_failed": failures,
                "loaded": bool(result["input_chains"]),
                "effective": result["ipv4_effective"],
                "summary": "; ".join(
                    f"{c['family']} {c['table']} {c['chain']}: {c['why']}" for c in result["input_chains"]
                )
                or "no input chain is loaded",
            }
        )
        return result
