"""acctfilebad: compliant, but a line-by-line reading of its files fails the account and sshd checks
that the programs themselves (glibc's NSS, useradd, PAM, sshd, find -H) pass.

- ``#toor:x:0:0`` is a comment to glibc; ``dup`` has a second, later entry with UID 0 and an empty
  shadow password that getpwnam/getspnam never return (the first entry wins; it is locked).
- /etc/login.defs keeps ``PASS_MAX_DAYS 99999`` and a later ``PASS_MAX_DAYS 60`` (useradd: the last
  wins); the one account with a password (``ops``) expires after 60 days.
- The faillock stack is in /etc/pam.d/local-auth, which sshd and login include instead of
  common-auth (a grep of common-auth finds nothing).
- sshd sends /etc/legal/notice.txt (a drop-in read first); /etc/issue and /etc/issue.net carry no
  notice. The main file's later ``ClientAliveInterval 0``, ``ClientAliveCountMax 0`` and a CBC
  ``Ciphers`` line lose to the drop-ins (first value wins).
- /etc/gshadow is a symlink (mode 0777 itself) to a 0640 root:shadow file.
- nsswitch.conf says ``passwd: files extrausers``; /var/lib/extrausers/passwd has ``toor:x:0:0`` with
  an empty shadow password: libnss-extrausers refuses system UIDs (0 among them), so glibc never
  returns it (``getent passwd toor`` answers nothing, ``su toor`` finds no such user).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import common as c
from . import compliant

NAME = "acctfilebad"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
# A sha512-crypt-shaped hash: a usable password as far as the ageing rules go.
HASH = "$6$labsalt$0M3cQ0Fq0T6x9C0tCU3WjKpbm0H2QdOQ1yqKQ1mZx6oJ2aFzQ8k3xqVwvXg3e6uB7Pp9jzj8aR0sYbS2Y8mX1/"


def extrausers(root: Path) -> None:
    """A second name-service source after files, for passwd and shadow (libnss-extrausers)."""
    for db in ("passwd", "shadow"):
        c.replace_in(root, "/etc/nsswitch.conf", f"{db}:         files\n", f"{db}:         files extrausers\n")


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    today = int(ctx.now // c.DAY)
    c.append(root, "/etc/passwd", "#toor:x:0:0:retired, commented out:/root:/bin/sh\n")
    c.add_account(root, "dup", 1600, "!")
    c.append(root, "/etc/passwd", "dup:x:0:0:stale copy:/root:/bin/sh\n")
    c.append(root, "/etc/shadow", "dup::19000:0:99999:7:::\n")
    c.append(root, "/etc/passwd", "ops:x:1601:1601::/home/ops:/bin/sh\n")
    c.append(root, "/etc/shadow", f"ops:{HASH}:{today}:0:60:7:::\n")
    c.replace_in(root, "/etc/login.defs", "PASS_MAX_DAYS\t90", "PASS_MAX_DAYS\t99999")
    c.append(root, "/etc/login.defs", "\n# agency policy\nPASS_MAX_DAYS 60\n")
    # The faillock stack moves to a file of its own; common-auth is Debian's again.
    c.replace_in(root, "/etc/pam.d/common-auth", c.FAILLOCK_AUTH, c.DEBIAN_UNIX_AUTH)
    c.write(
        root,
        "/etc/pam.d/local-auth",
        c.FAILLOCK_AUTH + "auth\trequisite\t\t\tpam_deny.so\nauth\trequired\t\t\tpam_permit.so\n",
    )
    for service in ("sshd", "login"):
        c.replace_in(root, f"/etc/pam.d/{service}", "@include common-auth", "@include local-auth")
    c.sshd_dropin(root, "05-banner.conf", "Banner /etc/legal/notice.txt\n")
    c.write(root, "/etc/legal/notice.txt", c.LEGAL_NOTICE)
    c.write(root, "/etc/issue.net", "Debian GNU/Linux\n")
    c.sshd_main_append(root, "\nClientAliveInterval 0\nClientAliveCountMax 0\nCiphers aes128-cbc,aes256-ctr\n")
    real = root / "etc/gshadow.real"
    os.rename(root / "etc/gshadow", real)
    (root / "etc/gshadow").symlink_to("gshadow.real")
    extrausers(root)
    c.write(root, "/var/lib/extrausers/passwd", "toor:x:0:0:second root, from the directory:/root:/bin/sh\n")
    c.write(root, "/var/lib/extrausers/shadow", "toor::19000:0:99999:7:::\n", mode=0o640)
