"""`auditor report` renders a stored results.json of the old version (auditor.results/1, every command
inline) and of the current one (commands many results share stored once), through the real command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "unit" / "data" / "report"
COMMANDS = ("/bin/sh -s: probe LNX-SSH-ROOT-LOGIN-DISABLED", "/bin/sh -s: probe LNX-AV-INSTALLED")


def report(source: Path, fmt: str, target: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "report",
            str(source),
            "--format",
            fmt,
            "--lang",
            "en",
            "--output",
            str(target),
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,  # this checkout's auditor, not an installed one
    )


@pytest.mark.parametrize("fixture", ["results-v1.json", "results.json"])
def test_every_format_shows_the_commands(fixture: str, tmp_path: Path) -> None:
    source = DATA / fixture
    for fmt in ("html", "csv", "junit", "json"):
        target = tmp_path / f"out.{fmt}"
        proc = report(source, fmt, target, "--previous", str(DATA / "results-v1.json"))
        assert proc.returncode == 0, proc.stderr
        text = target.read_text(encoding="utf-8-sig")
        for command in COMMANDS:
            assert command in text, (fmt, command)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    web = {r["check"]: r["evidence_commands"] for r in rows if r["host"] == "web01"}
    assert web["LNX-SSH-ROOT-LOGIN-DISABLED"] == COMMANDS[0]
    cases = ET.parse(tmp_path / "out.junit").getroot().findall("./testsuite/testcase")
    assert any((c.findtext("system-out") or "").startswith(f"$ {COMMANDS[0]}\n") for c in cases)
    assert json.loads((tmp_path / "out.json").read_text())["schema"] == json.loads(source.read_text())["schema"]


def test_a_broken_reference_is_bad_input(tmp_path: Path) -> None:
    document = json.loads((DATA / "results.json").read_text(encoding="utf-8"))
    document["shared_evidence"].clear()
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    proc = report(broken, "html", tmp_path / "r.html")
    assert proc.returncode == 2 and "shared_evidence" in proc.stderr and "Traceback" not in proc.stderr
