"""av-eicar: the EICAR test file written to a private temporary file; the anti-virus must report it.

The EICAR string is assembled here at run time from pieces, so no file of the repository, pack or
log holds it whole (an anti-virus scanning them would quarantine the auditor). It reaches the host
inside the script on stdin and is never shown: evidence names it "EICAR test string".
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, register
from auditor.facts.base import quote
from auditor.model import Host

# Pieces in an order no scanner matches; joined only in memory.
_PIECES = ("-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR")
FILE_PREFIX = "/tmp/auditor-drill-eicar."
_PATH = re.compile(r"^/tmp/auditor-drill-eicar\.[0-9a-f]{12}\.[A-Za-z0-9]{8}$")


def eicar() -> str:
    return _PIECES[1] + _PIECES[2] + _PIECES[0]


def write_script(token: str) -> str:
    # mktemp makes the file 0600 and O_EXCL: nobody else can read, replace or pre-plant it. The token,
    # chosen here before anything is sent, lets a cleanup find the file even if the answer was lost.
    return (
        f'umask 077; f=$(mktemp {FILE_PREFIX}{token}.XXXXXXXX) || exit 3; echo "path=$f"\n'
        f'printf \'%s\' {quote(eicar())} > "$f" || exit 4; ls -l -- "$f"\n'
    )


SHOWN_WRITE = f"umask 077; f=$(mktemp {FILE_PREFIX}TOKEN.XXXXXXXX); printf '%s' '<EICAR test string>' > \"$f\""


def scan_script(path: str) -> str:
    p = quote(path)
    # clamdscan asks the running daemon (the defence that is live); --fdpass hands it our private file.
    # clamscan loads the databases itself. The first found is used; "scanner=" says which.
    return (
        f'if [ ! -e {p} ]; then echo "scanner=none-file-gone"; '
        f"grep -hF -- {p} /var/log/clamav/*.log /var/log/clamav/*.log.1 2>/dev/null | tail -n 5; exit 0; fi\n"
        "if command -v clamdscan >/dev/null 2>&1 && pgrep -x clamd >/dev/null 2>&1; then\n"
        f'  echo "scanner=clamdscan"; clamdscan --fdpass --no-summary -- {p} 2>&1; echo "rc=$?"\n'
        "elif command -v clamscan >/dev/null 2>&1; then\n"
        f'  echo "scanner=clamscan"; clamscan --no-summary -- {p} 2>&1; echo "rc=$?"\n'
        'else echo "scanner=none"; fi\n'
    )


def judge_scan(path: str, output: str) -> Outcome:
    """pass only for a scanner's own FOUND line that names our file and a signature."""
    lines = output.splitlines()
    scanner = next((ln.split("=", 1)[1] for ln in lines if ln.startswith("scanner=")), "")
    rc_line = next((ln for ln in reversed(lines) if ln.startswith("rc=")), "")
    found = re.compile(re.escape(path) + r": (\S.*) FOUND$")
    signature = next((m.group(1) for ln in lines if (m := found.search(ln.strip()))), None)
    if scanner == "none":
        return Outcome("fail", "no anti-virus scanner on the host (neither clamdscan with clamd running nor clamscan)")
    if signature and scanner in ("clamdscan", "clamscan", "none-file-gone"):
        return Outcome(
            "pass", f"{scanner or 'the anti-virus log'} reported the test file: {signature}", {"signature": signature}
        )
    if scanner == "none-file-gone":
        raise DrillError("the test file vanished and no anti-virus report names it: a vanished file is no detection")
    if rc_line == "rc=0":
        return Outcome("fail", f"{scanner} scanned the test file and reported it clean")
    if rc_line == "rc=1":  # "FOUND" for another path, or a signature line we cannot read: no proof
        raise DrillError(f"{scanner} said infected without naming the test file with a signature")
    raise DrillError(f"{scanner} could not scan ({rc_line or 'no exit status'}): see its output")


@register
class EicarFile(ActionType):
    name = "eicar-file"
    title = "EICAR test file"
    observations = ("av-reports-detection",)
    cleanups = ("remove-file",)

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        return [
            f"write the EICAR test string (assembled at run time) to a new private file {FILE_PREFIX}XXXXXXXX "
            f"(mktemp, mode 0600) on {host.name}",
            f"ask the anti-virus to scan it (clamdscan --fdpass when clamd runs, else clamscan), within {window:g} s; "
            "pass only when it reports the file with a signature name",
            "remove the file",
        ]

    def act(self, ctx: ActContext) -> None:
        ctx.state["token"] = secrets.token_hex(6)
        step = ctx.shell.run(write_script(ctx.state["token"]), "act", shown=SHOWN_WRITE)
        path = next((ln[5:] for ln in step.output.splitlines() if ln.startswith("path=")), "")
        if _PATH.match(path):
            ctx.state["path"] = path  # before anything else can fail: the cleanup needs it
        if step.rc != 0 or "path" not in ctx.state:
            raise DrillError(f"could not write the test file (exit {step.rc})")
        ctx.shell.event("act", f"EICAR test file written to {path}")

    def observe(self, ctx: ActContext) -> Outcome:
        path = ctx.state["path"]
        step = ctx.shell.run(scan_script(path), "observe", timeout=ctx.window)
        if step.rc is None:
            raise DrillError(f"the scan did not finish within {ctx.window:g} s")
        return judge_scan(path, step.output)

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        return ctx.remove_made("path", FILE_PREFIX, "rm -f", "no test file was created")
