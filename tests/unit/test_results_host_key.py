"""``host_key`` in results.json: the key a host presented, optional, in the form ssh-keygen -l gives."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import jsonschema
import paramiko
import pytest

from auditor.results import validate
from auditor.transports.ssh import fingerprint_text

FIXTURE = Path(__file__).parent / "data" / "report" / "results.json"


@pytest.fixture
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_a_real_key_fingerprint_is_ssh_keygens_and_fits_the_schema(doc: dict, tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    fingerprint = fingerprint_text(paramiko.Ed25519Key.from_private_key_file(str(tmp_path / "k")))
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True)
    assert fingerprint == "ssh-ed25519 " + listed.stdout.split()[1]
    with_key = copy.deepcopy(doc)
    with_key["hosts"][0]["host_key"] = fingerprint
    validate(with_key)
    validate(doc)  # still optional


@pytest.mark.parametrize("bad", ["", "SHA256:abc", "ssh-ed25519 MD5:aa:bb", "<b>x</b> SHA256:" + "A" * 43])
def test_anything_else_is_refused(doc: dict, bad: str) -> None:
    broken = copy.deepcopy(doc)
    broken["hosts"][0]["host_key"] = bad
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
