"""PT-LOG by outcome: a unique marker sent with ``logger`` on each host must appear on the log server.

Markers travel in the scripts the transports send on stdin, so they are never on a
command line (``ps``, sudo's log) where a search on the log server could find them
without any log having arrived. The log server is searched over SSH (it must be an
inventory host) in recent files under ``log_marker_paths``, every second, until every
marker is found or ``log_marker_wait`` seconds pass.
"""

from __future__ import annotations

import re
import secrets
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from auditor.facts.base import UnsafeValue, path_arg
from auditor.model import Host
from auditor.transports import ConnectOptions, HostError, open_transport, sudo_refusal

TAG = "auditor-marker"
_MARKER = re.compile(r"auditor-marker-[A-Za-z0-9._-]+")


def new_marker(run_token: str, host_name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", host_name)[:40]
    return f"{TAG}-{run_token}-{safe}-{secrets.token_hex(4)}"


def send_script(marker: str) -> str:
    return f'logger -t {TAG} -p user.notice {shlex.quote(marker)}; echo "logger rc=$?"\n'


def search_script(markers: list[str], paths: list[str], minutes: int = 120) -> str:
    """The search on the log server. find has no "--" for its starting points: only absolute paths
    (refused otherwise, UnsafeValue) keep a value from being read as an expression such as -exec."""
    patterns = " ".join(f"-e {shlex.quote(m)}" for m in markers)
    roots = " ".join(path_arg(p) for p in paths)
    return (
        f"find {roots} -type f -mmin -{int(minutes)} -size -200M 2>/dev/null | "
        f'while read -r f; do grep -HoF {patterns} -- "$f" 2>/dev/null; done | sort -u; true\n'
    )


def parse_found(output: str) -> dict[str, str]:
    """marker -> file it was found in, from ``grep -Ho`` lines (``/var/log/remote/x.log:marker``)."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        path, _, rest = line.rpartition(":")
        if _MARKER.fullmatch(rest):
            found.setdefault(rest, path)
    return found


@dataclass
class Sent:
    host: str
    marker: str
    ok: bool
    detail: str  # output, or why the marker could not be sent
    at: float


def send(host: Host, connect: ConnectOptions, marker: str, timeout: float = 30.0) -> Sent:
    try:
        transport = open_transport(host, connect)
        with transport:
            result = transport.run(send_script(marker), timeout)
    except HostError as exc:
        return Sent(host.name, marker, False, exc.reason, time.time())
    refused = sudo_refusal(result)
    if refused:
        return Sent(host.name, marker, False, refused, time.time())
    text = (result.stdout + result.stderr).strip()
    ok = result.rc == 0 and "logger rc=0" in result.stdout
    return Sent(host.name, marker, ok, text or f"exit {result.rc}", time.time())


def search(
    log_server: Host,
    connect: ConnectOptions,
    markers: list[str],
    paths: list[str],
    wait: float,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[dict[str, str], str | None, int]:
    """(marker -> file, error, searches made): poll the log server until all markers are found or ``wait`` passes."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + wait
    searches = 0
    try:
        search_script(markers, paths)  # the values are checked before the run; never send one refused
    except UnsafeValue as exc:
        return found, f"log_marker_paths refused: {exc}", searches
    try:
        transport = open_transport(log_server, connect)
        with transport:
            while True:
                missing = [m for m in markers if m not in found]
                result = transport.run(search_script(missing, paths), 60.0)
                searches += 1
                refused = sudo_refusal(result)
                if refused:
                    return found, f"log server {log_server.name}: {refused}", searches
                found.update(parse_found(result.stdout))
                if all(m in found for m in markers) or time.monotonic() >= deadline or stop():
                    return found, None, searches
                time.sleep(1.0)
    except HostError as exc:
        return found, f"log server {log_server.name}: {exc.reason}", searches
