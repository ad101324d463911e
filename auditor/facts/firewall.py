"""``firewall``: would the LOADED ruleset accept a new TCP connection to an arbitrary port from an
arbitrary address, arriving on one of the host's real interfaces? (IPv4, and IPv6 when the host has an
IPv6 address on a real interface.)

The ruleset is read as the kernel holds it -- ``nft -j list ruleset`` (nftables, firewalld,
iptables-nft), ``iptables-legacy-save``/``ip6tables-legacy-save`` when legacy tables are loaded, or
``iptables-save``/``ip6tables-save`` where nft is absent -- never /etc/nftables.conf. Tables written by
iptables-nft show their matches to nft only as opaque ``xt`` expressions; those tables are read from
``iptables-nft-save`` instead. The host's interfaces and addresses come from ``ip -o link``/``ip -o addr``.
What a rule matches is judged in firewall_rules.py.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, first_line, register, sections
from auditor.facts.firewall_rules import (
    ADDRS,
    NO,
    PORTS,
    SOME,
    UNKNOWN,
    YES,
    Chain,
    Hit,
    Intervals,
    Probe,
    Rule,
    Ruleset,
    Test,
    address_interval,
    always,
    iface_test,
    local_test,
    name_test,
    needs_family,
    span_test,
)

# nft sees nftables, firewalld and iptables-nft rules alike; legacy iptables tables are invisible to it,
# so the legacy savers run only when such tables are loaded. Without nft, iptables-save is the source.
SNIPPET = (
    "ip -o link show </dev/null 2>/dev/null | sed 's/^/@@link /'; "
    "ip -o addr show </dev/null 2>/dev/null | sed 's/^/@@addr /'; "
    "if command -v nft >/dev/null 2>&1; then o=$(nft -j list ruleset 2>&1 </dev/null); r=$?; "
    'echo @@nft; printf "%s\\n" "$o"; echo "@@nft-rc $r"; '
    "case $o in *'\"xt\"'*) for t in iptables-nft-save ip6tables-nft-save; do "
    'command -v $t >/dev/null 2>&1 || continue; echo "@@$t"; $t 2>&1 </dev/null; echo "@@$t-rc $?"; done;; esac; '
    "for p in ip ip6; do if { read -r _ < /proc/net/${p}_tables_names; } 2>/dev/null "
    "&& command -v ${p}tables-legacy-save >/dev/null; then "
    'echo "@@${p}tables-legacy-save"; ${p}tables-legacy-save 2>&1 </dev/null; '
    'echo "@@${p}tables-legacy-save-rc $?"; fi; done; '
    "else for t in iptables-save ip6tables-save; do command -v $t >/dev/null 2>&1 || continue; "
    'echo "@@$t"; $t 2>&1 </dev/null; echo "@@$t-rc $?"; done; fi; true'
)

_NEUTRAL = {"counter", "log", "comment", "notrack", "mangle", "set", "nftrace"}  # statements: no match, no verdict
_VERDICTS = {"accept", "drop", "reject", "return", "jump", "goto", "queue", "continue"}
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}
_HEADER_FAMILY = {"ip": "ip", "ip6": "ip6"}
_TRANSPORT = {"tcp", "th"}  # th: the transport header, whatever the protocol


# -- nft JSON -----------------------------------------------------------------------------------------------
def _elements(right: Any, sets: dict[str, list[Any]]) -> list[Any] | None:
    """The values a match compares against, flattened; None when not understood."""
    if isinstance(right, str) and right.startswith("@"):
        return sets.get(right[1:])
    if isinstance(right, dict) and "set" in right:
        right = right["set"]
    if isinstance(right, list):
        out = []
        for item in right:
            if isinstance(item, dict) and "elem" in item:
                item = item["elem"].get("val")
            out.append(item)
        return out
    return [right]


def _intervals(values: list[Any], kind: str, family: str | None) -> Intervals | None:
    out: Intervals = []
    for v in values:
        try:
            if kind == "port":
                if isinstance(v, dict) and "range" in v:
                    lo, hi = v["range"]
                    out.append((int(lo), int(hi)))
                elif isinstance(v, int) and not isinstance(v, bool):
                    out.append((v, v))
                else:
                    return None
            else:
                if isinstance(v, dict) and "prefix" in v:
                    out.append(address_interval(f"{v['prefix']['addr']}/{v['prefix']['len']}", family or "ip"))
                elif isinstance(v, dict) and "range" in v:
                    lo = address_interval(str(v["range"][0]), family or "ip")[0]
                    out.append((lo, address_interval(str(v["range"][1]), family or "ip")[1]))
                elif isinstance(v, str):
                    out.append(address_interval(v, family or "ip"))
                else:
                    return None
        except (ValueError, TypeError, KeyError):
            return None
    return out


def _names(values: list[Any]) -> set[str] | None:
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        return None
    return {_PROTOCOLS.get(str(v), str(v)) for v in values}


def _nft_match(m: dict[str, Any], sets: dict[str, list[Any]], family: str) -> Test:
    op, left, right = m.get("op", "=="), m.get("left"), m.get("right")
    what = json.dumps(m, sort_keys=True)[:160]
    if op not in ("==", "!=", "in"):
        return always(UNKNOWN, f"a match with operator {op!r}: {what}")
    negate = op == "!="
    values = _elements(right, sets)
    if values is None or not isinstance(left, dict) or len(left) != 1:
        return always(UNKNOWN, f"a match the auditor cannot read: {what}")
    ((kind, spec),) = left.items()
    spec = spec if isinstance(spec, dict) else {}
    key = spec.get("key")
    if kind == "payload":
        proto, fld = spec.get("protocol"), spec.get("field")
        if proto in _HEADER_FAMILY:
            if fld in ("saddr", "daddr"):
                spans = _intervals(values, "addr", proto)
                if spans is None:
                    return always(UNKNOWN, f"{proto} {fld} with values {values}")
                test = (
                    span_test("saddr", spans, negate, ADDRS[proto])
                    if fld == "saddr"
                    else local_test(spans, negate, f"{proto} daddr")
                )
                return needs_family(proto, test)
            if fld in ("protocol", "nexthdr"):
                names = _names(values)
                if names is None:
                    return always(UNKNOWN, f"{proto} {fld} {values}")
                return needs_family(proto, name_test(names, negate, "tcp"))
            return always(UNKNOWN, f"{proto} {fld}")
        if proto in _TRANSPORT and fld in ("dport", "sport"):
            spans = _intervals(values, "port", None)
            if spans is None:
                return always(UNKNOWN, f"{proto} {fld} {values}")
            return span_test(fld, spans, negate, PORTS)
        if proto == "tcp":
            return always(UNKNOWN, f"tcp {fld}")
        return always(NO)  # a udp, icmp, sctp... header: never a TCP packet
    if (kind == "meta" and key in ("l4proto", "nfproto", "pkttype")) or (kind == "ct" and key == "state"):
        names = _names(values)
        if names is None:
            return always(UNKNOWN, f"{kind} {key} {values}")
        probe_value = {"l4proto": "tcp", "pkttype": "host", "state": "new"}.get(key)
        if key == "nfproto":
            return lambda probe: Hit(YES if ({"ip": "ipv4", "ip6": "ipv6"}[probe.family] in names) != negate else NO)
        return name_test(names, negate, probe_value or "")
    if kind == "meta" and key in ("iif", "iifname"):
        names = _names(values)
        if names is None:
            return always(UNKNOWN, f"meta {key} {values}")
        return iface_test(names, negate, f"{key} {sorted(names)}")
    if kind == "ct" and key == "status":
        return always(YES if negate else NO)  # a new connection to the host: no dnat/snat/... status bit
    if kind == "fib" and spec.get("result") == "type" and spec.get("flags") == ["daddr"]:
        names = _names(values)
        if names is not None:
            return name_test(names, negate, "local")
    return always(UNKNOWN, f"{kind} {key or ''} match: {what}".replace("  ", " "))


def _nft_vmap(spec: dict[str, Any], sets: dict[str, list[Any]], family: str) -> tuple[list[Rule], str]:
    """A verdict map as the rules it stands for: one per entry, in order (the probe matches at most one)."""
    entries = _elements(spec.get("data"), sets) or []
    rules = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict) and entry[1]):
            return [Rule([always(UNKNOWN, f"a verdict map entry {entry}")], "accept")], ""
        ((verdict, arg),) = entry[1].items()
        test = _nft_match({"op": "==", "left": spec.get("key"), "right": entry[0]}, sets, family)
        target = arg.get("target") if isinstance(arg, dict) else None
        rules.append(Rule([test], verdict, target))
    return rules, ""


def _nft_rule(exprs: list[dict[str, Any]], sets: dict[str, list[Any]], family: str) -> list[Rule]:
    tests: list[Test] = []
    for expr in exprs:
        if not isinstance(expr, dict) or len(expr) != 1:
            tests.append(always(UNKNOWN, f"expression {expr}"))
            continue
        ((kind, value),) = expr.items()
        if kind in _NEUTRAL:
            continue
        if kind == "match" and isinstance(value, dict):
            tests.append(_nft_match(value, sets, family))
        elif kind in ("limit", "quota"):
            tests.append(always(NO if isinstance(value, dict) and value.get("inv") else SOME))
        elif kind in _VERDICTS:
            target = value.get("target") if isinstance(value, dict) else None
            return [Rule(tests, None if kind == "continue" else kind, target)]
        elif kind == "vmap" and isinstance(value, dict):
            entries, _ = _nft_vmap(value, sets, family)
            return [Rule(tests + e.tests, e.verdict, e.target) for e in entries]
        elif kind == "xt" and isinstance(value, dict) and value.get("type") == "target":
            name = str(value.get("name", "")).lower()
            verdict = name if name in ("accept", "drop", "reject", "return") else None
            if verdict is None and name not in ("log", "nflog"):
                tests.append(always(UNKNOWN, f"iptables target {value.get('name')}"))
                verdict = "accept"
            return [Rule(tests, verdict)]
        else:
            detail = value.get("name") if isinstance(value, dict) and kind == "xt" else ""
            tests.append(always(UNKNOWN, f"{kind} {detail}".strip()))
    return [Rule(tests, None)]


def parse_nft_json(text: str) -> list[Chain]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactUnreadable(f"nft -j output is not JSON: {first_line(text) or exc}") from None
    items = doc.get("nftables", [])
    sets: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for item in items:
        for kind in ("set", "map"):
            if kind in item:
                s = item[kind]
                sets.setdefault((s["family"], s["table"]), {})[s["name"]] = _elements(s.get("elem", []), {}) or []
    chains: dict[tuple[str, str, str], Chain] = {}
    for item in items:
        if "chain" in item:
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = Chain(
                c["family"], c["table"], c["name"], c.get("hook"), c.get("policy"), int(c.get("prio", 0) or 0)
            )
        elif "rule" in item:
            r = item["rule"]
            chain = chains.get((r["family"], r["table"], r["chain"]))
            if chain is not None:
                table_sets = sets.get((r["family"], r["table"]), {})
                number = len({x.number for x in chain.rules}) + 1
                for rule in _nft_rule(r.get("expr", []), table_sets, r["family"]):
                    rule.number = number
                    chain.rules.append(rule)
    return list(chains.values())


def xt_tables(text: str) -> set[tuple[str, str]]:
    """(family, table) of the tables whose rules nft shows as opaque iptables (xt) expressions."""
    out: set[tuple[str, str]] = set()
    try:
        items = json.loads(text).get("nftables", [])
    except (json.JSONDecodeError, AttributeError):
        return out  # parse_nft_json says why
    for item in items:
        rule = item.get("rule")
        if rule and any("xt" in e for e in rule.get("expr", [])):
            out.add((rule["family"], rule["table"]))
    return out


# -- iptables-save ------------------------------------------------------------------------------------------
_IPT_VERDICTS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return", "QUEUE": "queue",
                 "NFQUEUE": "queue"}  # fmt: skip
_IPT_NOVERDICT = {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TRACE", "AUDIT"}


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
            chains[name] = Chain(family, "filter", name, hook, None if policy == "-" else policy.lower())
        elif table == "filter" and line.startswith("-A "):
            try:
                words = shlex.split(line)
            except ValueError:
                words = line.split()
            chain = chains.get(words[1])
            if chain is not None:
                chain.rules.append(_iptables_rule(words[2:], family, set(chains)))
    return list(chains.values())


def _ports(text: str) -> Intervals | None:
    out: Intervals = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        out.append((int(lo), int(hi or lo)))
    return out


def _iptables_rule(words: list[str], family: str, chains: set[str]) -> Rule:
    """An iptables rule as tests + verdict. Options after ``-j TARGET`` belong to the target."""
    tests: list[Test] = []
    verdict, target, negate, module = None, None, False, ""
    i = 0
    while i < len(words):
        w = words[i]
        arg = words[i + 1] if i + 1 < len(words) else ""
        i += 2
        if w == "!":
            negate, i = True, i - 1
            continue
        if w in ("-j", "-g"):
            if arg in _IPT_VERDICTS:
                verdict = _IPT_VERDICTS[arg]
            elif arg in chains:
                verdict, target = ("jump" if w == "-j" else "goto"), arg
            elif arg not in _IPT_NOVERDICT:
                tests.append(always(UNKNOWN, f"target {arg}"))
                verdict = "accept"
            break
        if w in ("-s", "--source"):
            spans = _intervals(arg.split(","), "addr", family)
            tests.append(span_test("saddr", spans, negate, ADDRS[family]) if spans else always(UNKNOWN, f"-s {arg}"))
        elif w in ("-d", "--destination"):
            spans = _intervals(arg.split(","), "addr", family)
            tests.append(local_test(spans, negate, f"-d {arg}") if spans else always(UNKNOWN, f"-d {arg}"))
        elif w in ("-p", "--protocol"):
            tests.append(always(YES) if arg == "all" else name_test({_PROTOCOLS.get(arg, arg)}, negate, "tcp"))
        elif w in ("-i", "--in-interface"):
            tests.append(iface_test({arg}, negate, f"-i {arg}"))
        elif w == "-m":
            module = arg
        elif w in ("--dport", "--sport", "--dports", "--sports", "--destination-port", "--source-port") and module in (
            "tcp", "udp", "multiport"
        ):  # fmt: skip
            spans = _ports(arg)
            dim = "sport" if "sport" in w or "source" in w else "dport"
            tests.append(span_test(dim, spans, negate, PORTS) if spans else always(UNKNOWN, f"{w} {arg}"))
        elif w in ("--ctstate", "--state"):
            tests.append(name_test({s.lower() for s in arg.split(",")}, negate, "new"))
        elif w == "--comment" or (module == "limit" and w in ("--limit", "--limit-burst")):
            if module == "limit":
                tests.append(always(SOME))
        elif module == "addrtype" and w == "--dst-type":
            tests.append(name_test({arg.lower()}, negate, "local"))
        else:
            tests.append(always(UNKNOWN, f"-m {module} {w} {arg}" if w.startswith("--") else f"{w} {arg}"))
        negate = False
    return Rule(tests, verdict, target)


# -- the host's interfaces ----------------------------------------------------------------------------------
def parse_interfaces(lines: list[str]) -> list[str]:
    """Non-loopback interface names from ``ip -o link show`` (``2: eth0@if7: <BROADCAST,...> ...``)."""
    out = []
    for line in lines:
        parts = line.split(": ", 2)
        if len(parts) < 3:
            continue
        name = parts[1].split("@", 1)[0]
        if "LOOPBACK" not in parts[2].split(">", 1)[0]:
            out.append(name)
    return out


def parse_addresses(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    """family -> [(interface, address)] from ``ip -o addr show``."""
    out: dict[str, list[tuple[str, str]]] = {"ip": [], "ip6": []}
    for line in lines:
        words = line.split()
        if len(words) >= 4 and words[2] in ("inet", "inet6"):
            out["ip" if words[2] == "inet" else "ip6"].append((words[1], words[3].split("/")[0]))
    return out


def judge_family(
    rules: Ruleset, family: str, ifaces: list[str] | None, local: tuple[int, ...] | None
) -> tuple[str, str]:
    """Open when the probe is accepted on any real interface, closed when dropped on all of them."""
    verdicts = [(i, *rules.judge(Probe(family, i, local))) for i in (ifaces or [None])]
    for iface, state, why in verdicts:
        if state == "open":
            return "open", f"on {iface}: {why}" if iface else why
    for iface, state, why in verdicts:
        if state == "unknown":
            return "unknown", f"on {iface}: {why}" if iface else why
    return "closed", verdicts[0][2] if len({v[2] for v in verdicts}) == 1 else "; ".join(
        f"on {i}: {w}" for i, _, w in verdicts
    )


def evaluate(
    chains: list[Chain], ifaces: list[str] | None = None, addresses: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, Any]:
    rules = Ruleset(chains)
    result: dict[str, Any] = {}
    for family, label in (("ip", "ipv4"), ("ip6", "ipv6")):
        local = None
        if addresses is not None:
            local = tuple(int(ipaddress.ip_address(a.split("%")[0])) for _, a in addresses[family])
        state, why = judge_family(rules, family, ifaces, local)
        result[f"{label}_state"] = state
        result[f"{label}_why"] = why
        result[f"{label}_effective"] = {"closed": True, "open": False}.get(state)
    result["input_chains"] = [
        {"family": c.family, "table": c.table, "chain": c.name, "policy": c.policy, "prio": c.prio}
        for c in chains
        if c.hook == "input"
    ]
    return result


@register
class FirewallFact(ScriptFact):
    name = "firewall"
    script = SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        stdout = outputs[0].stdout
        lines = stdout.splitlines()
        links = [x[len("@@link ") :] for x in lines if x.startswith("@@link ")]
        addrs = [x[len("@@addr ") :] for x in lines if x.startswith("@@addr ")]
        found = sections("\n".join(x for x in lines if not x.startswith(("@@link ", "@@addr "))))
        chains: list[Chain] = []
        read, failures = [], []
        texts: dict[str, str] = {}
        for tool in ("nft", "iptables-nft-save", "ip6tables-nft-save", "iptables-save", "ip6tables-save",
                     "iptables-legacy-save", "ip6tables-legacy-save"):  # fmt: skip
            if tool not in found:
                continue
            rc_key = next((k for k in found if k.startswith(f"{tool}-rc ")), f"{tool}-rc ?")
            text = "\n".join(found[tool])
            if rc_key.split()[-1] != "0":
                failures.append(f"{tool}: {first_line(text) or 'failed'}")
                continue
            read.append(tool)
            texts[tool] = text
        if not read:
            if failures:
                raise FactUnreadable("cannot read the firewall: " + "; ".join(failures))
            raise FactUnreadable("no firewall tool found (nft, iptables-save)")
        # iptables-nft's own view replaces nft's only for the tables nft cannot show (xt matches)
        opaque = xt_tables(texts["nft"]) if texts.get("nft", "").strip() else set()
        replaced: set[tuple[str, str]] = set()
        for tool, family in (("iptables-nft-save", "ip"), ("ip6tables-nft-save", "ip6"),
                             ("iptables-save", "ip"), ("ip6tables-save", "ip6"),
                             ("iptables-legacy-save", "ip"), ("ip6tables-legacy-save", "ip6")):  # fmt: skip
            if tool not in texts or ("nft-save" in tool and (family, "filter") not in opaque):
                continue
            chains += parse_iptables_save(texts[tool], family)
            if "nft-save" in tool:
                replaced.add((family, "filter"))
        if texts.get("nft", "").strip():
            chains += [c for c in parse_nft_json(texts["nft"]) if (c.family, c.table) not in replaced]
        ifaces = parse_interfaces(links) if links else None
        addresses = parse_addresses(addrs) if addrs else None
        result = evaluate(chains, ifaces, addresses)
        ipv6_used = addresses is None or any(i in (ifaces or [i]) for i, _ in addresses["ip6"])
        v4, v6 = result["ipv4_effective"], result["ipv6_effective"] if ipv6_used else True
        effective = False if False in (v4, v6) else (None if None in (v4, v6) else True)
        parts = [f"IPv4 {result['ipv4_state']}: {result['ipv4_why']}"]
        if ipv6_used:
            parts.append(f"IPv6 {result['ipv6_state']}: {result['ipv6_why']}")
        else:
            parts.append("IPv6 not judged: the host has no IPv6 address on a real interface")
        result.update(
            {
                "tools_read": read,
                "tools_failed": failures,
                "interfaces": ifaces,
                "ipv6_judged": ipv6_used,
                "loaded": bool(result["input_chains"]),
                "effective": effective,
                "summary": "; ".join(parts) if result["input_chains"] else "no input chain is loaded",
            }
        )
        return result
