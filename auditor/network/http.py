"""HTTP from the auditor: HSTS, the HTTP -> HTTPS redirect, and clear-text login pages.

One request per question, no redirect followed, no cookie kept, a few KB of body read.
The certificate is judged by ``tls.py``; here TLS verification is off so that a bad
certificate does not hide the headers.
"""

from __future__ import annotations

import http.client
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from auditor.addresses import Url

BODY_LIMIT = 65536
_PASSWORD_INPUT = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)
_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass
class HttpAnswer:
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    error: str | None = None  # could not connect / no answer
    refused: bool = False  # connection refused: nothing listens

    def line(self) -> str:
        if self.error:
            return f"GET {self.url}: {self.error}"
        keep = ("location", "strict-transport-security", "www-authenticate", "server")
        shown = "; ".join(f"{k}: {v}" for k, v in self.headers.items() if k in keep)
        return f"GET {self.url}: {self.status}" + (f" ({shown})" if shown else "")


def fetch(url: Url, address: str, timeout: float = 5.0) -> HttpAnswer:
    """GET ``url`` (parsed by ``addresses.url``) from ``address`` (the inventory's address: the URL's
    host is only sent as Host:)."""
    https = url.scheme == "https"
    port = url.port
    answer = HttpAnswer(str(url))
    if https:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(address, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.putrequest("GET", url.path + (f"?{url.query}" if url.query else ""), skip_host=True)
        conn.putheader("Host", url.netloc)
        conn.putheader("User-Agent", "auditor (ISO/IEC 27001 compliance probe)")
        conn.endheaders()
        resp = conn.getresponse()
        answer.status = resp.status
        answer.headers = {k.lower(): v for k, v in resp.getheaders()}
        answer.body = resp.read(BODY_LIMIT)
    except ConnectionRefusedError:
        answer.refused, answer.error = True, "connection refused"
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        answer.error = str(exc) or type(exc).__name__
    finally:
        conn.close()
    return answer


# --- judging (pure) -------------------------------------------------------------------------


def hsts(answer: HttpAnswer) -> dict[str, Any]:
    """HSTS present with a positive max-age; None when there was no answer to read it from."""
    if answer.status is None:
        return {"hsts": None, "hsts_header": ""}
    header = answer.headers.get("strict-transport-security", "")
    match = _MAX_AGE.search(header)
    return {"hsts": bool(match and int(match.group(1)) > 0), "hsts_header": header or "(no Strict-Transport-Security)"}


def redirects_to_https(answer: HttpAnswer) -> bool | None:
    if answer.status is None:
        return None
    location = answer.headers.get("location", "")
    return answer.status in (301, 302, 303, 307, 308) and location.lower().startswith("https://")


def login_in_clear(answer: HttpAnswer) -> str | None:
    """Why a clear-text HTTP answer is an admin/login page (credentials would cross in clear), else None."""
    if answer.status is None or redirects_to_https(answer):
        return None
    if answer.status == 401 and "www-authenticate" in answer.headers:
        return f"asks for credentials over clear-text HTTP ({answer.headers['www-authenticate'][:60]})"
    if _PASSWORD_INPUT.search(answer.body):
        return "serves a login form (password field) over clear-text HTTP"
    return None


def portal_facts(https_answer: HttpAnswer, http_answer: HttpAnswer) -> dict[str, Any]:
    return {
        **hsts(https_answer),
        "https_status": https_answer.status,
        "http_listening": False if http_answer.refused else (True if http_answer.status is not None else None),
        "redirects_to_https": redirects_to_https(http_answer),
        "http_answer": http_answer.line(),
    }
