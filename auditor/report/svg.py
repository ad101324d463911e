"""Geometry of the inline SVG charts, computed here so the template only writes numbers.

Charts are drawn on the server: no script and no external resource is needed to see them,
and they print. Only numbers and verdict ids (a closed set) reach SVG attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.report.view import VERDICTS

BAR_WIDTH = 200.0
DONUT_RADIUS = 15.9155  # circumference 100: a dash length is a percentage


@dataclass(frozen=True)
class Segment:
    verdict: str
    x: float
    width: float
    count: int


def stacked_bar(counts: dict[str, int], width: float = BAR_WIDTH) -> list[Segment]:
    """One bar split by verdict, in report order; empty verdicts are left out."""
    total = sum(counts.get(v, 0) for v in VERDICTS)
    segments: list[Segment] = []
    x = 0.0
    for verdict in VERDICTS:
        n = counts.get(verdict, 0)
        if not n or not total:
            continue
        w = round(width * n / total, 2)
        segments.append(Segment(verdict, round(x, 2), w, n))
        x += w
    return segments


def bar_length(value: float | None, width: float = BAR_WIDTH) -> float:
    """Length of a 0-100 score bar."""
    return 0.0 if value is None else round(width * max(0.0, min(100.0, value)) / 100, 2)


def donut_dash(value: float | None) -> str:
    """``stroke-dasharray`` of a donut whose circumference is 100."""
    v = 0.0 if value is None else max(0.0, min(100.0, value))
    return f"{v:.1f} {100 - v:.1f}"


def score_band(value: float | None) -> str:
    """Colour band of a score (CSS class suffix)."""
    if value is None:
        return "none"
    if value >= 90:
        return "good"
    return "fair" if value >= 60 else "poor"


TREND_WIDTH, TREND_HEIGHT = 300.0, 80.0


@dataclass(frozen=True)
class TrendPoint:
    run: str
    started: str
    score: float | None
    x: float
    y: float | None


@dataclass(frozen=True)
class TrendLine:
    points: list[TrendPoint]
    path: str  # the polyline's ``points`` attribute: numbers only
    width: float = TREND_WIDTH
    height: float = TREND_HEIGHT


def trend_line(runs: list[dict[str, Any]], width: float = TREND_WIDTH, height: float = TREND_HEIGHT) -> TrendLine:
    """The score (0-100, y grows downwards) of each run, oldest on the left; a run without a score is a gap."""
    step = width / max(len(runs) - 1, 1)
    points = []
    for i, run in enumerate(runs):
        value = run.get("score")
        y = None if value is None else round(height - height * max(0.0, min(100.0, float(value))) / 100, 2)
        points.append(TrendPoint(str(run["id"]), str(run["started"]), value, round(i * step, 2), y))
    path = " ".join(f"{p.x},{p.y}" for p in points if p.y is not None)
    return TrendLine(points, path, width, height)
