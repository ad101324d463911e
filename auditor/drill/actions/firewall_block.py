"""firewall-block: a listener the drill opens on a port outside ``allowed_ports`` must be unreachable
from the drill source while it listens on the host.

The listener is python3 (or perl) holding the port for the window plus a margin and then exiting
by itself, so it cannot outlive a drill whose cleanup never reached the host. A control connection
from the drill source to the host's SSH port must succeed: without it "unreachable" could be the
source's own fault, and that is no proof that the firewall blocked anything.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, register
from auditor.facts.base import quote
from auditor.model import Host
from auditor.network.values import parse_allowed_ports

DEFAULT_PORT = 47613
CONNECT_TIMEOUT = 3.0

_PY = (
    "import socket,sys,time\n"
    "s=socket.socket(socket.AF_INET)\n"
    "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
    "s.bind(('',int(sys.argv[2])));s.listen(8);time.sleep(int(sys.argv[3]))\n"
)
_PERL = (
    "use Socket;socket(S,PF_INET,SOCK_STREAM,0) or die;setsockopt(S,SOL_SOCKET,SO_REUSEADDR,1);"
    "bind(S,sockaddr_in($ARGV[1],INADDR_ANY)) or die $!;listen(S,8) or die;sleep($ARGV[2]);"
)


def choose_port(params: dict[str, Any]) -> int:
    try:
        allowed = parse_allowed_ports(params.get("allowed_ports")) or set()
    except ValueError as exc:
        raise DrillError(str(exc)) from None
    port = int(params.get("port") or DEFAULT_PORT)
    if not 1024 <= port <= 65535:
        raise DrillError(f"port {port}: choose one in 1024-65535")
    if str(port) in allowed or f"{port}/tcp" in allowed:
        raise DrillError(f"port {port} is in allowed_ports: the firewall is right to let it through")
    return port


def listen_script(port: int, seconds: int, tag: str) -> str:
    # The tag (an argument of the listener) lets the cleanup kill our process and no other.
    args = f"{quote(tag)} {port} {seconds}"
    return (
        f"if ss -ltnH 'sport = :{port}' | grep -q .; then echo 'busy'; exit 5; fi\n"
        "if command -v python3 >/dev/null 2>&1; then "
        f"python3 -c {quote(_PY)} {args} </dev/null >/dev/null 2>&1 &\n"
        "elif command -v perl >/dev/null 2>&1; then "
        f"perl -e {quote(_PERL)} {args} </dev/null >/dev/null 2>&1 &\n"
        "else echo 'no python3 or perl for a listener'; exit 6; fi\n"
        'echo "pid=$!"; i=0; while [ $i -lt 20 ]; do '
        f"ss -ltnH 'sport = :{port}' | grep -q . && {{ echo listening; exit 0; }}; sleep 0.2; i=$((i+1)); done\n"
        "echo 'not listening'; exit 7\n"
    )


def listening_script(port: int) -> str:
    return f"ss -ltnH 'sport = :{port}' | grep -q . && echo listening || echo 'not listening'\n"


def stop_script(pid: int, tag: str, port: int) -> str:
    # Only a process whose arguments carry our tag: a reused pid is left alone.
    return (
        f"if tr '\\0' ' ' < /proc/{pid}/cmdline 2>/dev/null | grep -qF -- {quote(tag)}; then kill {pid}; fi\n"
        "sleep 0.3\n"
        f"if ss -ltnH 'sport = :{port}' | grep -q . && "
        f"tr '\\0' ' ' < /proc/{pid}/cmdline 2>/dev/null | grep -qF -- {quote(tag)}; then echo 'still there'; "
        "else echo stopped; fi\n"
    )


@register
class FirewallBlock(ActionType):
    name = "listen-on-closed-port"
    title = "Listener on a port outside allowed_ports"
    observations = ("unreachable-from-drill-source",)
    cleanups = ("stop-listener",)
    needs_source = True
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"port": {"type": "integer", "minimum": 1024, "maximum": 65535}},
    }

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        port = params.get("port") or DEFAULT_PORT
        return [
            f"open a TCP listener on port {port} of {host.name} (python3 or perl; exits by itself after "
            f"{int(window) + 60} s)",
            f"from the drill source {params.get('drill_source') or '(drill_source not set)'}: connect to "
            f"{host.address}:{host.port} (control, must succeed), then to {host.address}:{port} (must fail)",
            "stop the listener",
        ]

    def act(self, ctx: ActContext) -> None:
        port = choose_port(ctx.params)
        tag = f"auditor-drill-{secrets.token_hex(6)}"
        step = ctx.shell.run(listen_script(port, int(ctx.window) + 60, tag), "act")
        pid = re.search(r"^pid=(\d+)$", step.output, re.M)
        if pid:
            ctx.state.update(pid=int(pid.group(1)), tag=tag, port=port)
        if step.rc != 0 or not pid:
            raise DrillError(f"could not open a listener on port {port}: {step.output or f'exit {step.rc}'}")
        ctx.shell.event("act", f"listener on port {port} (pid {pid.group(1)})")

    def observe(self, ctx: ActContext) -> Outcome:
        host, port = ctx.host, ctx.state["port"]
        control = ctx.source.connect(host.address, host.port, CONNECT_TIMEOUT)
        if isinstance(control, str):
            raise DrillError(
                f"the drill source {ctx.source.address} cannot reach {host.address}:{host.port} either ({control}): "
                "no way to tell the firewall blocked the test port"
            )
        control.close()
        ctx.shell.event("observe", f"control: {ctx.source.address} -> {host.address}:{host.port} connected")
        probe = ctx.source.connect(host.address, port, CONNECT_TIMEOUT)
        result = "connected" if not isinstance(probe, str) else probe
        if not isinstance(probe, str):
            probe.close()
        ctx.shell.event("observe", f"probe: {ctx.source.address} -> {host.address}:{port} {result}")
        still = ctx.shell.run(listening_script(port), "observe").output.strip()
        details = {"port": port, "source": ctx.source.address, "probe": result}
        if result == "connected":
            return Outcome("fail", f"port {port} (not in allowed_ports) was reachable from the drill source", details)
        if still != "listening":
            raise DrillError(f"the listener on port {port} was gone when the probe ran: cannot tell")
        return Outcome(
            "pass", f"port {port} listened on the host and was unreachable from the drill source ({result})", details
        )

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        if "pid" not in ctx.state:
            return True, "no listener was started"
        step = ctx.shell.run_cleanup(stop_script(ctx.state["pid"], ctx.state["tag"], ctx.state["port"]))
        return step.output.strip().endswith("stopped"), step.output.strip()
