"""install.sh stops before touching anything when it cannot do its job: not root, or an unknown option."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALLER = Path(__file__).resolve().parents[2] / "install.sh"


def test_unknown_option_is_refused_with_exit_2() -> None:
    done = subprocess.run(["sh", str(INSTALLER), "--tset"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "unknown argument '--tset'" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_not_root_is_refused_before_anything_is_installed() -> None:
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", str(INSTALLER)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "run it as root" in done.stderr
    assert "apt-get" not in done.stdout
