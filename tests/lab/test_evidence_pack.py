"""A pack made from a real lab run (and a drill folder) verifies with `auditor evidence verify` and with
the inspector's stock tools; a byte changed in the packed run is caught by both."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, lab_network
from tests.packs import IDENTITY, allowed_signers, auditor, make_key, minimal_drill, stock_check

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def pack_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(("minimal",), f"{bridge}e", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def lab_pack(pack_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(pack, allowed_signers, the run folder) of one audit of the lab host."""
    out = tmp_path_factory.mktemp("labpack")
    results = results_by_host(pack_lab, out)  # writes out/run
    assert results, "the lab run audited no host"
    key = make_key(out / "keys")
    drill = minimal_drill(out / "drill")
    pack = out / "evidence-2026.zip"
    proc = auditor("evidence", "pack", str(out / "run"), str(drill), "--key", str(key), "--output", str(pack))
    assert proc.returncode == 0, proc.stderr
    return pack, allowed_signers(out / "keys", key), out / "run"


def test_the_lab_runs_pack_verifies_with_the_auditor(lab_pack: tuple[Path, Path, Path]) -> None:
    pack, allowed, run = lab_pack
    proc = auditor("evidence", "verify", str(pack), "--allowed-signers", str(allowed), "--identity", IDENTITY)
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads((run / "results.json").read_text())["run"]["id"]
    assert f"run {run_id}" in proc.stdout and "VERIFIED" in proc.stdout


def test_the_lab_runs_pack_verifies_with_the_stock_tools(lab_pack: tuple[Path, Path, Path], tmp_path: Path) -> None:
    pack, allowed, run = lab_pack
    unzip, signature, digests = stock_check(pack, allowed, tmp_path / "x")
    assert unzip.returncode == 0, unzip.stderr
    assert signature.returncode == 0 and "Good" in signature.stdout, signature.stderr
    assert digests.returncode == 0, digests.stdout
    assert "run/results.json: OK" in digests.stdout and "run/report.html: OK" in digests.stdout
    # The packed results are the run's (no secret-looking value in a lab host's evidence to mask).
    assert (tmp_path / "x/run/results.json").read_bytes() == (run / "results.json").read_bytes()


def test_a_changed_byte_in_the_lab_runs_results_is_caught(lab_pack: tuple[Path, Path, Path], tmp_path: Path) -> None:
    pack, allowed, _ = lab_pack
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "run/results.json":
                data = data.replace(b'"status": "fail"', b'"status": "pass"', 1)  # the forgery that matters
            dst.writestr(info, data)
    proc = auditor("evidence", "verify", str(tampered), "--allowed-signers", str(allowed))
    assert proc.returncode == 1 and "changed: run/results.json" in proc.stderr, proc.stderr
    _, signature, digests = stock_check(tampered, allowed, tmp_path / "x")
    assert signature.returncode == 0  # SHA256SUMS itself is intact ...
    assert digests.returncode != 0 and "run/results.json: FAILED" in digests.stdout  # ... the file is not
