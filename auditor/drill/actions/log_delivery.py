"""log-delivery: a unique marker logged on the host (``logger``) must arrive on the log server within the window.

The same probe as the audit's PT-LOG by outcome (auditor/network/logmarker.py): the marker travels
on stdin, never on a command line a search could find, and the log server (``log_server``, which
must be an inventory host) is searched over SSH in recent files under ``log_marker_paths``.
A host that is the log server itself has nothing to deliver: error, never a pass from its own files.
"""

from __future__ import annotations

import secrets
from typing import Any

from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, register
from auditor.model import Host
from auditor.network import logmarker


def _paths(params: dict[str, Any]) -> list[str]:
    value = params.get("log_marker_paths") or ["/var/log"]
    return [str(v) for v in value] if isinstance(value, list) else str(value).split(",")


@register
class LogMarker(ActionType):
    name = "log-marker"
    title = "A marker logged on the host"
    observations = ("marker-on-log-server",)
    cleanups = ("nothing-to-undo",)  # the marker stays in the logs: it is the evidence
    needs_inventory = True

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        server = params.get("log_server") or "(log_server not set)"
        return [
            f"log a unique marker on {host.name} (logger -t {logmarker.TAG}, script on stdin)",
            f"search the log server {server} over SSH (files under {', '.join(_paths(params))} changed in the last "
            f"2 hours) every second, for up to {window:g} s",
            "nothing to undo: the marker line stays in the logs as evidence",
        ]

    def act(self, ctx: ActContext) -> None:
        server = ctx.params.get("log_server")
        if not server or isinstance(server, list | dict):
            raise DrillError("log_server is not set to one server: nowhere to look for the marker")
        log_host = next((h for h in ctx.inventory_hosts if str(server) in (h.name, h.address)), None)
        if log_host is None:
            raise DrillError(f"log_server {server} is not a host of the inventory: its logs cannot be searched")
        if log_host.name == ctx.host.name:
            raise DrillError(f"{ctx.host.name} is the log server itself: nothing to deliver")
        marker = logmarker.new_marker(secrets.token_hex(4), ctx.host.name)
        step = ctx.shell.run(logmarker.send_script(marker), "act")
        if step.rc != 0 or "logger rc=0" not in step.output:
            raise DrillError(f"logger failed on {ctx.host.name}: {step.output or f'exit {step.rc}'}")
        ctx.state.update(marker=marker, log_host=log_host)
        ctx.shell.event("act", f"marker {marker} logged")

    def observe(self, ctx: ActContext) -> Outcome:
        marker, log_host = ctx.state["marker"], ctx.state["log_host"]
        found, error, searches = logmarker.search(log_host, ctx.shell.connect, [marker], _paths(ctx.params), ctx.window)
        ctx.shell.event("observe", f"{searches} search(es) on {log_host.name}: " + (found.get(marker) or "not found"))
        details = {"marker": marker, "log_server": log_host.name, "searches": searches}
        if marker in found:
            details["file"] = found[marker]
            return Outcome("pass", f"the marker arrived on {log_host.name} in {found[marker]}", details)
        if error:
            raise DrillError(error)
        return Outcome("fail", f"the marker did not arrive on {log_host.name} within {ctx.window:g} s", details)

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        return True, "nothing to undo (the marker stays in the logs as evidence)"
