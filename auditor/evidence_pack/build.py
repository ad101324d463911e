"""``auditor evidence pack``: a run folder, drill folders and attestations, masked, listed in SHA256SUMS,
signed, and zipped in a fixed order with relative paths only.

Nothing is read through a symbolic link: folders are walked by descriptor and every file is opened
with ``O_NOFOLLOW``; a link in a packed folder is refused (it could pull any file of this machine
into a pack an inspector takes away)."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor import results as results_mod
from auditor.evidence import now
from auditor.evidence_pack import (
    FORMAT,
    MANIFEST,
    NAMESPACE,
    SIGNATURE,
    SUMS,
    PackInputError,
    PackInvalid,
    members,
    signing,
)
from auditor.evidence_pack import sums as sums_mod
from auditor.evidence_pack.redaction import redacted
from auditor.output import LOCK_NAME, write_file
from auditor.paths import controls_dir

DRILL_SCHEMA = "auditor.drill/1"
# A drill id becomes a folder name in the pack: plain characters only.
_DRILL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class PackRequest:
    run_dir: Path
    drill_dirs: list[Path]
    attestations: Path | None
    key: Path
    output: Path
    previous: Path | None = None


@dataclass
class PackSummary:
    output: Path
    files: int
    signer: signing.PublicKey
    sums_sha256: str
    redacted: list[str] = field(default_factory=list)


def _skipped(name: str) -> bool:
    """The run's lock and an interrupted write's temporary file are no evidence."""
    return name == LOCK_NAME or (name.startswith(".") and name.endswith(".tmp"))


def _read_tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` by its relative path; a link is refused."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise PackInputError(f"{root}: {exc.strerror or exc}") from None
    files: dict[str, bytes] = {}
    try:
        _walk(fd, root, "", files)
    finally:
        os.close(fd)
    return files


def _walk(dir_fd: int, shown: Path, prefix: str, files: dict[str, bytes]) -> None:
    for entry in sorted(os.scandir(dir_fd), key=lambda e: e.name):
        path, name = shown / entry.name, prefix + entry.name
        if _skipped(entry.name):
            continue
        problem = members.name_problem(name)
        if problem:
            raise PackInputError(f"{path}: cannot be packed: {problem}")
        if entry.is_symlink():
            raise PackInputError(f"{path} is a symbolic link: refused (copy the file it points to, if it is evidence)")
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            fd = os.open(
                entry.name, flags | (os.O_DIRECTORY if entry.is_dir(follow_symlinks=False) else 0), dir_fd=dir_fd
            )
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PackInputError(f"{path} is a symbolic link: refused") from None
            raise PackInputError(f"{path}: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                _walk(fd, path, name + "/", files)
            elif stat.S_ISREG(info.st_mode):
                if info.st_size > members.MAX_MEMBER_BYTES:
                    raise PackInputError(f"{path}: {info.st_size} bytes, more than a pack member may hold")
                with os.fdopen(os.dup(fd), "rb") as fh:
                    files[name] = fh.read()
            else:
                raise PackInputError(f"{path} is not a regular file: refused")
        finally:
            os.close(fd)


def _json_object(files: dict[str, bytes], name: str, folder: Path, what: str) -> dict[str, Any]:
    """The JSON file ``name`` of a folder, parsed from the very bytes that are packed."""
    if name not in files:
        raise PackInputError(f"{folder / name}: not found ({what})")
    try:
        document = json.loads(files[name])
    except (ValueError, RecursionError) as exc:
        raise PackInputError(f"{folder / name}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PackInputError(f"{folder / name}: not a JSON object ({what})")
    return document


def _run_info(run_dir: Path, files: dict[str, bytes]) -> dict[str, Any]:
    document = _json_object(files, "results.json", run_dir, "RUN_DIR must be an auditor run's output folder")
    try:
        # The shape with the first host, as a run checks it: validating every host is slow on large runs.
        results_mod.validate_shape(document)
    except Exception as exc:  # jsonschema.ValidationError: the first line says which field
        raise PackInputError(
            f"{run_dir / 'results.json'}: not an auditor results file: {str(exc).splitlines()[0]}"
        ) from None
    run = document["run"]
    return {"id": run["id"], "started": run["started"], "finished": run.get("finished"), "complete": run["complete"]}


def _drill_id(drill_dir: Path, files: dict[str, bytes]) -> str:
    document = _json_object(files, "drill.json", drill_dir, "DRILL_DIR must be a drill's output folder")
    where = drill_dir / "drill.json"
    if document.get("schema") != DRILL_SCHEMA:
        raise PackInputError(f"{where}: schema: expected {DRILL_SCHEMA!r}")
    ident = document.get("id")
    if not isinstance(ident, str) or not _DRILL_ID.match(ident):
        raise PackInputError(f"{where}: id: expected letters, digits, '.', '_', '-' (got {ident!r})")
    problem = members.windows_problem(ident)  # the id is the drill's folder in the pack
    if problem:
        raise PackInputError(f"{where}: id: cannot name a folder of the pack: {problem}")
    return ident


def catalog_sha256(root: Path | None = None) -> str:
    """SHA-256 of the catalog's sha256sum listing, files in byte order of their relative paths:
    ``cd controls && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum``."""
    root = root or controls_dir()
    paths = sorted((p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()), key=str.encode)
    listing = "".join(f"{hashlib.sha256((root / p).read_bytes()).hexdigest()}  {p}\n" for p in paths)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def previous_link(old: Path) -> dict[str, Any]:
    """What ties a new pack to the one before: the SHA-256 of the old pack's SHA256SUMS (which names the
    digest of every file it held) and, for people, its creation time and run id."""
    try:
        with members.opened(old) as (archive, entries):
            by_name = {info.filename: info for info in entries}
            if SUMS not in by_name or MANIFEST not in by_name:
                raise PackInvalid([f"no {SUMS} or no {MANIFEST} in it"])
            sums = members.read(archive, by_name[SUMS], 64 << 20)
            listed, problems = sums_mod.parse(sums)
            # Its signature needs the inspector's allowed_signers; its files must at least be the ones it lists.
            problems += sums_mod.mismatches(archive, by_name, listed)
            if problems:
                raise PackInvalid(problems)
            manifest = json.loads(members.read(archive, by_name[MANIFEST], 16 << 20))
    except PackInvalid as exc:
        raise PackInputError(f"--previous {old}: not an evidence pack: {exc}") from None
    except (ValueError, RecursionError):
        raise PackInputError(f"--previous {old}: {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackInputError(f"--previous {old}: {MANIFEST} is not of format {FORMAT}")
    return {
        "file": old.name,
        "sha256sums_sha256": hashlib.sha256(sums).hexdigest(),
        "created": manifest.get("created"),
        "run_id": (manifest.get("run") or {}).get("id"),
    }


def _order(item: tuple[str, bytes]) -> bytes:
    return item[0].encode("utf-8")


def make_pack(request: PackRequest) -> PackSummary:
    """Build, sign and write the pack; nothing is written unless every input was good."""
    if os.path.lexists(request.output):
        raise PackInputError(f"--output {request.output} exists: a pack is never overwritten (choose a new name)")
    signer = signing.public_key(request.key)
    run_files = _read_tree(request.run_dir)
    run = _run_info(request.run_dir, run_files)
    trees = [("run", run_files)]
    for folder in request.drill_dirs:
        drill_files = _read_tree(folder)
        trees.append((f"drills/{_drill_id(folder, drill_files)}", drill_files))
    drill_ids = [prefix.split("/", 1)[1] for prefix, _ in trees[1:]]
    if len(set(drill_ids)) != len(drill_ids):
        raise PackInputError(f"the same drill given twice: {', '.join(sorted(drill_ids))}")
    previous = previous_link(request.previous) if request.previous else None

    files: dict[str, bytes] = {}
    masked: list[str] = []
    for prefix, tree in trees:
        for relative, data in tree.items():
            name = f"{prefix}/{relative}"
            files[name] = redacted(name, data)
            if files[name] != data:
                masked.append(name)
    if request.attestations is not None:
        # Packed byte for byte: their SHA-256s are in attestations.yaml and in the results.
        files.update({f"attestations/{n}": d for n, d in _read_tree(request.attestations).items()})
    clashes = members.collisions(files)
    if clashes:
        raise PackInputError(f"cannot be packed: {'; '.join(clashes)} (rename one)")
    total = sum(len(d) for d in files.values())
    if total > members.MAX_TOTAL_BYTES or len(files) > members.MAX_MEMBERS - 3:
        raise PackInputError(f"{len(files)} files, {total} bytes: more than one pack holds")

    created = now()
    manifest = {
        "format": FORMAT,
        "created": created,
        "auditor": {"version": __version__},
        "catalog": {"sha256": catalog_sha256()},
        "run": {**run, "path": "run/"},
        "drills": [{"id": i, "path": f"drills/{i}/"} for i in drill_ids],
        "attestations": None if request.attestations is None else {"path": "attestations/"},
        "signer": {"key_type": signer.key_type, "fingerprint": signer.fingerprint, "public_key": signer.line},
        "namespace": NAMESPACE,
        "previous": previous,
        "redaction": {
            "rule": "values after password, passwd, passphrase, secret, token, api key, PGPASSWORD, requirepass, "
            "masterauth, *_pass keys, and a URL's password, masked as ********",
            "files_masked": sorted(masked),
            "not_masked": "attestations/ (byte for byte: their SHA-256s are attested)",
        },
    }
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    sums = sums_mod.text(files)
    signature = signing.sign(request.key, sums)
    evidence = sorted(((n, d) for n, d in files.items() if n != MANIFEST), key=_order)
    # The three files an inspector opens first lead, then the evidence by path: the same order every time.
    data = _zip(created, [(SUMS, sums), (SIGNATURE, signature), (MANIFEST, files[MANIFEST]), *evidence])
    write_file(request.output, lambda fh: _write_bytes(fh, data))
    return PackSummary(request.output, len(files), signer, hashlib.sha256(sums).hexdigest(), sorted(masked))


def _write_bytes(fh: Any, data: bytes) -> None:
    # The safe writer hands out a text stream; the zip goes to the binary stream under it (same
    # temporary file, same fsync and rename).
    fh.flush()
    fh.buffer.write(data)


def _zip(created: str, entries: list[tuple[str, bytes]]) -> bytes:
    stamp = datetime.fromisoformat(created.replace("Z", "+00:00"))
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time)
            info.create_system = 3  # Unix: the mode below says "regular file, rw-r--r--"
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
