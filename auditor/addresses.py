"""Strict parsing of every address the auditor contacts: host addresses, scan targets, URLs, ports.

A value that reaches nmap, ssh, a socket or a URL is first parsed here into one of:

- an IP address. IPv6 scope ids (``fe80::1%eth0``) only on link-local addresses, where
  they mean something, and only as an interface name (letters, digits, ``_ . -``, not
  first, at most 15 characters: Linux's IFNAMSIZ) or an interface index;
- a CIDR network (scan targets only);
- a DNS host name by its grammar: dot-separated labels of letters, digits, ``-`` and
  ``_`` (``-`` not first nor last in a label), a letter in the last label (so
  ``10.0.0.1-50``, nmap's range syntax, is no name).

Nothing else passes: no spaces, no leading ``-``, no shell or nmap syntax. The canonical
text returned is what callers hand on, each value as its own argument.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\.?$){_LABEL}(?:\.{_LABEL})*\.?")
_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
_LINK_LOCAL = ipaddress.ip_network("fe80::/10")
# What a URL's path and query may hold: RFC 3986 unreserved, percent-escapes, and the
# delimiters a portal path needs; no shell metacharacter (; | & $ ` ' " < > ( ) \ space).
_URL_PATH = re.compile(r"[A-Za-z0-9._~%/:@+,=-]*")
_URL_QUERY = re.compile(r"[A-Za-z0-9._~%/:@+,=?-]*")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,31}")


class AddressError(ValueError):
    """The text is not an address the auditor may use; the message says why."""


def ip(text: str) -> str | None:
    """The canonical IP (with a vetted scope id), None when ``text`` is no IP; AddressError for a bad scope."""
    address, sep, scope = text.partition("%")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if not sep:
        return str(parsed)
    if parsed.version != 6 or parsed not in _LINK_LOCAL:
        raise AddressError(f"{text!r}: a scope id (%...) only goes with an IPv6 link-local address (fe80::/10)")
    if not _SCOPE.fullmatch(scope):
        raise AddressError(f"{text!r}: the scope id must be an interface name (letters, digits, _ . -) or index")
    return f"{parsed}%{scope}"


def is_hostname(text: str) -> bool:
    if not _HOSTNAME.fullmatch(text):
        return False
    last = text.rstrip(".").rsplit(".", 1)[-1]
    return any(ch.isalpha() for ch in last)  # "10.0.0.300" and "10.0.0.1-50" are not names


def host(value: object) -> str:
    """An IP or a DNS name, canonical; AddressError otherwise."""
    text = str(value).strip() if value is not None else ""
    found = ip(text)
    if found is not None:
        return found
    if is_hostname(text):
        return text
    raise AddressError(f"{text!r} is not an IP address or a host name")


def target(value: object) -> str:
    """A scan target: an IP, a CIDR network or a DNS name, canonical; AddressError otherwise."""
    text = str(value).strip() if value is not None else ""
    refused = AddressError(
        f"{text!r} is not an IP address, a host name or a CIDR network (nmap range syntax and options are refused)"
    )
    if "/" in text:
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise refused from None
    try:
        return host(text)
    except AddressError:
        if "%" in text:
            raise  # the scope id's own message says more
        raise refused from None


def port(value: object) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise AddressError(f"{value!r} is not a port number (1-65535)")
    return int(text)


def bracket(address: str) -> str:
    """The address as a URL's or known_hosts' host part: IPv6 in brackets."""
    return f"[{address}]" if ":" in address else address


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str  # canonical, from ``host()``
    port: int
    path: str
    query: str = ""
    user: str | None = None

    @property
    def netloc(self) -> str:
        return bracket(self.host) + (f":{self.port}" if self.port != DEFAULT_PORTS.get(self.scheme) else "")

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{user}{self.netloc}{self.path}" + (f"?{self.query}" if self.query else "")


DEFAULT_PORTS = {"https": 443, "http": 80, "sftp": 22, "smb": 445, "ftps": 21}


def url(value: object, schemes: tuple[str, ...], allow_user: bool = False) -> Url:
    """A URL of one of ``schemes`` with a strict host, a port 1-65535, and a path and query free of
    shell metacharacters; no password, no fragment. AddressError otherwise."""
    text = str(value).strip() if value is not None else ""
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise AddressError(f"{text!r}: a URL holds no spaces or control characters")
    try:
        parts = urlsplit(text)
        parsed_port = parts.port
    except ValueError as exc:
        raise AddressError(f"{text!r} is not a URL: {exc}") from None
    if parts.scheme not in schemes:
        raise AddressError(f"{text!r}: expected a {' or '.join(s + '://' for s in schemes)} URL")
    netloc_host = parts.netloc.rpartition("@")[2]
    raw_host = netloc_host[1:].partition("]")[0] if netloc_host.startswith("[") else netloc_host.partition(":")[0]
    if not raw_host:
        raise AddressError(f"{text!r}: no host")
    if "%" in raw_host:
        raise AddressError(f"{text!r}: no scope id (%...) in a URL's host")
    try:
        canonical = host(raw_host)
    except AddressError as exc:
        raise AddressError(f"{text!r}: host {exc}") from None
    if ":" in canonical and not netloc_host.startswith("["):
        raise AddressError(f"{text!r}: an IPv6 address goes in brackets")
    if netloc_host.startswith("[") and ":" not in canonical:
        raise AddressError(f"{text!r}: only an IPv6 address goes in brackets")
    if parts.password is not None:
        raise AddressError(f"{text!r}: a password in the URL is not accepted")
    user = parts.username
    if user is not None and (not allow_user or not _USER.fullmatch(user)):
        raise AddressError(
            f"{text!r}: " + ("no user name allowed here" if not allow_user else f"user {user!r} is not a login name")
        )
    if "@" in parts.netloc and user is None:
        raise AddressError(f"{text!r}: empty user name")
    # The text after the host must be exactly ":<digits>" or nothing ("h:22;x" fails here too).
    rest = netloc_host[len(raw_host) + 2 :] if netloc_host.startswith("[") else netloc_host[len(raw_host) :]
    if rest and not re.fullmatch(r":[0-9]{1,5}", rest):
        raise AddressError(f"{text!r}: after the host only :PORT may follow")
    if parsed_port is not None and not 1 <= parsed_port <= 65535:
        raise AddressError(f"{text!r}: port {parsed_port} is not 1-65535")
    if parts.fragment or "#" in text:
        raise AddressError(f"{text!r}: no #fragment allowed")
    if not _URL_PATH.fullmatch(parts.path) or not _URL_QUERY.fullmatch(parts.query):
        raise AddressError(f"{text!r}: the path or query holds characters a URL does not need (quotes, ;, |, &, $ ...)")
    return Url(
        parts.scheme, canonical, parsed_port or DEFAULT_PORTS[parts.scheme], parts.path or "/", parts.query, user
    )
