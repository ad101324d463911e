"""SHA256SUMS, written and read in one place: the exact ``sha256sum`` output format (``digest``, two
spaces, path; byte order of paths), and the comparison of a listing with what an archive holds."""

from __future__ import annotations

import hashlib
import re
import zipfile

from auditor.evidence_pack import SUMS, UNLISTED, members

_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")


def text(files: dict[str, bytes]) -> bytes:
    """``sha256sum`` output for the files, by path (byte order, as ``LC_ALL=C sort``)."""
    ordered = sorted(files.items(), key=lambda item: item[0].encode("utf-8"))
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in ordered).encode("utf-8")


def parse(sums: bytes) -> tuple[dict[str, str], list[str]]:
    """SHA256SUMS as {path: digest}, and what is wrong with its lines."""
    problems: list[str] = []
    listed: dict[str, str] = {}
    try:
        decoded = sums.decode("utf-8")
    except UnicodeDecodeError:
        return {}, [f"{SUMS}: not UTF-8 text"]
    if decoded and not decoded.endswith("\n"):
        problems.append(f"{SUMS}: the last line is cut short")
    # Lines end at "\n" only, as sha256sum reads them (str.splitlines also breaks at U+2028 and others).
    lines = decoded.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        if not match:
            problems.append(f"{SUMS} line {number}: not 'sha256  path'")
            continue
        digest, name = match.groups()
        problem = members.name_problem(name) or (f"lists {name} itself" if name in UNLISTED else None)
        if problem:
            problems.append(f"{SUMS} line {number}: {name!r}: {problem}")
        elif name in listed:
            problems.append(f"{SUMS} line {number}: {name!r} listed twice")
        else:
            listed[name] = digest
    return listed, problems


def mismatches(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], listed: dict[str, str]) -> list[str]:
    """Every file added to, missing from or changed in the archive, compared with the listing."""
    problems = [f"added: {n} (in the pack, not in {SUMS})" for n in by_name if n not in listed and n not in UNLISTED]
    for name, digest in listed.items():
        if name not in by_name:
            problems.append(f"missing: {name} (in {SUMS}, not in the pack)")
        elif members.sha256(archive, by_name[name]) != digest:
            problems.append(f"changed: {name} (its SHA-256 is not the one in {SUMS})")
    return problems
