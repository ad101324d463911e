"""kernfalsefail: kernel, pam_limits and modprobe settings a line-by-line reading of the files fails,
and the programs' own reading passes (tests/lab/test_kernel_settings.py).

- sysctl now: ``net.ipv4.conf.all.accept_source_route`` is 1, but every interface's own value is 0:
  the kernel accepts source-routed packets only when both are 1.
- sysctl after a reboot: /usr/lib/sysctl.d/50-router.conf turns forwarding on, /etc/sysctl.d/60-host.conf
  (read later, key written with "/") off again; all.accept_source_route = 1 with default = 0.
- limits.d/90-nocore.conf: "* - core 0  # soft and hard" (type "-", a trailing comment), and
  fs/suid_dumpable = 0 in /usr/local/lib/sysctl.d, which ``sysctl --system`` reads.
- ``install usb_storage /usr/bin/false``: modprobe reads "_" and "-" alike.
Everything else is the minimal host's.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import minimal

NAME = "kernfalsefail"
DAEMONS = minimal.DAEMONS
_ZERO = ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.send_redirects",
         "net.ipv4.conf.default.accept_redirects", "net.ipv4.conf.default.send_redirects",
         "net.ipv4.conf.default.accept_source_route", "net.ipv4.conf.eth0.accept_redirects",
         "net.ipv4.conf.eth0.send_redirects", "net.ipv4.conf.eth0.accept_source_route",
         "net.ipv4.conf.lo.accept_source_route")  # fmt: skip
INIT = (
    "/usr/sbin/sysctl -q -w " + " ".join(f"{k}=0" for k in _ZERO)
    + " net.ipv4.conf.all.accept_source_route=1 || echo 'lab-init: sysctl failed'",
)  # fmt: skip
EXPECTED = {**minimal.EXPECTED, "PT-USB": "pass"}
REASONS = {k: v for k, v in minimal.REASONS.items() if k != "PT-USB"}
CHECKS = {
    "LNX-NET-SYSCTL-HARDENED": ("pass", ("accept_source_route = 0 on every interface", "60-host.conf")),
    "LNX-CORE-DUMPS-RESTRICTED": ("pass", ("90-nocore.conf", "/usr/local/lib/sysctl.d/50-nocore.conf")),
    "LNX-USB-STORAGE-BLOCKED": ("pass", ("/usr/bin/false",)),
}


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(root, "/usr/lib/sysctl.d/50-router.conf", "net.ipv4.ip_forward = 1\n")
    c.write(
        root,
        "/etc/sysctl.d/60-host.conf",
        "net/ipv4/ip_forward = 0\nnet.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.all.send_redirects = 0\n"
        "net.ipv4.conf.default.accept_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n"
        "net.ipv4.conf.all.accept_source_route = 1\nnet.ipv4.conf.default.accept_source_route = 0\n",
    )
    c.write(root, "/etc/security/limits.d/90-nocore.conf", "*   -   core   0   # soft and hard\n")
    c.write(root, "/usr/local/lib/sysctl.d/50-nocore.conf", "fs/suid_dumpable = 0\n")
    c.modprobe_conf(root, "storage.conf", "install usb_storage /usr/bin/false\n")
