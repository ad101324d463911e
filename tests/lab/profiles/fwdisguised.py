"""fwdisguised: the loaded input chain says ``policy drop`` and has no bare ``accept``, but a rule that
matches every new TCP connection, written as a condition, accepts before the drop.

A reader of lines ("policy drop present", "no unconditional accept") passes it. The loaded ruleset:
``iifname "eth0" jump allow`` (eth0 is the interface this host's traffic arrives on) and, in ``allow``,
``tcp dport 1-65535 counter accept`` (every port). A new TCP connection to any port, IPv4 or IPv6, is
accepted (ICMPv6 is accepted too, as IPv6 neighbour discovery needs): the kernel accepts it
(tests/lab/test_firewall_semantics.py connects to prove it).
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "fwdisguised"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = {**compliant.EXPECTED, "PT-FIREWALL": "fail"}
REASONS = {"PT-FIREWALL": "policy drop, but iifname eth0 jumps to a chain accepting tcp dport 1-65535"}

RULESET = """table inet filter {
\tchain allow {
\t\ttcp dport 1-65535 counter accept comment "services"
\t}
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tiif "lo" accept
\t\tct state established,related accept
\t\tmeta l4proto ipv6-icmp accept
\t\ttcp dport 22 accept
\t\tiifname "eth0" jump allow
\t}
}
"""


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.nftables(root, RULESET)
