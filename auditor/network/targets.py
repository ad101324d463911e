"""Safety of the network phase: what may be contacted, decided before anything is.

Only addresses named by the inventory (a host's address) or by a parameter the
playbook or inventory sets (``log_server``, ``file_server``, ``portal_url``) are
ever contacted. An address is a single IP, a host name (nmap resolves it, as named),
or a CIDR network no wider than /16 (IPv6: /112) unless ``--allow-wide-scan``.
Anything else (nmap range syntax, option-looking text, spaces) is refused: it
would reach nmap's command line.
"""

from __future__ import annotations

import ipaddress
import re

from auditor.errors import InputError

WIDEST_V4, WIDEST_V6 = 16, 112
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$")


def vet(address: str, allow_wide: bool = False, where: str = "") -> str:
    """The address as nmap will get it, or InputError saying why it may not be scanned."""
    text = str(address).strip()
    label = f"{where}: " if where else ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InputError(f"{label}{address!r} is not an address, a host name or a CIDR network") from None
        widest = WIDEST_V4 if net.version == 4 else WIDEST_V6
        if net.prefixlen < widest and not allow_wide:
            raise InputError(
                f"{label}{address!r} is wider than /{widest} ({net.num_addresses} addresses): "
                "refused without --allow-wide-scan"
            )
        return str(net)
    # A name's last label has a letter (RFC 3696): "10.0.0.1-50" is nmap range syntax, not a name.
    if _HOSTNAME.match(text) and any(ch.isalpha() for ch in text.rstrip(".").rsplit(".", 1)[-1]):
        return text
    raise InputError(f"{label}{address!r} is not an address, a host name or a CIDR network (nmap range syntax "
                     "and options are refused)")


def covers(target: str, address: str) -> bool:
    """Does scan target ``target`` (address, name or network) stand for ``address`` as nmap reported it?"""
    if target == address:
        return True
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(target, strict=False)
    except ValueError:
        return False
