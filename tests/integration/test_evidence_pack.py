"""Evidence packs end to end through the real command and the stock tools: a pack of a results folder
and a drill verifies with `auditor evidence verify` and with `ssh-keygen -Y verify` + `sha256sum -c`;
each kind of tampering is refused (exit 1) with its reason. The lab run's pack is tests/lab/test_evidence_pack.py."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import results as results_mod
from tests.packs import IDENTITY, REPO, allowed_signers, auditor, make_key, minimal_drill, stock_check

FIXTURE = REPO / "tests/unit/data/report/results.json"
Entries = list[tuple[str, bytes, int]]  # name, data, Unix mode


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    make_key(folder, "signing")
    make_key(folder, "other")
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder: the report fixture, with a secret in one evidence output and a run's lock file."""
    folder = tmp_path_factory.mktemp("run") / "run"
    folder.mkdir()
    document = json.loads(FIXTURE.read_text())
    evidence = next(e for h in document["hosts"] for r in h["results"] for e in r["evidence"] if "output" in e)
    evidence["output"] += (
        "\nDB_PASSWORD=hunter2-secret\nPGPASSWORD=hunter2-pg\nDATABASE_URL=postgresql://app:hunter2-dsn@db/app"
    )
    (folder / "results.json").write_text(json.dumps(document))
    (folder / "report.html").write_text(
        '<p>Lock it ("passwd -l NAME")</p><pre class="evidence-output">api_key: "hunter2-secret"</pre>'
        "<script>var token = 1;</script>\n"
    )
    (folder / ".auditor.lock").write_text('{"pid": 1}\n')
    return folder


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, keys: Path, run_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("pack") / "pack-2026.zip"
    drill = minimal_drill(tmp_path_factory.mktemp("drill") / "drill")
    proc = auditor("evidence", "pack", str(run_dir), str(drill), "--key", str(keys / "signing"), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def verify(pack: Path, allowed: Path, *extra: str) -> tuple[int, str]:
    proc = auditor("evidence", "verify", str(pack), "--allowed-signers", str(allowed), *extra)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout + proc.stderr


def entries(pack: Path) -> Entries:
    with zipfile.ZipFile(pack) as archive:
        return [(i.filename, archive.read(i), i.external_attr >> 16) for i in archive.infolist()]


def write_zip(path: Path, items: Entries) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # a duplicate name is what one test wants
        for name, data, mode in items:
            info = zipfile.ZipInfo(name, (2026, 12, 7, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def flip_byte(name: str) -> Callable[[Entries], Entries]:
    def change(items: Entries) -> Entries:
        out = []
        for n, data, mode in items:
            if n == name:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
            out.append((n, data, mode))
        return out

    return change


def test_a_pack_verifies_with_the_auditor(pack: Path, keys: Path) -> None:
    code, said = verify(pack, allowed_signers(keys, keys / "signing"))
    assert code == 0, said
    assert f"good signature by {IDENTITY}" in said and "run fixture-1" in said and "drill-2026-av" in said
    assert code == verify(pack, allowed_signers(keys, keys / "signing"), "--identity", IDENTITY)[0] == 0


def test_a_pack_verifies_with_the_stock_tools(pack: Path, keys: Path, tmp_path: Path) -> None:
    unzip, signature, digests = stock_check(pack, allowed_signers(keys, keys / "signing"), tmp_path / "x")
    assert unzip.returncode == 0, unzip.stderr
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert f'Good "auditor-evidence" signature for {IDENTITY}' in signature.stdout
    assert digests.returncode == 0, digests.stdout + digests.stderr
    listed = sorted(line.rsplit(": ", 1)[0] for line in digests.stdout.splitlines())
    assert listed == ["drills/drill-2026-av/drill.html", "drills/drill-2026-av/drill.json", "manifest.json",
                      "run/report.html", "run/results.json"]  # fmt: skip


def test_the_layout_is_relative_sorted_and_regular(pack: Path) -> None:
    items = entries(pack)
    names = [n for n, _, _ in items]
    assert names[:3] == ["SHA256SUMS", "SHA256SUMS.sig", "manifest.json"]
    assert names[3:] == sorted(names[3:])
    assert ".auditor.lock" not in " ".join(names)  # the run's lock is no evidence
    assert all(stat.S_ISREG(mode) and not n.startswith("/") and ".." not in n.split("/") for n, _, mode in items)


def test_the_manifest_says_what_the_issue_asks(pack: Path, keys: Path) -> None:
    manifest = json.loads(dict((n, d) for n, d, _ in entries(pack))["manifest.json"])
    assert manifest["format"] == "auditor.evidence-pack/1"
    assert manifest["run"]["id"] == "fixture-1"
    assert [d["id"] for d in manifest["drills"]] == ["drill-2026-av"]
    assert len(manifest["catalog"]["sha256"]) == 64 and manifest["auditor"]["version"]
    assert manifest["created"].endswith("Z") and manifest["previous"] is None
    fingerprint = auditor_fingerprint(keys / "signing.pub")
    assert manifest["signer"]["fingerprint"] == fingerprint


def auditor_fingerprint(public: Path) -> str:
    import subprocess

    said = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)], capture_output=True, text=True)
    return said.stdout.split()[1]


def test_evidence_is_masked_and_stays_valid(pack: Path, run_dir: Path) -> None:
    files = {n: d for n, d, _ in entries(pack)}
    assert b"hunter2" not in b"".join(files.values())
    document = json.loads(files["run/results.json"])
    results_mod.validate(document)  # masking value by value keeps the file a results file
    assert "DB_PASSWORD=********" in json.dumps(document)
    assert b"<script>var token = 1;</script>" in files["run/report.html"]  # CSP-hashed scripts untouched
    # Only what hosts printed is masked: the auditor's own texts (commands, remediation) are not.
    assert b'("passwd -l NAME")' in files["run/report.html"]
    original = json.loads((run_dir / "results.json").read_text())
    assert [r["remediation"] for h in document["hosts"] for r in h["results"]] == [
        r["remediation"] for h in original["hosts"] for r in h["results"]
    ]
    masked = json.loads(files["manifest.json"])["redaction"]["files_masked"]
    assert masked == ["run/report.html", "run/results.json"]


TAMPERING = [
    ("a results file", flip_byte("run/results.json"), "changed: run/results.json"),
    ("the manifest", flip_byte("manifest.json"), "changed: manifest.json"),
    ("SHA256SUMS", flip_byte("SHA256SUMS"), "SHA256SUMS.sig: "),
    ("the signature", flip_byte("SHA256SUMS.sig"), "SHA256SUMS.sig: "),
    ("an added file", lambda items: [*items, ("run/extra.txt", b"planted\n", 0o100644)], "added: run/extra.txt"),
    ("a removed file", lambda items: [i for i in items if i[0] != "run/report.html"], "missing: run/report.html"),
    ("a ../ entry", lambda items: [*items, ("../evil.sh", b"x", 0o100644)], "'..' component"),
    ("a nested ../ entry", lambda items: [*items, ("run/../../evil", b"x", 0o100644)], "'..' component"),
    ("an absolute entry", lambda items: [*items, ("/etc/cron.d/evil", b"x", 0o100644)], "an absolute path"),
    ("a symlink entry", lambda items: [*items, ("run/link", b"/etc/shadow", 0o120777)], "a symbolic link"),
    ("a duplicate entry", lambda items: [*items, ("run/results.json", b"{}", 0o100644)], "appears twice"),
    (
        "a zip bomb",
        lambda items: [*items, ("run/zeros", bytes(64 << 20), 0o100644)],
        "(a zip bomb?)",
    ),
]


@pytest.mark.parametrize(("what", "change", "reason"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_refused_with_its_reason(
    pack: Path, keys: Path, tmp_path: Path, what: str, change: Callable[[Entries], Entries], reason: str
) -> None:
    tampered = write_zip(tmp_path / "tampered.zip", change(entries(pack)))
    code, said = verify(tampered, allowed_signers(keys, keys / "signing"))
    assert code == 1, said
    assert reason in said and "NOT VERIFIED" in said, said


@pytest.mark.parametrize("system", [0, 5, 16], ids=["MS-DOS", "Atari", "BeOS"])
def test_a_member_turned_into_a_symlink_is_refused_whatever_system_it_names(
    pack: Path, keys: Path, tmp_path: Path, system: int
) -> None:
    """Its bytes (and so SHA256SUMS and the signature) unchanged: only the entry's metadata says "link",
    which unzip honours for entries made on these systems."""
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(tmp_path / "t.zip", "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "run/report.html":
                info.create_system, info.external_attr = system, 0o120777 << 16
            target.writestr(info, data)
    code, said = verify(tmp_path / "t.zip", allowed_signers(keys, keys / "signing"))
    assert code == 1 and "'run/report.html': a symbolic link" in said, said


def test_rewriting_the_zip_unchanged_still_verifies(pack: Path, keys: Path, tmp_path: Path) -> None:
    """The tampering tests' own rewriting is not what they detect."""
    same = write_zip(tmp_path / "same.zip", entries(pack))
    assert verify(same, allowed_signers(keys, keys / "signing"))[0] == 0


def test_a_truncated_zip_is_refused(pack: Path, keys: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(pack.read_bytes()[: pack.stat().st_size - 100])
    code, said = verify(cut, allowed_signers(keys, keys / "signing"))
    assert code == 1 and "not a complete zip archive" in said, said


def test_another_key_is_refused(pack: Path, keys: Path) -> None:
    wrong = allowed_signers(keys, keys / "other")
    code, said = verify(pack, wrong)
    assert code == 1 and "made by no key of" in said, said
    code, said = verify(pack, wrong, "--identity", IDENTITY)
    assert code == 1 and "signature not valid for identity" in said, said


def test_another_identity_is_refused(pack: Path, keys: Path) -> None:
    code, said = verify(pack, allowed_signers(keys, keys / "signing"), "--identity", "someone@else")
    assert code == 1 and "signature not valid for identity 'someone@else'" in said, said


@pytest.mark.parametrize(
    ("options", "identity"),
    [
        ('namespaces="file"', None),  # the key may sign, but not evidence packs
        ('valid-before="20200101"', None),  # the key expired
        ('valid-after="29990101"', None),  # not yet valid
        ('namespaces="auditor-evidence"', "officer@example.org.evil"),  # an identity that merely starts alike
    ],
)
def test_allowed_signers_options_are_honoured(
    pack: Path, keys: Path, tmp_path: Path, options: str, identity: str | None
) -> None:
    public = " ".join((keys / "signing.pub").read_text().split()[:2])
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"{IDENTITY} {options} {public}\n")
    code, said = verify(pack, allowed, *(("--identity", identity) if identity else ()))
    assert code == 1 and "NOT VERIFIED" in said, said


def test_a_pack_signed_with_another_key_fails_the_stock_check(
    keys: Path, run_dir: Path, tmp_path: Path, pack: Path
) -> None:
    """The stock tools also refuse: the signature check is not the auditor's own invention."""
    unzip, signature, digests = stock_check(pack, allowed_signers(keys, keys / "other"), tmp_path / "x")
    assert unzip.returncode == 0 and digests.returncode == 0
    assert signature.returncode != 0


def test_packs_chain_year_to_year(pack: Path, keys: Path, run_dir: Path, tmp_path: Path) -> None:
    second = tmp_path / "pack-2027.zip"
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(keys / "signing"), "-o", str(second),
                   "--previous", str(pack))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    old_sums = dict((n, d) for n, d, _ in entries(pack))["SHA256SUMS"]
    manifest = json.loads(dict((n, d) for n, d, _ in entries(second))["manifest.json"])
    assert manifest["previous"]["sha256sums_sha256"] == hashlib.sha256(old_sums).hexdigest()
    allowed = allowed_signers(keys, keys / "signing")
    code, said = verify(second, allowed, "--previous", str(pack))
    assert code == 0 and "previous pack" in said, said
    # A pack that is not the one named: the chain is broken.
    code, said = verify(second, allowed, "--previous", str(second))
    assert code == 1 and "previous: names" in said, said


def test_a_symlink_in_the_run_folder_is_refused(keys: Path, run_dir: Path, tmp_path: Path) -> None:
    linked = tmp_path / "run"
    shutil.copytree(run_dir, linked)
    os.symlink("/etc/passwd", linked / "passwd.txt")
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(linked), "--key", str(keys / "signing"), "-o", str(out))
    assert proc.returncode == 2 and "is a symbolic link: refused" in proc.stderr, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["notes\u2028b.txt", "notes\x85b.txt"], ids=["U+2028", "U+0085"])
def test_a_name_with_a_line_separator_is_refused(keys: Path, run_dir: Path, tmp_path: Path, name: str) -> None:
    """Packed, it made a SHA256SUMS line that sha256sum reads as one line and verify read as two: the
    auditor refused its own pack."""
    odd = tmp_path / "run"
    shutil.copytree(run_dir, odd)
    (odd / name).write_text("notes\n")
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(odd), "--key", str(keys / "signing"), "-o", str(out))
    assert proc.returncode == 2 and "line separator in the name" in proc.stderr, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "names", [("Notes.txt", "notes.txt"), ("caf\u00e9.txt", "cafe\u0301.txt")], ids=["case", "NFC-NFD"]
)
def test_names_that_are_one_file_on_windows_or_macos_are_refused(
    pack: Path, keys: Path, run_dir: Path, tmp_path: Path, names: tuple[str, str]
) -> None:
    """Extracted where case or normalisation does not tell them apart, one overwrites the other and the
    inspector's sha256sum -c fails on a pack nobody tampered with."""
    odd = tmp_path / "run"
    shutil.copytree(run_dir, odd)
    for number, name in enumerate(names):
        (odd / name).write_text(f"notes {number}\n")
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(odd), "--key", str(keys / "signing"), "-o", str(out))
    assert proc.returncode == 2 and "differ only by case or Unicode normalisation" in proc.stderr, proc.stderr
    assert not out.exists()
    # and a pack holding such names (made by other means) does not verify
    items = entries(pack)
    planted = [(f"run/{name}", b"x", 0o100644) for name in names]
    clash = write_zip(tmp_path / "clash.zip", [*items, *planted])
    code, said = verify(clash, allowed_signers(keys, keys / "signing"))
    assert code == 1 and "differ only by case or Unicode normalisation" in said, said


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("fe80::1.txt", "characters Windows does not allow in file names"),
        ("CON.txt", "is a device name on Windows"),
        ("notes.", "ends with a dot or a space"),
    ],
    ids=["colon", "device", "trailing-dot"],
)
def test_names_windows_cannot_extract_are_refused(
    pack: Path, keys: Path, run_dir: Path, tmp_path: Path, name: str, reason: str
) -> None:
    """An inspector extracts packs on Windows too: there such a file is refused, renamed or a device, and
    sha256sum -c fails on a pack nobody tampered with. Refused when packing, naming the file to rename."""
    odd = tmp_path / "run"
    shutil.copytree(run_dir, odd)
    (odd / "evidence").mkdir()
    (odd / "evidence" / name).write_text("notes\n")
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(odd), "--key", str(keys / "signing"), "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert f"error: {odd / 'evidence' / name}: cannot be packed: " in proc.stderr and reason in proc.stderr
    assert not out.exists()
    # and a pack holding one (made by other means) does not verify
    planted = write_zip(tmp_path / "planted.zip", [*entries(pack), (f"run/{name}", b"x", 0o100644)])
    code, said = verify(planted, allowed_signers(keys, keys / "signing"))
    assert code == 1 and reason in said and "NOT VERIFIED" in said, said


def test_a_key_comment_cannot_add_a_line_to_the_allowed_signers_line(run_dir: Path, tmp_path: Path) -> None:
    """The comment is free text the key's maker chose; the line we print is pasted into allowed_signers."""
    forged = 'officer\nintruder@example.org namespaces="auditor-evidence" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE'
    key = tmp_path / "k"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", forged, "-f", str(key)], check=True, timeout=30
    )
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(key), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    public = key.with_name("k.pub").read_text().split()[:2]
    assert f'allowed_signers line: IDENTITY namespaces="auditor-evidence" {" ".join(public)}\n' in proc.stdout
    assert "intruder" not in proc.stdout
    manifest = json.loads(dict((n, d) for n, d, _ in entries(out))["manifest.json"])
    assert manifest["signer"]["public_key"] == " ".join(public)


def test_a_key_with_a_passphrase_is_an_error_not_a_prompt(run_dir: Path, tmp_path: Path) -> None:
    locked = make_key(tmp_path, "locked", passphrase="correct horse")
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(locked), "-o", str(tmp_path / "p.zip"), timeout=30)
    assert proc.returncode == 2 and "protected by a passphrase" in proc.stderr, proc.stderr


def test_an_existing_pack_is_never_overwritten(pack: Path, keys: Path, run_dir: Path) -> None:
    before = pack.read_bytes()
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(keys / "signing"), "-o", str(pack))
    assert proc.returncode == 2 and "exists" in proc.stderr, proc.stderr
    assert pack.read_bytes() == before


@pytest.mark.parametrize(
    ("drill", "reason"),
    [
        ({"schema": "auditor.drill/2", "id": "x"}, "schema: expected 'auditor.drill/1'"),
        ({"schema": "auditor.drill/1", "id": "../x"}, "id: expected letters"),
        ({"schema": "auditor.drill/1", "id": "NUL"}, "id: cannot name a folder of the pack: 'NUL' is a device name"),
        ({"schema": "auditor.drill/1", "id": "x."}, "id: cannot name a folder of the pack: 'x.' ends with a dot"),
    ],
)
def test_a_folder_that_is_no_drill_is_refused(
    keys: Path, run_dir: Path, tmp_path: Path, drill: dict[str, str], reason: str
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/drill.json").write_text(json.dumps(drill))
    proc = auditor("evidence", "pack", str(run_dir), str(tmp_path / "d"), "--key", str(keys / "signing"),
                   "-o", str(tmp_path / "p.zip"))  # fmt: skip
    assert proc.returncode == 2 and reason in proc.stderr, proc.stderr


def test_a_pack_is_not_chained_to_a_tampered_one(pack: Path, keys: Path, run_dir: Path, tmp_path: Path) -> None:
    tampered = write_zip(tmp_path / "old.zip", flip_byte("run/results.json")(entries(pack)))
    out = tmp_path / "new.zip"
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(keys / "signing"), "-o", str(out),
                   "--previous", str(tampered))  # fmt: skip
    assert proc.returncode == 2 and "changed: run/results.json" in proc.stderr, proc.stderr
    assert not out.exists()


def test_a_previous_pack_with_a_manifest_too_deep_to_parse_is_refused(
    keys: Path, run_dir: Path, tmp_path: Path
) -> None:
    manifest = b"[" * 100_000 + b"]" * 100_000
    sums = f"{hashlib.sha256(manifest).hexdigest()}  manifest.json\n".encode()
    old = write_zip(tmp_path / "old.zip", [("SHA256SUMS", sums, 0o100644), ("manifest.json", manifest, 0o100644)])
    out = tmp_path / "new.zip"
    proc = auditor("evidence", "pack", str(run_dir), "--key", str(keys / "signing"), "-o", str(out),
                   "--previous", str(old))  # fmt: skip
    assert proc.returncode == 2 and "manifest.json is not JSON" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_attestations_are_packed_byte_for_byte(keys: Path, run_dir: Path, tmp_path: Path) -> None:
    """Their SHA-256s are attested: masking them would make every attestation fail."""
    folder = tmp_path / "evidence"
    (folder / "policies").mkdir(parents=True)
    policy = b"%PDF-1.7 access policy: password = at least 12 characters\n"
    (folder / "policies/access.pdf").write_bytes(policy)
    (folder / "attestations.yaml").write_text("attestations: []\n")
    out = tmp_path / "p.zip"
    proc = auditor("evidence", "pack", str(run_dir), "--attestations", str(folder), "--key", str(keys / "signing"),
                   "-o", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    files = {n: d for n, d, _ in entries(out)}
    assert files["attestations/policies/access.pdf"] == policy
    assert "attestations/attestations.yaml" in files
    assert verify(out, allowed_signers(keys, keys / "signing"))[0] == 0
