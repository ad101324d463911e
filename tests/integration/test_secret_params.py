"""Secrets given as parameters are never recorded: results.json's ``run.params`` keeps the names,
not the values, of parameters named like secrets (at any depth), and masks a password in a URL."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.inventory import load_inventory, redact
from tests.helpers import auditor

PLAYBOOK = """\
name: tiny
params: {smtp_password: PLAYBOOK-SECRET}
plays:
  - hosts: [all]
    checks: [LNX-ACCOUNTS-ONLY-ROOT-UID0]
"""
SECRETS = ("PLAYBOOK-SECRET", "CLI-SECRET", "CLI-KEY", "NESTED-TOKEN", "URL-PASSWORD", "PASSWD-VALUE")


def test_secret_params_are_not_written_to_results(tmp_path: Path) -> None:
    (tmp_path / "pb.yaml").write_text(PLAYBOOK)
    (tmp_path / "inv.ini").write_text("[servers]\nme ansible_connection=local\n")
    out = tmp_path / "out"
    proc = auditor(
        "run",
        "-i",
        str(tmp_path / "inv.ini"),
        "-p",
        str(tmp_path / "pb.yaml"),
        "--no-network",
        "-o",
        str(out),
        "--param",
        "api_password=CLI-SECRET",
        "--param",
        "aws_secret_key=CLI-KEY",
        "--param",
        "note=token: NESTED-TOKEN",
        "--param",
        "db_passwd=PASSWD-VALUE",
        "--param",
        "mirror=https://bob:URL-PASSWORD@127.0.0.1/x",
        "--param",
        "win_min_password_length=14",
    )
    assert proc.returncode in (0, 1, 3), proc.stderr
    written = "".join(p.read_text() for p in out.iterdir() if p.is_file()) + proc.stdout + proc.stderr
    leaked = [s for s in SECRETS if s in written]
    assert not leaked, f"written to the output or the terminal: {leaked}"
    params = json.loads((out / "results.json").read_text())["run"]["params"]
    assert set(params) >= {"api_password", "aws_secret_key", "smtp_password", "db_passwd"}  # named, not valued
    assert params["win_min_password_length"] == 14  # a parameter about passwords is no secret
    assert params["mirror"] == "https://bob:***@127.0.0.1/x"


def test_redact_walks_lists_and_mappings() -> None:
    assert redact({"a": [{"token": "x"}, "ftp://u:p@h/"], "b": 1}) == {
        "a": [{"token": "(secret: not recorded)"}, "ftp://u:***@h/"],
        "b": 1,
    }


def test_inventory_drops_passwd_and_secret_keys(tmp_path: Path) -> None:
    path = tmp_path / "inv.ini"
    path.write_text("[servers]\nme ansible_connection=local db_passwd=x aws_secret_key=y api_key=z level_x=1\n")
    assert load_inventory(path).hosts["me"].vars == {"level_x": 1}
