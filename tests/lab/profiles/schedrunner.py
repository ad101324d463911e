"""schedrunner: a host without systemd whose real cron daemon runs the schedules the auditor installs.

The auditor is installed on it as on a server: the machine's /opt/auditor virtualenv copied to the
same place (the base has the same Python) and this checkout's auditor/, controls/ and playbooks/ in
/opt/auditor-src, so ``/usr/bin/env PYTHONPATH=/opt/auditor-src /opt/auditor/bin/python3 -m auditor``
runs this code inside the host. Host tasks as ``minimal``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from . import common as c
from .minimal import EXPECTED, REASONS
from .minimal import configure as minimal_configure

NAME = "schedrunner"
DAEMONS = ("sshd", "cron")
INIT: tuple[str, ...] = ()
__all__ = ["EXPECTED", "REASONS"]
REPO = Path(__file__).resolve().parents[3]
SOURCE = "/opt/auditor-src"


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal_configure(root, ctx)
    venv = Path(sys.prefix)  # the virtualenv the tests run in
    (root / "opt").mkdir(exist_ok=True)
    subprocess.run(["cp", "-a", str(venv), str(root / "opt" / "auditor")], check=True)
    for part in ("auditor", "controls", "playbooks"):
        shutil.copytree(REPO / part, root / SOURCE.lstrip("/") / part, ignore=shutil.ignore_patterns("__pycache__"))
