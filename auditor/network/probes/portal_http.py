"""``portal_http``: HSTS on the portal (``url``, default https://<address>/) and its http:// -> https:// redirect."""

from __future__ import annotations

from typing import Any

from auditor import addresses
from auditor.model import Host
from auditor.network.probes.base import (
    ProbeType,
    Reading,
    Target,
    params_schema,
    parse_portal_url,
    portal_url,
    register,
)


@register
class PortalHttp(ProbeType):
    name = "portal_http"
    params_schema = params_schema([], ["url"])
    parsers = {"url": parse_portal_url}

    def scan_ports(self, host: Host, params: dict[str, Any]) -> list[int]:
        return [portal_url(host, params).port]

    def contacts(self, host: Host, params: dict[str, Any]) -> dict[str, str]:
        return {"url": portal_url(host, params).host}

    def probe(self, target: Target) -> Reading:
        from auditor.network import http

        url, address, timeout = portal_url(target.host, target.params), target.host.address, target.run.timeout
        secure = http.fetch(url, address, timeout)
        if secure.status is None:
            return Reading(None, f"{url}: {secure.error}", f"GET {url}", [secure.line()], None)
        clear_url = addresses.Url("http", url.host, 80, url.path)
        clear = http.fetch(clear_url, address, timeout)
        lines = [secure.line(), clear.line()]
        return Reading(http.portal_facts(secure, clear), None, f"GET {url}; GET {clear_url}", lines)
