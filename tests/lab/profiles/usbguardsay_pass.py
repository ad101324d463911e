"""usbguardsay_pass: no modprobe install line blocks usb-storage (a reader of /etc/modprobe.d fails
the host), and /etc/usbguard/usbguard-daemon.conf says ``ImplicitPolicyTarget=allow``, but the running
USBGuard daemon was started with /etc/usbguard/hardened.conf: asked, it answers ``block`` (PT-USB
passes; tests/lab/test_usbguard.py).

The machine's kernel has no USB bus, and usbguard-daemon's uevent backend exits when
/sys/bus/usb/devices is missing: the host mounts an empty tmpfs on /sys/bus (its own mount
namespace) with an empty usb/devices, a bus with no device plugged in. Everything else is the
minimal host's.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import minimal

NAME = "usbguardsay_pass"
DAEMONS = minimal.DAEMONS
CONF = "/etc/usbguard/usbguard-daemon.conf"
HARDENED = "/etc/usbguard/hardened.conf"
# the daemon's IPC (libqb) needs /dev/shm, which the lab init mounts before INIT runs
WAIT_FOR_IPC = (
    "i=0; until usbguard get-parameter ImplicitPolicyTarget </dev/null >/dev/null 2>&1; do "
    "i=$((i+1)); [ $i -ge 50 ] && { echo 'lab-init: usbguard-daemon does not answer'; break; }; sleep 0.1; done"
)


def start_usbguard(conf: str) -> str:
    return (
        "mount -t tmpfs -o mode=755,size=64k tmpfs /sys/bus && mkdir -p /sys/bus/usb/devices /var/log/usbguard && "
        f"/usr/sbin/usbguard-daemon -f -l /var/log/lab-usbguard.log -c {conf} </dev/null >>/var/log/lab-usbguard.log"
        " 2>&1 || echo 'lab-init: usbguard-daemon failed'"
    )


INIT = (start_usbguard(HARDENED), WAIT_FOR_IPC)
EXPECTED = {**minimal.EXPECTED, "PT-USB": "pass"}
REASONS = {k: v for k, v in minimal.REASONS.items() if k != "PT-USB"}
CHECKS = {"LNX-USB-STORAGE-BLOCKED": ("pass", ("block",))}


def daemon_conf(policy: str) -> str:
    """Debian's settings, the implicit policy aside; only root may ask the daemon."""
    return (
        "RuleFile=/etc/usbguard/rules.conf\nRuleFolder=/etc/usbguard/rules.d/\n"
        f"ImplicitPolicyTarget={policy}\nPresentDevicePolicy=apply-policy\nPresentControllerPolicy=keep\n"
        "InsertedDevicePolicy=apply-policy\nAuthorizedDefault=none\nRestoreControllerDeviceState=false\n"
        "DeviceManagerBackend=uevent\nIPCAllowedUsers=root\nIPCAllowedGroups=\n"
        "IPCAccessControlFiles=/etc/usbguard/IPCAccessControl.d/\nDeviceRulesWithPort=false\n"
        "AuditBackend=FileAudit\nAuditFilePath=/var/log/usbguard/usbguard-audit.log\nHidePII=false\n"
    )


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(root, CONF, daemon_conf("allow"), mode=0o600)
    c.write(root, HARDENED, daemon_conf("block"), mode=0o600)
