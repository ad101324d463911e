"""The pure parts of evidence packs: which names a pack may hold, how SHA256SUMS is written and read,
and what the masking touches (what hosts printed) and leaves (the auditor's own texts)."""

from __future__ import annotations

import json

import pytest

from auditor.evidence_pack.members import name_problem, windows_problem
from auditor.evidence_pack.redaction import redacted
from auditor.evidence_pack.sums import parse, text

DIGEST = "a" * 64


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("run/results.json", None),
        ("drills/drill-2026/drill.html", None),
        ("../etc/passwd", "'..' component"),
        ("run/../../x", "'..' component"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/x", "absolute path"),
        ("run\\..\\x", "backslash"),
        ("run/a\nb", "control character"),
        ("run/a\u2028b", "line separator"),  # a line break to str.splitlines, not to sha256sum
        ("run/a\x85b", "line separator"),
        ("run/a\u202eb", "line separator"),  # not printable either: a right-to-left override
        ("run/ré sumé.txt", None),
        ("run//x", "empty or '.' component"),
        ("./run/x", "empty or '.' component"),
        ("run/", "empty or '.' component"),
        ("", "empty name"),
        # what Windows cannot extract as named: the inspector's sha256sum -c there would fail
        ("run/fe80::1.json", "characters Windows does not allow"),
        ("run/a<b>|c?*.txt", "characters Windows does not allow"),
        ('run/"quoted".txt', "characters Windows does not allow"),
        ("run/CON", "device name on Windows"),
        ("attestations/nul.txt", "device name on Windows"),
        ("run/Com1.tar.gz", "device name on Windows"),
        ("run/LPT\u00b9.log", "device name on Windows"),
        ("run/conin$.txt", "device name on Windows"),
        ("drills/AUX .txt/x", "device name on Windows"),
        ("run/notes.", "ends with a dot or a space"),
        ("run/notes /x", "ends with a dot or a space"),
        ("run/CONFIG.txt", None),  # a device name only as the whole stem
        ("run/COM10.txt", None),
        ("run/.hidden", None),
        ("run/a.b.c", None),
    ],
)
def test_names_a_pack_may_hold(name: str, problem: str | None) -> None:
    said = name_problem(name)
    assert (said is None) if problem is None else (said is not None and problem in said), said


def test_a_windows_problem_names_what_is_wrong() -> None:
    assert windows_problem("a:b|c") == ": | in 'a:b|c': characters Windows does not allow in file names"
    assert windows_problem("PRN.txt") == "'PRN.txt' is a device name on Windows (CON, NUL, COM1…), with any extension"
    assert windows_problem("results.json") is None


def test_sha256sums_is_sha256sum_output_in_byte_order() -> None:
    written = text({"run/b": b"", "manifest.json": b"{}", "Run/a": b"x"}).decode()
    names = [line.split("  ", 1)[1] for line in written.splitlines()]
    assert names == ["Run/a", "manifest.json", "run/b"]  # byte order, as LC_ALL=C sort
    assert written.splitlines()[2] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  run/b"


@pytest.mark.parametrize(
    ("sums", "problem"),
    [
        (f"{DIGEST}  ../x\n", "'..' component"),
        (f"{DIGEST}  /etc/x\n", "absolute path"),
        (f"{DIGEST}  run/x\n{DIGEST}  run/x\n", "listed twice"),
        (f"{DIGEST}  SHA256SUMS\n", "lists SHA256SUMS itself"),
        (f"{DIGEST} *run/x\n", "not 'sha256  path'"),  # binary-mode lines are not what we write
        (f"{DIGEST}  run/x", "cut short"),
        ("\\" + f"{DIGEST}  run\\\\x\n", "not 'sha256  path'"),  # sha256sum's escaped form
        # one line to sha256sum: its name is refused, not read as a second line listing "run/b"
        (f"{DIGEST}  run/a\u2028{DIGEST}  run/b\n", "line separator"),
    ],
)
def test_sha256sums_lines_that_are_refused(sums: str, problem: str) -> None:
    _, problems = parse(sums.encode())
    assert any(problem in p for p in problems), problems


def test_host_output_in_json_is_masked_and_the_file_stays_json() -> None:
    document = {
        "hosts": [
            {
                "results": [
                    {
                        "reason": "accounts with an empty password is empty",
                        "remediation": {"en": 'Lock it ("passwd -l NAME")'},
                        "evidence": [{"command": "getent passwd </dev/null", "output": 'DB_PASSWORD="s3cr3t" x'}],
                    }
                ]
            }
        ],
        "shared_evidence": {"e1": {"output": "token: abc", "stderr": "secret=def"}},
    }
    packed = json.loads(redacted("run/results.json", json.dumps(document).encode()))
    result = packed["hosts"][0]["results"][0]
    assert result["evidence"][0]["output"] == "DB_PASSWORD=******** x"
    assert packed["shared_evidence"]["e1"] == {"output": "token: ********", "stderr": "secret=********"}
    assert result["reason"] == document["hosts"][0]["results"][0]["reason"]  # ours, not the host's
    assert result["remediation"] == {"en": 'Lock it ("passwd -l NAME")'}
    assert result["evidence"][0]["command"] == "getent passwd </dev/null"


def test_a_file_with_nothing_to_mask_is_packed_byte_for_byte() -> None:
    data = b'{"b": 1,   "a": {"output": "PasswordAuthentication no"}}'
    assert redacted("run/results.json", data) is data


def test_json_lines_are_masked_line_by_line() -> None:
    data = b'{"output": "password=x"}\n{"output": "fine"}\n'
    assert redacted("run/hosts.jsonl", data) == b'{"output": "password=********"}\n{"output": "fine"}\n'


def test_html_evidence_blocks_only() -> None:
    html = (
        '<p>passwd -l NAME</p><pre class="evidence-output">api_key=k3y</pre>'
        "<pre>getent passwd &lt;/dev/null</pre><script>var token = 1;</script>"
    )
    out = redacted("run/report.html", html.encode()).decode()
    assert '<pre class="evidence-output">api_key=********</pre>' in out
    assert out.replace("api_key=********", "api_key=k3y") == html


def test_other_text_is_masked_whole_and_bytes_are_kept() -> None:
    assert redacted("run/notes.txt", b"token = abc\n") == b"token = ********\n"
    blob = b"\xff\xfepassword=x"
    assert redacted("run/capture.bin", blob) is blob


def test_sha256sums_lines_end_at_newline_only() -> None:
    listed, problems = parse(f"{DIGEST}  run/a\u2028{DIGEST}  run/b\n{DIGEST}  run/c\n".encode())
    assert list(listed) == ["run/c"] and len(problems) == 1 and "line 1" in problems[0], problems
    assert parse(b"") == ({}, [])
