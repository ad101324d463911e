"""Raw ClientHello answers and certificates captured from the lab portals (tests/unit/data/network)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.network import http, tls

DATA = Path(__file__).parent / "data" / "network"
CAPTURED = datetime(2026, 11, 23, 18, 8, tzinfo=UTC)


def answer(name: str) -> tls.HelloAnswer:
    return tls.parse_server_answer((DATA / f"hello-{name}.bin").read_bytes())


def test_good_portal_refuses_legacy_and_weak() -> None:
    assert answer("portal1-ssl3") == tls.HelloAnswer("alert", alert="handshake_failure")
    assert answer("portal1-tls10") == tls.HelloAnswer("alert", alert="protocol_version")
    assert answer("portal1-weak").outcome == "alert"


def test_bad_portal_accepts_tls10_and_a_null_suite() -> None:
    tls10 = answer("portalbad1-tls10")
    assert (tls10.outcome, tls10.version_name) == ("accepted", "TLSv1.0")
    weak = answer("portalbad1-weak")
    assert weak.outcome == "accepted" and tls.WEAK_SUITES[weak.suite] == "ECDHE-ECDSA-NULL-SHA"
    assert answer("portalbad1-ssl3").outcome == "alert"  # OpenSSL 3 has no SSLv3 at all


def test_partial_and_empty_answers() -> None:
    data = (DATA / "hello-portalbad1-tls10.bin").read_bytes()
    assert tls.parse_server_answer(b"").outcome == "closed"
    assert tls.parse_server_answer(data[:20]).outcome != "accepted"  # a cut ServerHello proves nothing
    assert tls.parse_server_answer(b"HTTP/1.1 400 Bad Request\r\n").outcome == "garbage"


def test_client_hello_shape() -> None:
    hello = tls.client_hello(tls.TLS12, [0xC02B], "portal.example.gov.vn", random=bytes(32))
    kind, record_version, length = struct.unpack("!BHH", hello[:5])
    assert (kind, record_version, length) == (22, tls.TLS10, len(hello) - 5)
    assert hello[5] == 1 and hello[9:11] == b"\x03\x03"
    assert b"portal.example.gov.vn" in hello
    assert b"10.0.0.5" not in tls.client_hello(tls.TLS12, [0xC02B], "10.0.0.5")  # no SNI for an address
    assert tls.client_hello(tls.SSL3, [0x002F])[1:3] == b"\x03\x00"


def test_certificate_fields_and_expiry() -> None:
    good = tls.certificate_fields((DATA / "cert-portal1.der").read_bytes(), CAPTURED)
    assert good["issuer"] == "CN=auditor lab CA,O=auditor lab" and not good["self_signed"]
    assert not good["expired"] and 360 <= good["days_left"] <= 365
    bad = tls.certificate_fields((DATA / "cert-portalbad1.der").read_bytes(), CAPTURED)
    assert bad["self_signed"] and bad["expired"] and bad["days_left"] < 0
    assert bad["san_dns"] == ["portalbad1"] and len(bad["san_ip"]) == 1


@pytest.mark.parametrize(
    ("name", "dns", "ips", "ok"),
    [
        ("portal.gov.vn", ["portal.gov.vn"], [], True),
        ("www.portal.gov.vn", ["*.portal.gov.vn"], [], True),
        ("a.b.portal.gov.vn", ["*.portal.gov.vn"], [], False),
        ("portal.gov.vn", ["*.gov.vn"], [], True),
        ("vn", ["*.vn"], [], False),
        ("10.0.0.5", ["10.0.0.5"], [], False),  # an address must be an IP SAN
        ("10.0.0.5", [], ["10.0.0.5"], True),
    ],
)
def test_hostname_matches(name: str, dns: list[str], ips: list[str], ok: bool) -> None:
    assert tls.hostname_matches(name, dns, ips) is ok


def test_report_facts_never_pass_what_was_not_probed() -> None:
    report = tls.TlsReport("10.0.0.5", 443, "10.0.0.5", listening=True, modern=["TLSv1.2"])
    report.legacy = {"SSLv3": "refused (alert)", "TLSv1.0": "error: timed out", "TLSv1.1": "refused (alert)"}
    report.weak_error = "timed out"
    facts = tls.report_facts(report)
    assert facts["legacy_accepted"] is None and facts["weak_ciphers"] is None  # unknown, not "empty"
    assert facts["issuer_trusted"] is None  # no certificate seen
    report.legacy["TLSv1.1"] = "accepted (TLSv1.1)"
    assert tls.report_facts(report)["legacy_accepted"] == ["TLSv1.1"]  # one definite "yes" decides


def test_http_judging() -> None:
    redirect = http.HttpAnswer("http://x/", 301, {"location": "https://x/"})
    page = http.HttpAnswer("http://x/", 200, {}, b'<form><input type="password" name=p></form>')
    basic = http.HttpAnswer("http://x/", 401, {"www-authenticate": 'Basic realm="admin"'})
    down = http.HttpAnswer("http://x/", error="connection refused", refused=True)
    assert http.redirects_to_https(redirect) and http.login_in_clear(redirect) is None
    assert "login form" in http.login_in_clear(page) and "credentials" in http.login_in_clear(basic)
    assert http.redirects_to_https(down) is None
    assert http.hsts(http.HttpAnswer("https://x/", 200, {"strict-transport-security": "max-age=0"}))["hsts"] is False
    assert http.portal_facts(http.HttpAnswer("https://x/", 200), down)["http_listening"] is False
