"""The networks a worker may reach: a host outside them is refused, never contacted.

A misused broker (anyone who can write a task) must not turn workers into scanners of other
networks: every address of a task is parsed strictly, and a DNS name is resolved here and
every one of its addresses must be inside the allowed networks.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

from auditor import addresses
from auditor.errors import InputError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], list[str]]


def parse_networks(values: Iterable[str]) -> list[Network]:
    """``--allow-net`` values: CIDR networks without host bits (a bare address is its /32 or /128)."""
    networks: list[Network] = []
    for value in values:
        text = value.strip()
        try:
            canonical = addresses.target(text)
            if "/" not in canonical and addresses.ip(canonical) is None:
                raise addresses.AddressError(f"{text!r} is a name: give a network (CIDR)")
            networks.append(ipaddress.ip_network(text.split("%")[0], strict=True))
        except (addresses.AddressError, ValueError) as exc:
            raise InputError(f"{exc}", field="--allow-net") from None
    if not networks:
        raise InputError("give the networks this worker may audit (--allow-net CIDR, repeatable)", field="--allow-net")
    return networks


def resolve(name: str) -> list[str]:
    infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def refusal(address: str, networks: list[Network], resolver: Resolver = resolve) -> str | None:
    """Why ``address`` may not be audited by this worker, or None when every address it means is allowed."""
    allowed = ", ".join(map(str, networks))
    try:
        canonical = addresses.target(address)
    except addresses.AddressError as exc:
        return f"refused by this worker: {exc}"
    if "/" in canonical:
        net = ipaddress.ip_network(canonical)
        if any(net.version == n.version and net.subnet_of(n) for n in networks):  # type: ignore[arg-type]
            return None
        return f"refused by this worker: network {canonical} is not inside its allowed networks ({allowed})"
    if addresses.ip(canonical) is not None:
        found = [canonical.split("%")[0]]
    else:
        try:
            found = resolver(canonical)
        except OSError as exc:
            return f"refused by this worker: {canonical} does not resolve ({exc})"
        if not found:
            return f"refused by this worker: {canonical} resolves to no address"
    outside = [a for a in found if not _inside(ipaddress.ip_address(a), networks)]
    if outside:
        what = canonical if outside == [canonical] else f"{canonical} ({', '.join(outside)})"
        return f"refused by this worker: {what} is outside its allowed networks ({allowed})"
    return None


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: list[Network]) -> bool:
    """An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is a connection to its IPv4 address: judged as that."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in n for n in networks)
