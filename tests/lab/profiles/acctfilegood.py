"""acctfilegood: a line-by-line reading of its files passes the account and sshd checks that the
programs themselves fail.

- ``eve`` has an empty password field in /etc/passwd (not ``x``): pam_unix then never looks at the
  hash in /etc/shadow, and ``su eve`` asks for no password.
- /etc/login.defs says ``PASS_MAX_DAYS 90``, but ``ops`` has a password that never expires (99999).
- common-auth has all the pam_faillock lines, after ``auth sufficient pam_unix.so``: the right
  password ends the stack before preauth, so a locked account still logs on.
- sshd sends /etc/issue.net, which carries no notice; /etc/issue does.
- A ``Match Address 10.0.0.0/8`` block (which covers the auditor) sets ``ClientAliveInterval 0`` and
  ``AllowUsers *``; a drop-in read first sets a CBC cipher (a reading of the hardening drop-in
  sees only strong ones).
- /etc/shadow carries an ACL entry ``user:auditor:r--``: its mode still reads 0640.
- nsswitch.conf says ``passwd: files extrausers`` (and shadow): ``ext`` (UID 1800) with an empty
  password lives in /var/lib/extrausers only. /etc/passwd and /etc/shadow never name it;
  ``getent passwd ext`` (and every program that asks glibc: ``su ext`` asks no password) does.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from . import common as c
from . import compliant
from .acctfilebad import HASH, extrausers

NAME = "acctfilegood"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
SUFFICIENT_FIRST = "auth\tsufficient\t\t\tpam_unix.so nullok\n" + c.FAILLOCK_AUTH.replace(
    "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n", ""
)


def shadow_acl(path: Path, uid: int) -> None:
    """A POSIX access ACL granting ``uid`` read, written as the kernel stores it (no setfacl here)."""
    undefined = 0xFFFFFFFF
    entries = [(0x01, 6, undefined), (0x02, 4, uid), (0x04, 4, undefined), (0x10, 4, undefined), (0x20, 0, undefined)]
    data = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)
    os.setxattr(path, "system.posix_acl_access", data)


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    today = int(ctx.now // c.DAY)
    c.append(root, "/etc/passwd", "eve::1700:1700::/home/eve:/bin/sh\n")
    c.append(root, "/etc/shadow", f"eve:{HASH}:{today}:0:60:7:::\n")
    c.append(root, "/etc/passwd", "ops:x:1701:1701::/home/ops:/bin/sh\n")
    c.append(root, "/etc/shadow", f"ops:{HASH}:{today}:0:99999:7:::\n")
    c.replace_in(root, "/etc/pam.d/common-auth", c.FAILLOCK_AUTH, SUFFICIENT_FIRST)
    c.write(root, "/etc/issue.net", "Debian GNU/Linux\n")
    c.write(root, "/etc/issue", c.LEGAL_NOTICE)
    c.sshd_dropin(root, "00-legacy.conf", "Ciphers aes128-cbc,aes256-ctr\n")
    c.sshd_main_append(root, "\nMatch Address 10.0.0.0/8\n    ClientAliveInterval 0\n    AllowUsers *\n")
    shadow_acl(root / "etc/shadow", c.AUDITOR_UID)
    extrausers(root)
    c.write(root, "/var/lib/extrausers/passwd", "ext:x:1800:1800:from the directory:/home/ext:/bin/sh\n")
    c.write(root, "/var/lib/extrausers/shadow", f"ext::{today}:0:60:7:::\n", mode=0o640)
