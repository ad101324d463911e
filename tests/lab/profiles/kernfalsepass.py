"""kernfalsepass: kernel, pam_limits and modprobe settings a line-by-line reading of the files passes,
and the programs' own reading fails (LNX-NET-SYSCTL-HARDENED, LNX-CORE-DUMPS-RESTRICTED,
LNX-USB-STORAGE-BLOCKED; tests/lab/test_kernel_settings.py).

- sysctl now: every ``net.ipv4.conf.all.*`` key and ``ip_forward`` are 0, but eth0's own
  ``send_redirects`` is 1: the kernel sends redirects when either is 1.
- sysctl after a reboot: 90-network.conf turns forwarding off, 99-zz-router.conf (read later) on;
  /etc/sysctl.conf, which ``sysctl --system`` reads last, undoes 90-nocore.conf's fs.suid_dumpable = 0.
- limits.d/90-nocore.conf has "* hard core 0"; 99-debug.conf, read later, "* hard core unlimited".
- /lib/modprobe.d/50-usb-storage.conf blocks usb-storage, but /etc/modprobe.d/50-usb-storage.conf,
  same name, masks it; an earlier /etc file's install line loads the module, so a later file's
  ``install usb-storage /bin/false`` is never used (modprobe takes the first install line).
Everything else is the minimal host's.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import minimal

NAME = "kernfalsepass"
DAEMONS = minimal.DAEMONS
NET_KEYS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.send_redirects",
            "net.ipv4.conf.all.accept_source_route", "net.ipv4.conf.default.accept_redirects",
            "net.ipv4.conf.default.send_redirects")  # fmt: skip
INIT = (
    "/usr/sbin/sysctl -q -w " + " ".join(f"{k}=0" for k in NET_KEYS)
    + " net.ipv4.conf.eth0.accept_redirects=0 net.ipv4.conf.eth0.send_redirects=1 || echo 'lab-init: sysctl failed'",
)  # fmt: skip
EXPECTED = minimal.EXPECTED
REASONS = {**minimal.REASONS, "PT-USB": "the blocking install line is masked or comes after one that loads the module"}
# The checks of this group: verdict, and words its reason must hold.
CHECKS = {
    "LNX-NET-SYSCTL-HARDENED": ("fail", ("send_redirects = 1 on eth0", "99-zz-router.conf")),
    "LNX-CORE-DUMPS-RESTRICTED": ("fail", ("99-debug.conf", "/etc/sysctl.conf")),
    "LNX-USB-STORAGE-BLOCKED": ("fail", ("--ignore-install",)),
}
NETWORK_CONF = "".join(f"{k} = 0\n" for k in NET_KEYS)


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(root, "/etc/sysctl.d/90-network.conf", NETWORK_CONF)
    c.write(root, "/etc/sysctl.d/99-zz-router.conf", "# the VPN test bed\nnet.ipv4.ip_forward = 1\n")
    c.write(root, "/etc/sysctl.d/90-nocore.conf", "fs.suid_dumpable = 0\n")
    with (root / "etc/sysctl.conf").open("a") as conf:
        conf.write("fs.suid_dumpable = 2\n")
    c.write(root, "/etc/security/limits.d/90-nocore.conf", "* hard core 0\n")
    c.write(root, "/etc/security/limits.d/99-debug.conf", "# crash dumps for the developers\n* hard core unlimited\n")
    c.write(root, "/usr/lib/modprobe.d/50-usb-storage.conf", c.USB_BLOCK)
    c.modprobe_conf(root, "50-usb-storage.conf", "# USB disks allowed for the backup team\n")
    c.modprobe_conf(root, "10-backup.conf", "install usb-storage /sbin/modprobe --ignore-install usb-storage\n")
    c.modprobe_conf(root, "90-block.conf", c.USB_BLOCK)
