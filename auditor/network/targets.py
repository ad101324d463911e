"""Safety of the network phase: what may be contacted, decided before anything is.

Only addresses named by the inventory (a host's address) or by a parameter the
playbook or inventory sets (``log_server``, ``file_server``, ``portal_url``) are
ever contacted. An address is a single IP, a host name (nmap resolves it, as named),
or a CIDR network no wider than /16 (IPv6: /112) unless ``--allow-wide-scan``; the
grammar is ``auditor.addresses``'. Anything else (nmap range syntax, option-looking
text, spaces, a scope id that is not an interface name) is refused.
"""

from __future__ import annotations

import ipaddress

from auditor import addresses
from auditor.errors import InputError

WIDEST_V4, WIDEST_V6 = 16, 112


def vet(address: str, allow_wide: bool = False, where: str = "") -> str:
    """The address as nmap will get it (one argument of its own), or InputError saying why it may not be scanned."""
    label = f"{where}: " if where else ""
    try:
        text = addresses.target(address)
    except addresses.AddressError as exc:
        raise InputError(f"{label}{exc}") from None
    if "/" in text:
        net = ipaddress.ip_network(text)
        widest = WIDEST_V4 if net.version == 4 else WIDEST_V6
        if net.prefixlen < widest and not allow_wide:
            raise InputError(
                f"{label}{address!r} is wider than /{widest} ({net.num_addresses} addresses): "
                "refused without --allow-wide-scan"
            )
    return text


def covers(target: str, address: str) -> bool:
    """Does scan target ``target`` (address, name or network) stand for ``address`` as nmap reported it?"""
    if target == address:
        return True
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(target, strict=False)
    except ValueError:
        return False
