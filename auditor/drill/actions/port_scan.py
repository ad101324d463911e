"""ids-scan: an nmap SYN scan of the host from the drill source; the host's IDS must record the drill
source within the window (psad's per-source folder, or a Suricata / Snort / Zeek log line naming it).

"In the window" is judged on the host's own clock: the host's time is read just before the scan, and
only IDS records written after it count (a record of an earlier drill from the same address is no
reaction to this one).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from typing import Any

from auditor import addresses
from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, Step, now_iso, register
from auditor.facts.base import quote
from auditor.model import Host

DEFAULT_PORTS = "1-1024"
POLL_SECONDS = 2.0
_PORTS = re.compile(r"^[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*$")


def nmap_argv(nmap: str, source: str, device: str, host: str, ports: str) -> list[str]:
    if not _PORTS.fullmatch(ports):
        raise DrillError(f"ports {ports!r}: digits, commas and ranges only (e.g. 1-1024)")
    return [nmap, "-sS", "-Pn", "-n", "-S", source, "-e", device, "--max-retries", "1", "--host-timeout", "120s",
            "-p", ports, "--", addresses.host(host)]  # fmt: skip


def records_script(address: str, since: int) -> str:
    """What each IDS on the host wrote about ``address`` since ``since`` (host epoch seconds)."""
    a = quote(address)
    return (
        "if pgrep -x psad >/dev/null 2>&1; then echo 'psad=running'; "
        f'for f in /var/log/psad/{a}/*; do [ -f "$f" ] || continue; '
        f'm=$(stat -c %Y -- "$f"); [ "$m" -ge {since} ] && echo "psad_record=$m $f"; done; '
        "elif command -v psad >/dev/null 2>&1; then echo 'psad=stopped'; fi\n"
        "for f in /var/log/suricata/eve.json /var/log/suricata/fast.log /opt/zeek/logs/current/notice.log "
        '/var/log/zeek/current/notice.log; do [ -f "$f" ] || continue; '
        f'[ "$(stat -c %Y -- "$f")" -ge {since} ] || continue; '
        f'n=$(tail -n 20000 -- "$f" | grep -cF -- {a}); [ "$n" -gt 0 ] && echo "ids_record=$f $n"; done\n'
        'for p in suricata snort zeek; do pgrep -x $p >/dev/null 2>&1 && echo "ids=$p"; done; true\n'
    )


def judge(output: str, address: str) -> Outcome | None:
    """An outcome once there is one; None: keep waiting."""
    records = [ln.split("=", 1)[1] for ln in output.splitlines() if ln.startswith(("psad_record=", "ids_record="))]
    if records:
        return Outcome("pass", f"the IDS recorded the scan from {address}: {records[0]}", {"records": records[:10]})
    running = "psad=running" in output or "ids=" in output
    if not running:
        said = "psad is installed but does not run" if "psad=stopped" in output else "no IDS runs on the host"
        return Outcome("fail", f"{said} (psad, Suricata, Snort, Zeek)")
    return None


@register
class PortScan(ActionType):
    name = "nmap-scan"
    title = "nmap scan from the drill source"
    observations = ("ids-records-source",)
    cleanups = ("lift-psad-block",)
    needs_source = True
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"ports": {"type": "string"}},
    }

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        return [
            f"from the drill source {params.get('drill_source') or '(drill_source not set)'}: nmap -sS -Pn -p "
            f"{params.get('ports') or DEFAULT_PORTS} {host.address}",
            f"within {window:g} s, psad (/var/log/psad/<source>/), Suricata or Zeek must have recorded the source",
            "lift a block psad may have set on the source (psad --fw-rm-block-ip)",
        ]

    def act(self, ctx: ActContext) -> None:
        nmap = shutil.which("nmap")
        if nmap is None:
            raise DrillError("nmap is not installed on the auditor's machine")
        clock = ctx.shell.run("date +%s\n", "act")
        if not clock.output.strip().isdigit():
            raise DrillError(f"cannot read the host's clock: {clock.output}")
        ctx.state["since"] = int(clock.output.strip()) - 1
        ctx.state["address"] = ctx.source.address
        argv = nmap_argv(
            nmap,
            ctx.source.address,
            ctx.source.device or "",
            ctx.host.address,
            ctx.params.get("ports") or DEFAULT_PORTS,
        )
        at = now_iso()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        except subprocess.TimeoutExpired:
            raise DrillError("nmap did not finish within 180 s") from None
        ctx.shell.log.append(
            Step(" ".join(argv), done.returncode, (done.stdout + done.stderr).strip()[:4000], at, "act")
        )
        if done.returncode != 0:
            raise DrillError(f"nmap failed (exit {done.returncode}): {done.stderr.strip()[:300]}")
        ctx.shell.event("act", f"nmap scan of {ctx.host.address} from {ctx.source.address} done")

    def observe(self, ctx: ActContext) -> Outcome:
        address, deadline = ctx.state["address"], time.monotonic() + ctx.window
        while True:
            step = ctx.shell.run(records_script(address, ctx.state["since"]), "observe")
            if step.rc is None:
                raise DrillError(f"the IDS check on {ctx.host.name} did not answer: {step.output or 'no output'}")
            outcome = judge(step.output, address)
            if outcome is not None:
                return outcome
            if time.monotonic() >= deadline:
                return Outcome("fail", f"no IDS record of the scan from {address} within {ctx.window:g} s")
            time.sleep(POLL_SECONDS)

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        address = ctx.state.get("address")
        if not address:
            return True, "no scan was made"
        a = quote(address)
        step = ctx.shell.run_cleanup(
            f"if pgrep -x psad >/dev/null 2>&1; then psad --fw-rm-block-ip {a} >/dev/null 2>&1; fi; echo done\n"
        )
        return step.output.strip().endswith("done"), "psad block (if any) lifted"
