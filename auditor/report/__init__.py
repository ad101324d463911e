"""Renderers by format name. A new format = one module + one entry in RENDERERS.

A renderer takes a results.json document (already validated), the language of its
words and optionally the previous run's document, and returns the file's text.
"""

from __future__ import annotations

from typing import Any, Protocol

from auditor.report.csvfmt import render_csv
from auditor.report.html import render_html
from auditor.report.jsonfmt import render_json
from auditor.report.junit import render_junit


class Renderer(Protocol):
    def __call__(self, results: dict[str, Any], lang: str = ..., previous: dict[str, Any] | None = ...) -> str: ...


RENDERERS: dict[str, Renderer] = {
    "html": render_html,
    "json": render_json,
    "csv": render_csv,
    "junit": render_junit,
}
