"""``auditor evidence verify``: the pack is good only when ssh-keygen accepts the signature over
SHA256SUMS for a key of the allowed signers, and the archive holds exactly the files SHA256SUMS lists,
each with its digest. Every reason a pack fails is collected and named, not only the first."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.evidence_pack import (
    FORMAT,
    MANIFEST,
    SIGNATURE,
    SUMS,
    PackInputError,
    PackInvalid,
    members,
    signing,
)
from auditor.evidence_pack import sums as sums_mod

_SUMS_LIMIT = 64 << 20
_SIGNATURE_LIMIT = 64 << 10
_MANIFEST_LIMIT = 16 << 20
_GOOD_KEY = re.compile(r" key (SHA256:[A-Za-z0-9+/]+)")


@dataclass
class Verified:
    pack: Path
    identity: str
    fingerprint: str
    files: int
    manifest: dict[str, Any]
    sums_sha256: str
    chain: list[str] = field(default_factory=list)


@dataclass
class PackVerdict:
    """What ``auditor evidence verify`` says: its lines (stdout when verified, stderr when not) and exit code."""

    lines: list[str]
    verified: bool

    @property
    def exit_code(self) -> int:
        return 0 if self.verified else 1


def pack_verdict(
    pack: str, allowed_signers: str, identity: str | None = None, previous: str | None = None
) -> PackVerdict:
    """The pack verified (``verify_pack``), said as lines: who signed, what matched, the chain; or every problem.
    The pack is named as the user gave it."""
    try:
        verified = verify_pack(
            Path(pack), Path(allowed_signers), identity, None if previous is None else Path(previous)
        )
    except PackInvalid as exc:
        return PackVerdict([*(f"{pack}: {problem}" for problem in exc.problems), f"{pack}: NOT VERIFIED"], False)
    run = verified.manifest.get("run") or {}
    drills = ", ".join(str(d.get("id")) for d in verified.manifest.get("drills") or []) or "none"
    lines = [
        f"good signature by {verified.identity} ({verified.fingerprint})",
        f"{verified.files} files match SHA256SUMS; run {run.get('id')}; drills {drills}",
        *verified.chain,
        f"{pack}: VERIFIED",
    ]
    return PackVerdict(lines, True)


def _signer(allowed_signers: Path, identity: str | None, signature: bytes, sums: bytes) -> tuple[str, str]:
    """(identity, key fingerprint) of a good signature; PackInvalid otherwise."""
    if identity is not None:
        candidates = [identity]
    else:
        candidates = signing.principals(allowed_signers, signature)
        if not candidates:
            raise PackInvalid(
                [
                    f"{SIGNATURE}: made by no key of {allowed_signers} for namespace auditor-evidence (unknown key, "
                    "or a damaged signature)"
                ]
            )
    failures: list[str] = []
    for name in candidates:
        try:
            said = signing.verify(allowed_signers, name, signature, sums)
        except PackInvalid as exc:
            failures += exc.problems
            continue
        match = _GOOD_KEY.search(said)
        return name, match.group(1) if match else ""
    raise PackInvalid(failures)


def _manifest(data: bytes, fingerprint: str) -> tuple[dict[str, Any], list[str]]:
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError):
        return {}, [f"{MANIFEST}: not JSON"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return {}, [f"{MANIFEST}: not of format {FORMAT}"]
    named = (manifest.get("signer") or {}).get("fingerprint")
    if fingerprint and named != fingerprint:
        return manifest, [f"{MANIFEST}: names signer {named}, but {fingerprint} signed"]
    return manifest, []


def verify_pack(
    pack: Path, allowed_signers: Path, identity: str | None = None, previous: Path | None = None
) -> Verified:
    """The pack checked end to end; PackInvalid with every problem found."""
    if not allowed_signers.is_file():
        raise PackInputError(f"--allowed-signers {allowed_signers}: no such file")
    if identity is not None:
        signing.check_identity(identity)
    if not pack.is_file():
        raise PackInputError(f"{pack}: no such file")
    problems: list[str] = []
    with members.opened(pack) as (archive, entries):
        by_name = {info.filename: info for info in entries}
        absent = [n for n in (SUMS, SIGNATURE, MANIFEST) if n not in by_name]
        if absent:
            raise PackInvalid([f"missing: {n} (not an evidence pack, or stripped)" for n in absent])
        sums = members.read(archive, by_name[SUMS], _SUMS_LIMIT)
        signature = members.read(archive, by_name[SIGNATURE], _SIGNATURE_LIMIT)
        name, fingerprint = "", ""
        try:
            name, fingerprint = _signer(allowed_signers, identity, signature, sums)
        except PackInvalid as exc:
            problems += exc.problems
        listed, bad_lines = sums_mod.parse(sums)
        problems += bad_lines
        problems += sums_mod.mismatches(archive, by_name, listed)
        manifest, manifest_problems = _manifest(members.read(archive, by_name[MANIFEST], _MANIFEST_LIMIT), fingerprint)
        problems += manifest_problems
    if problems:
        raise PackInvalid(problems)
    verified = Verified(pack, name, fingerprint, len(listed), manifest, hashlib.sha256(sums).hexdigest())
    if previous is not None:
        verified.chain = _chain(verified, previous, allowed_signers)
    return verified


def _chain(new: Verified, old_pack: Path, allowed_signers: Path) -> list[str]:
    """The old pack verified too (by any allowed signer: keys change between years) and named by the new one."""
    try:
        old = verify_pack(old_pack, allowed_signers)
    except PackInvalid as exc:
        raise PackInvalid([f"previous pack {old_pack}: {p}" for p in exc.problems]) from None
    link = new.manifest.get("previous") or {}
    if link.get("sha256sums_sha256") != old.sums_sha256:
        said = link.get("sha256sums_sha256") or "no previous pack"
        raise PackInvalid(
            [f"{MANIFEST}: previous: names {said}, but {old_pack}'s {SUMS} has SHA-256 {old.sums_sha256}"]
        )
    return [f"previous pack {old_pack} verified; this pack names its {SUMS} (SHA-256 {old.sums_sha256})", *old.chain]
