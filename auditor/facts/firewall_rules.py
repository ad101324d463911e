"""What a loaded ruleset does with one probe: a NEW TCP connection to an arbitrary port from an
arbitrary address, arriving on one of the host's real (non-loopback) interfaces.

"Arbitrary" is judged by what a match covers, not by how it is written: ``ip saddr 0.0.0.0/0``,
``tcp dport 1-65535``, ``{ 0.0.0.0/1, 128.0.0.0/1 }``, ``meta l4proto tcp``, ``ct state new,...``,
``iifname "eth0"`` on a host whose traffic arrives on eth0 all match the probe; ``tcp dport 22``,
``ip saddr 10.0.0.0/8``, ``iifname "lo"``, ``ct state established,related`` do not. A match that
excludes only some values (``tcp dport != 22``) matches the arbitrary port. Several accept rules of
one chain whose ports (or sources) together cover everything count as one unconditional accept.

The walk is nondeterministic where the ruleset uses a construct this module does not model: such a
rule may or may not match, so its verdict is one possible outcome and the walk goes on. The answer
is then "open", "closed" or "unknown" with the construct named -- never "closed" out of doubt.
Every input-hook base chain of the probe's family must accept (a drop in any of them is final).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

YES, NO, SOME, UNKNOWN = "yes", "no", "some", "unknown"  # SOME: a rate/quota match lets some packets through
PORTS = (1, 65535)  # port 0 is not a TCP port a client can use
ADDRS = {"ip": (0, 2**32 - 1), "ip6": (0, 2**128 - 1)}
Intervals = list[tuple[int, int]]


@dataclass(frozen=True)
class Probe:
    family: str  # "ip" | "ip6"
    iface: str | None  # None: the host's interfaces could not be read
    local: tuple[int, ...] | None  # the host's addresses of this family (daddr matches), None if unknown


@dataclass
class Hit:
    state: str
    why: str = ""  # the construct, when UNKNOWN
    partial: tuple[str, Intervals] | None = None  # (dimension, values) of a positive match that misses the probe


Test = Callable[[Probe], Hit]


@dataclass
class Rule:
    tests: list[Test]
    verdict: str | None  # accept, drop, reject, return, jump, goto, queue, None (no verdict)
    target: str | None = None
    text: str = ""
    number: int = 0  # its position in the chain as listed (a verdict map stands for several Rules)

    def match(self, probe: Probe) -> Hit:
        hits = [t(probe) for t in self.tests]
        misses = [h for h in hits if h.state == NO]
        if misses:
            partial = (
                misses[0].partial if len(misses) == 1 and all(h.state == YES for h in hits if h.state != NO) else None
            )
            return Hit(NO, partial=partial)
        unknown = [h.why for h in hits if h.state == UNKNOWN]
        if unknown:
            return Hit(UNKNOWN, "; ".join(unknown))
        return Hit(SOME if any(h.state == SOME for h in hits) else YES)


@dataclass
class Chain:
    family: str
    table: str
    name: str
    hook: str | None
    policy: str | None
    prio: int = 0
    rules: list[Rule] = field(default_factory=list)


# -- intervals --------------------------------------------------------------------------------------------
def merge(values: Intervals) -> Intervals:
    out: Intervals = []
    for lo, hi in sorted(values):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def covers(values: Intervals, domain: tuple[int, int]) -> bool:
    return any(lo <= domain[0] and hi >= domain[1] for lo, hi in merge(values))


def contains(values: Intervals, point: int) -> bool:
    return any(lo <= point <= hi for lo, hi in values)


def address_interval(text: str, family: str) -> tuple[int, int]:
    """``10.0.0.0/8``, ``::/0`` or ``1.2.3.4`` as an integer interval; ValueError when not of this family."""
    net = ipaddress.ip_network(text, strict=False)
    if (net.version == 4) != (family == "ip"):
        raise ValueError(f"{text} is not an {family} address")
    return int(net.network_address), int(net.broadcast_address)


# -- tests --------------------------------------------------------------------------------------------------
def always(state: str, why: str = "") -> Test:
    return lambda probe: Hit(state, why)


def needs_family(family: str, test: Test) -> Test:
    """A match on an IPv4 (IPv6) header never matches an IPv6 (IPv4) packet, whatever its operator."""
    return lambda probe: test(probe) if probe.family == family else Hit(NO)


def span_test(dim: str, values: Intervals, negate: bool, domain: tuple[int, int]) -> Test:
    """Ports or source addresses: the arbitrary value is one no rule names, so a positive match only
    matches it when it covers the whole domain, and a negative one unless it excludes the whole domain."""

    def test(probe: Probe) -> Hit:
        full = covers(values, domain)
        if negate:
            return Hit(NO if full else YES)
        return Hit(YES) if full else Hit(NO, partial=(dim, values))

    return test


def local_test(values: Intervals, negate: bool, what: str) -> Test:
    """Destination address: the probe goes to one of the host's own addresses."""

    def test(probe: Probe) -> Hit:
        if probe.local is None:
            return Hit(UNKNOWN, f"{what} (the host's addresses could not be read)")
        inside = [contains(values, a) for a in probe.local]
        return Hit(YES if (not all(inside) if negate else any(inside)) else NO)

    return test


def name_test(names: set[str], negate: bool, value: str) -> Test:
    """ct state, l4proto, nfproto, pkttype, fib type: the probe's value is fixed."""
    return lambda probe: Hit(YES if (value in names) != negate else NO)


def iface_matches(pattern: str, iface: str) -> bool:
    # nft wildcards end in "*", iptables ones in "+"
    if pattern.endswith(("*", "+")):
        return iface.startswith(pattern[:-1])
    return iface == pattern


def iface_test(patterns: set[str], negate: bool, what: str) -> Test:
    def test(probe: Probe) -> Hit:
        if probe.iface is None:
            if patterns <= {"lo"}:  # the probe never arrives on loopback
                return Hit(YES if negate else NO)
            return Hit(UNKNOWN, f"{what} (the host's interfaces could not be read)")
        hit = any(iface_matches(p, probe.iface) for p in patterns)
        return Hit(YES if hit != negate else NO)

    return test


# -- walking ------------------------------------------------------------------------------------------------
Outcomes = dict[str, str]  # "accept" | "drop" | "return" | "unknown" -> why


class Ruleset:
    def __init__(self, chains: list[Chain]) -> None:
        self.chains = chains
        self.by_name = {(c.family, c.table, c.name): c for c in chains}

    def inputs(self, family: str) -> list[Chain]:
        return [c for c in self.chains if c.hook == "input" and c.family in (family, "inet")]

    def walk(self, chain: Chain, probe: Probe, depth: int = 0) -> Outcomes:
        out: Outcomes = {}
        accepted: dict[str, tuple[Intervals, list[int]]] = {}
        for index, rule in enumerate(chain.rules, 1):
            index = rule.number or index
            where = f"{chain.family} {chain.table} {chain.name} rule {index}"
            hit = rule.match(probe)
            if hit.state == NO:
                if hit.partial and rule.verdict == "accept":
                    dim, values = hit.partial
                    seen, idx = accepted.setdefault(dim, ([], []))
                    seen.extend(values)
                    if index not in idx:
                        idx.append(index)
                    domain = PORTS if dim in ("dport", "sport") else ADDRS[probe.family]
                    if covers(seen, domain):
                        rules = ", ".join(map(str, idx))
                        out.setdefault("accept", f"{chain.name} rules {rules} together accept every {dim}")
                        return out
                continue
            if hit.state == SOME and rule.verdict in ("drop", "reject", "return", None):
                continue  # a rate-limited drop lets the probe through most of the time
            if hit.state == SOME and rule.verdict != "accept":
                hit = Hit(UNKNOWN, "a rate limit")  # whatever the jumped chain does, it does to some packets
            doubt = f" if {hit.why}" if hit.state == UNKNOWN else ""
            result = self._verdict(rule, chain, where, probe, depth)
            for kind, why in result.items():
                if kind != "continue":
                    out.setdefault(kind, why + doubt)
            if hit.state != UNKNOWN and "continue" not in result:
                return out
        out.setdefault("return", f"{chain.name} ends")  # a base chain's end is its policy (base_outcome)
        return out

    def _verdict(self, rule: Rule, chain: Chain, where: str, probe: Probe, depth: int) -> Outcomes:
        v = rule.verdict
        if v is None:
            return {"continue": ""}
        if v == "accept":
            return {"accept": f"{where} accepts any new TCP connection"}
        if v in ("drop", "reject"):
            return {"drop": f"{where} {v}s it"}
        if v == "return":
            return {"return": f"{where} returns"}
        if v in ("jump", "goto"):
            sub = self.by_name.get((chain.family, chain.table, rule.target or ""))
            if sub is None or depth > 16:
                return {"unknown": f"{where} {v}s to a chain the auditor cannot follow ({rule.target})"}
            result = self.walk(sub, probe, depth + 1)
            if v == "jump" and "return" in result:
                result = {k: w for k, w in result.items() if k != "return"} | {"continue": ""}
            return result
        return {"unknown": f"{where} hands it to {v} (not judged)"}

    def base_outcome(self, chain: Chain, probe: Probe) -> Outcomes:
        out = self.walk(chain, probe)
        if "return" in out or not out:
            policy = chain.policy or "accept"
            why = f"{chain.family} {chain.table} {chain.name}: policy {policy}"
            out.pop("return", None)
            out.setdefault("drop" if policy == "drop" else "accept", why)
        return out

    def judge(self, probe: Probe) -> tuple[str, str]:
        """('open'|'closed'|'unknown', why) for this probe on every input base chain of its family."""
        chains = self.inputs(probe.family)
        if not chains:
            return "open", "no input chain is loaded"
        results = [(c, self.base_outcome(c, probe)) for c in chains]
        for _, out in results:
            if set(out) == {"drop"}:
                return "closed", out["drop"]
        if all(set(out) == {"accept"} for _, out in results):
            return "open", "; ".join(out["accept"] for _, out in results)
        doubts = [f"{w}" for _, out in results for k, w in out.items() if len(out) > 1 or k == "unknown"]
        return "unknown", "cannot decide: " + "; ".join(dict.fromkeys(doubts))
