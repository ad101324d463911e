"""acctdbuid0: /etc/passwd names one UID 0 account (root), but the system has two more.

nsswitch.conf says ``passwd: files db``, and libnss-db's /var/lib/misc/passwd.db (built with
``makedb`` inside the host, in the layout of the package's own Makefile) holds:

- ``svcadm``, UID 0, with all three keys (``.name``, ``=uid`` and the ``0N`` key enumeration walks):
  ``getent passwd`` lists it, ``id -u svcadm`` is 0.
- ``hidden``, UID 0, with a ``.name`` key only: getpwnam (login, su, sshd) finds it, but libnss-db's
  enumeration walks the ``0N`` keys, so ``getent passwd`` never lists it.
- ``kiosk``, an ordinary account with an empty password field and a ``.name`` key only: pam_unix
  takes that empty field as its password, and no listing shows the account.

A line-by-line reading of /etc/passwd and /etc/shadow passes the host on UID 0, empty passwords and
password ageing; the system (and the auditor) fail all three.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import common as c
from . import compliant

NAME = "acctdbuid0"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
PASSWD_DB = "/var/lib/misc/passwd.db"
SVCADM = "svcadm:x:0:0:ops automation:/root:/bin/bash"
HIDDEN = "hidden:x:0:0:no enumeration key:/root:/bin/sh"
KIOSK = "kiosk::1500:1500:public terminal:/home/kiosk:/bin/sh"
# makedb's input: "KEY VALUE" lines; .name and =uid serve getpwnam/getpwuid, 0N getpwent.
DB_INPUT = f"00 {SVCADM}\n.svcadm {SVCADM}\n=0 {SVCADM}\n.hidden {HIDDEN}\n.kiosk {KIOSK}\n"


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.replace_in(root, "/etc/nsswitch.conf", "passwd:         files\n", "passwd:         files db\n")
    subprocess.run(
        ["chroot", str(root), "makedb", "--quiet", "-o", PASSWD_DB, "-"],
        input=DB_INPUT, text=True, check=True, capture_output=True,
    )  # fmt: skip
