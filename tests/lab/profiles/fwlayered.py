"""fwlayered: looks open, is closed.

/etc/nftables.conf is Debian's stock file (``policy accept`` everywhere, no drop): a reader of that
file fails the host, but it is not what is loaded. Init loads /etc/firewall/layers.nft: a first base
chain on the input hook (priority -10) that accepts everything, and a second one (priority 10) with
``policy drop`` whose wide-looking accepts are limited to loopback (``iifname "lo" tcp dport 1-65535``),
to TEST-NET sources, or to ports 8000-8999. A packet must pass every base chain of the hook, so a new TCP
connection to another port from an arbitrary address is dropped (the kernel drops it:
tests/lab/test_firewall_semantics.py connects to prove it).
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "fwlayered"
DAEMONS = compliant.DAEMONS
LAYERS = "/etc/firewall/layers.nft"
INIT = (f"/usr/sbin/nft -f {LAYERS} || echo 'lab-init: nft failed'", *compliant.INIT[1:])
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}

STOCK = """table inet filter {
\tchain input {
\t\ttype filter hook input priority filter;
\t}
\tchain forward {
\t\ttype filter hook forward priority filter;
\t}
\tchain output {
\t\ttype filter hook output priority filter;
\t}
}
"""

RULESET = """#!/usr/sbin/nft -f
flush ruleset

table inet admin {
\tchain input {
\t\ttype filter hook input priority -10; policy accept;
\t\taccept comment "admin layer: nothing is filtered here"
\t}
}
table inet filter {
\tchain input {
\t\ttype filter hook input priority 10; policy drop;
\t\tiifname "lo" tcp dport 1-65535 accept
\t\tct state established,related accept
\t\tmeta l4proto ipv6-icmp accept
\t\ttcp dport 22 accept
\t\tip saddr 192.0.2.0/24 tcp dport 1-65535 accept
\t\ttcp dport 8000-8999 accept
\t}
}
"""


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.nftables(root, STOCK)
    c.write(root, LAYERS, RULESET, 0o644)
