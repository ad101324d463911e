"""results.json itself, in the version it was read (``auditor.results/2``, or an older one as it is).

Renderers receive a document already validated against the published schema (``auditor run``
validates before it writes, ``auditor report`` when it loads), so it is not validated twice:
on a 3,176-host run validation alone takes most of a minute.
"""

from __future__ import annotations

import json
from typing import Any


def render_json(results: dict[str, Any], lang: str = "vi", previous: dict[str, Any] | None = None) -> str:
    """``lang`` and ``previous`` do not change the document: it is the data, not a view of it."""
    return json.dumps(results, ensure_ascii=False, indent=1) + "\n"
