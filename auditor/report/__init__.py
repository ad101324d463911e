"""Renderers by format name. A new format = one module + one entry in RENDERERS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.report.html import render_html

RENDERERS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "html": render_html,
}
