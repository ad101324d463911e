"""ids-bruteforce: failed SSH logins for a nonexistent user from the drill source; fail2ban or CrowdSec
must ban that address within the window. The ban is lifted in the cleanup.

Each attempt is a new SSH connection from the drill source that reaches password authentication
for a random user name with a random password (nothing real is ever tried). The host key is
checked against the run's known_hosts before any attempt, as for the audit itself.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import paramiko

from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, register
from auditor.facts.base import quote
from auditor.model import Host

DEFAULT_ATTEMPTS = 8
POLL_SECONDS = 2.0
UNBAN_SETTLE_SECONDS = 2.0


def attempt(ctx: ActContext, user: str) -> str:
    """One failed login from the drill source: what happened ("rejected" when sshd refused the password)."""
    host = ctx.host
    sock = ctx.source.connect(host.address, host.port, 5.0)
    if isinstance(sock, str):
        return f"no connection ({sock})"
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=10)
        key = transport.get_remote_server_key()
        server = host.address if host.port == 22 else f"[{host.address}]:{host.port}"
        known = ctx.shell.connect.host_keys.lookup(server)
        if known.get(key.get_name()) is None or known[key.get_name()].asbytes() != key.asbytes():
            raise DrillError(f"{server}: host key not the one in known_hosts: no login attempted from the drill source")
        try:
            transport.auth_password(user, secrets.token_urlsafe(12))
        except paramiko.BadAuthenticationType:
            return "rejected (password authentication not offered)"
        except paramiko.AuthenticationException:
            return "rejected"
        return "ACCEPTED"
    except (paramiko.SSHException, OSError, EOFError) as exc:
        return f"connection ended ({exc or type(exc).__name__})"
    finally:
        transport.close()
        sock.close()


def banned_script(address: str) -> str:
    a = quote(address)
    return (
        "seen=''\n"
        "if command -v fail2ban-client >/dev/null 2>&1; then seen=1; echo '[fail2ban]'; "
        "fail2ban-client banned 2>&1 | head -c 20000; echo; fi\n"
        "if command -v cscli >/dev/null 2>&1; then seen=1; echo '[crowdsec]'; "
        f"cscli decisions list --ip {a} -o raw 2>&1 | head -c 20000; echo; fi\n"
        "[ -n \"$seen\" ] || echo '[none]'\n"
    )


def banned(output: str, address: str) -> tuple[bool, str]:
    """(banned?, what the tools said)."""
    if "[none]" in output:
        return False, "no fail2ban-client or cscli on the host"
    pattern = re.compile(r"(?<![0-9.])" + re.escape(address) + r"(?![0-9])")
    sections = re.split(r"^\[(fail2ban|crowdsec)\]$", output, flags=re.M)
    for name, body in zip(sections[1::2], sections[2::2], strict=False):
        if pattern.search(body) and "Failed to access socket" not in body:
            return True, name
    if "Failed to access socket" in output or "Is fail2ban running" in output:
        return False, "fail2ban is installed but its server does not run"
    return False, "not banned"


def unban_script(address: str) -> str:
    a = quote(address)
    return (
        f"command -v fail2ban-client >/dev/null 2>&1 && fail2ban-client unban {a} 2>&1\n"
        f"command -v cscli >/dev/null 2>&1 && cscli decisions delete --ip {a} 2>&1\n"
        "true\n"
    )


@register
class SshBruteforce(ActionType):
    name = "failed-ssh-logins"
    title = "Failed SSH logins from the drill source"
    observations = ("source-banned",)
    cleanups = ("lift-ban",)
    needs_source = True
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"attempts": {"type": "integer", "minimum": 1, "maximum": 50}},
    }

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        n = params.get("attempts") or DEFAULT_ATTEMPTS
        return [
            f"from the drill source {params.get('drill_source') or '(drill_source not set)'}: {n} SSH logins to "
            f"{host.address}:{host.port} as a nonexistent user with random passwords",
            f"within {window:g} s, fail2ban (fail2ban-client banned) or CrowdSec (cscli decisions) must list the "
            "drill source as banned",
            "lift the ban (fail2ban-client unban, cscli decisions delete)",
        ]

    def act(self, ctx: ActContext) -> None:
        user = f"drill-nouser-{secrets.token_hex(4)}"
        n = int(ctx.params.get("attempts") or DEFAULT_ATTEMPTS)
        ctx.state["address"] = ctx.source.address  # from the first attempt on, a ban may need lifting
        results = [attempt(ctx, user) for _ in range(n)]
        ctx.shell.event("act", f"{n} logins as {user} from {ctx.source.address}: {', '.join(results)}")
        if "ACCEPTED" in results:
            raise DrillError(f"the host ACCEPTED a random password for {user}: stop and look at this host now")
        reached = sum(r.startswith("rejected") for r in results)
        if reached == 0:
            raise DrillError("no login attempt reached the host's SSH server from the drill source")
        ctx.state["reached"] = reached

    def observe(self, ctx: ActContext) -> Outcome:
        address = ctx.state["address"]
        deadline = time.monotonic() + ctx.window
        while True:
            step = ctx.shell.run(banned_script(address), "observe")
            if step.rc is None:  # cut off: the connection was lost or the host did not answer
                raise DrillError(f"the ban check on {ctx.host.name} did not answer: {step.output or 'no output'}")
            is_banned, said = banned(step.output, address)
            if is_banned:
                return Outcome("pass", f"{said} banned the drill source {address}", {"by": said})
            if "[none]" in step.output or "does not run" in said or time.monotonic() >= deadline:
                return Outcome("fail", f"{address} was not banned within {ctx.window:g} s: {said}", {})
            time.sleep(POLL_SECONDS)

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        address = ctx.state.get("address")
        if not address:
            return True, "no login was attempted"
        # fail2ban may still read lines of the drill's logins after the unban and ban again: check a little
        # later, and lift it again if so.
        still = True
        for _ in range(3):
            ctx.shell.run_cleanup(unban_script(address))
            time.sleep(UNBAN_SETTLE_SECONDS)
            still, _said = banned(ctx.shell.run_cleanup(banned_script(address)).output, address)
            if not still:
                break
        return not still, "ban lifted" if not still else f"{address} is still banned"
