"""The report's part fed by the history: since the last run (new failures, fixed, new errors, host keys)
and the score trend, drawn as inline SVG with numbers only."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from auditor.report.html import render_html
from auditor.report.svg import trend_line

FIXTURE = Path(__file__).parent / "data" / "report" / "results.json"
KEY_A = "ssh-ed25519 SHA256:" + "A" * 43
KEY_B = "ssh-ed25519 SHA256:" + "B" * 43


@pytest.fixture
def pair() -> tuple[dict, dict]:
    now = json.loads(FIXTURE.read_text(encoding="utf-8"))
    before = copy.deepcopy(now)
    before["run"]["id"] = "earlier-run"
    web_before = next(h for h in before["hosts"] if h["name"] == "web01")
    web_now = next(h for h in now["hosts"] if h["name"] == "web01")
    fail_now = next(r for r in web_now["results"] if r["status"] == "fail")
    fail_before = next(r for r in web_before["results"] if r["check"] == fail_now["check"])
    fail_before["status"] = "pass"  # a new failure
    pass_now = next(r for r in web_now["results"] if r["status"] == "pass")
    next(r for r in web_before["results"] if r["check"] == pass_now["check"])["status"] = "fail"  # fixed
    web_before["host_key"], web_now["host_key"] = KEY_A, KEY_B
    return before, now


def count(html: str, ident: str) -> str:
    found = re.search(f'id="{ident}">([^<]*)<', html)
    assert found, ident
    return found.group(1)


def test_since_the_last_run_counts_what_moved(pair: tuple[dict, dict]) -> None:
    before, now = pair
    html = render_html(now, "en", before)
    assert 'id="since-last-run"' in html
    assert count(html, "since-new-failures") == "1" and count(html, "since-fixed") == "1"
    assert count(html, "since-host-keys") == "1" and KEY_A in html and KEY_B in html
    assert "Since the last run" in html
    assert "Kể từ lần kiểm tra trước" in render_html(now, "vi", before)


def test_no_previous_run_no_section(pair: tuple[dict, dict]) -> None:
    _, now = pair
    html = render_html(now, "en")
    assert 'id="since-last-run"' not in html and 'id="trend-chart"' not in html


def test_trend_is_an_inline_svg_of_numbers(pair: tuple[dict, dict]) -> None:
    before, now = pair
    runs = [
        {"id": f"r{n}<b>", "started": f"2026-01-0{n + 1}T00:00:00Z", "score": s} for n, s in enumerate([40, None, 100])
    ]
    html = render_html(now, "en", before, trend=runs)
    chart = html[html.index('id="trend-chart"') : html.index("</svg>", html.index('id="trend-chart"'))]
    points = re.search(r'<polyline points="([^"]*)"', chart)
    assert points and points.group(1) == "0.0,48.0 300.0,0.0"  # 40 % and 100 % high; the run without a score is a gap
    assert "r0&lt;b&gt;" in chart and "<b>" not in chart
    assert 'id="trend-chart"' not in render_html(now, "en", before, trend=runs[:1])  # one run is no trend


def test_trend_line_geometry() -> None:
    line = trend_line([{"id": "a", "started": "s", "score": 0}, {"id": "b", "started": "s", "score": 50}], 100, 10)
    assert line.path == "0.0,10.0 100.0,5.0"
