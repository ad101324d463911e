"""One script per host: every snippet the playbook needs, once, between unforgeable markers.

The cost of an agentless audit is round trips (design §7), so a host gets exactly
one exec. Each snippet runs under ``timeout`` (when the host has it) so one slow
fact cannot sink the host, with its stdout and stderr kept apart. Markers carry a
random nonce chosen per run: output from the host cannot forge a boundary. Standard output
streams straight back; stderr goes through a file, read only when something was written.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from auditor.facts.base import RawOutput, quote

STDERR_LIMIT = 64 * 1024

_PRELUDE = """\
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
LC_ALL=C; export LC_ALL; umask 077
_d=$(mktemp -d 2>/dev/null) || {{ _d=/tmp/.auditor.$$; mkdir -m 700 "$_d" || exit 70; }}
trap 'rm -rf "$_d"' EXIT
if command -v timeout >/dev/null 2>&1; then _to="timeout -k 2 {timeout}"; else _to=""; fi
_run() {{
  printf '\\n{m} BEGIN %s\\n' "$1"
  $_to /bin/sh -c "$2" </dev/null 2>"$_d/e$1"; _rc=$?
  printf '\\n{m} STDERR %s\\n' "$1"; [ -s "$_d/e$1" ] && head -c {err_limit} "$_d/e$1"
  printf '\\n{m} END %s %s\\n' "$1" "$_rc"
}}
"""


@dataclass(frozen=True)
class Batch:
    nonce: str
    snippets: list[str]  # index = snippet id
    script: str


def build(snippets: list[str], timeout: int = 30, nonce: str | None = None, parallel: bool = False) -> Batch:
    """The script for a list of distinct snippets (deduplicate before calling).

    ``parallel``: run the snippets at once, each into its own file, then print them in order. Lower
    latency for one host (a few more forks on it); the engine uses it when it has hosts to spare.
    """
    nonce = nonce or secrets.token_hex(8)
    marker = f"@@AUDITOR-{nonce}"
    lines = [_PRELUDE.format(timeout=int(timeout), m=marker, err_limit=STDERR_LIMIT)]
    if parallel:
        lines += [f'_run {i} {quote(snippet)} > "$_d/s{i}" &' for i, snippet in enumerate(snippets)]
        lines += ["wait", "cat " + " ".join(f'"$_d/s{i}"' for i in range(len(snippets)))] if snippets else []
    else:
        lines += [f"_run {i} {quote(snippet)}" for i, snippet in enumerate(snippets)]
    return Batch(nonce=nonce, snippets=list(snippets), script="\n".join(lines) + "\n")


def split(batch: Batch, stdout: str) -> dict[int, RawOutput]:
    """Raw output per snippet id; snippets that never reached their END marker are absent."""
    marker = re.escape(f"@@AUDITOR-{batch.nonce}")
    pattern = re.compile(rf"\n{marker} BEGIN (\d+)\n(.*?)\n{marker} STDERR \1\n(.*?)\n{marker} END \1 (\d+)\n", re.S)
    results: dict[int, RawOutput] = {}
    for m in pattern.finditer("\n" + stdout):
        rc = int(m.group(4))
        # timeout(1) exits 124 when it killed the snippet (137 after -k).
        results[int(m.group(1))] = RawOutput(stdout=m.group(2), stderr=m.group(3), rc=rc, timed_out=rc in (124, 137))
    return results
