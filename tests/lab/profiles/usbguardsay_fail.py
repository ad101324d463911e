"""usbguardsay_fail: /etc/usbguard/usbguard-daemon.conf says ``ImplicitPolicyTarget=block`` (a reader
of the file passes the host), but it was edited after the daemon started with ``allow``, and the
daemon was never restarted: it keeps what it loaded and answers ``allow`` (PT-USB fails;
tests/lab/test_usbguard.py). No modprobe install line blocks usb-storage. The USB bus stand-in and
everything else as usbguardsay_pass.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import minimal
from .usbguardsay_pass import CONF, WAIT_FOR_IPC, daemon_conf, start_usbguard

NAME = "usbguardsay_fail"
DAEMONS = minimal.DAEMONS
INIT = (
    start_usbguard(CONF),
    WAIT_FOR_IPC,
    f"sed -i 's/^ImplicitPolicyTarget=allow$/ImplicitPolicyTarget=block/' {CONF}",
)
EXPECTED = minimal.EXPECTED
REASONS = {**minimal.REASONS, "PT-USB": "the running USBGuard daemon answers allow (its file was edited after start)"}
CHECKS = {"LNX-USB-STORAGE-BLOCKED": ("fail", ("allow",))}


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(root, CONF, daemon_conf("allow"), mode=0o600)
