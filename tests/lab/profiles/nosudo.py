"""nosudo: configured like ``compliant`` but the auditor account has no sudo at all.

Facts that need root cannot be read, so those verdicts must be `error`, never a
guessed pass or fail.  Facts an unprivileged user can read still
decide the other tasks.  Variety: PT-LOG uses the RainerScript omfwd form.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "nosudo"
SUDO = False
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
# With ansible_become=true (the lab inventory) sudo is refused: the core makes that a host
# error and every check `error` with the reason, never a guessed verdict.
EXPECTED = {task: "error" for task in ("PT-AUTH", "PT-AV", "PT-LOG", "PT-USB", "PT-FIREWALL", "PT-IDS")}
REASONS = {task: "sudo refused: the host cannot be audited as configured" for task in EXPECTED}
# With ansible_become=false the audit runs unprivileged: facts that need root are `error`,
# facts any user can read still decide (test_verdicts.py::test_unprivileged_audit).
EXPECTED_UNPRIVILEGED = {
    "PT-AUTH": "error",  # `sshd -T` must load the host keys, which only root may read
    "PT-AV": "pass",  # dpkg status, /proc, /var/lib/clamav and /etc/cron.d are world-readable
    "PT-LOG": "pass",  # the process table and rsyslog's configuration are world-readable
    "PT-USB": "pass",  # modprobe -n -v runs as any user and reads /etc/modprobe.d
    "PT-FIREWALL": "error",  # `nft list ruleset` needs CAP_NET_ADMIN: "Operation not permitted"
    "PT-IDS": "pass",  # the process table is visible to every user
}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    (root / "etc/rsyslog.d/50-remote.conf").unlink()
    c.rsyslog_rule(
        root,
        "50-remote.conf",
        f'action(type="omfwd" target="{ctx.log_server}" port="514" protocol="tcp"\n'
        '       queue.type="LinkedList" queue.size="10000" action.resumeRetryCount="-1")\n',
    )
