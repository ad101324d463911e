"""backup-restore: the newest archive of ``backup_paths`` restored into a temporary folder and read back.

Restored on the host itself (the archive never travels), with ``timeout`` so a restore slower than
the window is stopped there too. ``backup_canary`` (an absolute path) must come back with the
SHA-256 of the live file. The archive's age is measured against the auditor's clock.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from auditor.drill.actions.base import ActContext, ActionType, DrillError, Outcome, register
from auditor.facts.base import UnsafeValue, check_path, glob_arg, path_arg, quote
from auditor.model import Host

TMP_PREFIX = "/tmp/auditor-drill-restore."
_TMP = re.compile(r"^/tmp/auditor-drill-restore\.[0-9a-f]{12}\.[A-Za-z0-9]{8}$")


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def settings(params: dict[str, Any]) -> tuple[list[str], str | None]:
    """(backup_paths, backup_canary), checked: absolute paths only, so no command reads one as an option."""
    try:
        paths = [check_path(p) for p in _as_list(params.get("backup_paths"))]
        canary = params.get("backup_canary") or None
        return paths, (check_path(canary) if canary else None)
    except UnsafeValue as exc:
        raise DrillError(f"refused: {exc}") from None


def newest_script(paths: list[str]) -> str:
    globs = " ".join(glob_arg(p) for p in paths)
    return f'for f in {globs}; do [ -f "$f" ] && stat -c \'%Y %s %n\' -- "$f"; done 2>/dev/null | sort -n | tail -n 1\n'


def restore_script(archive: str, canary: str | None, window: float, token: str) -> str:
    a = path_arg(archive)
    lines = [
        f"d=$(mktemp -d {TMP_PREFIX}{token}.XXXXXXXX) || exit 3",
        'echo "tmpdir=$d"',
        "t0=$(date +%s.%N)",
        f'timeout {int(window)} tar -xf {a} -C "$d" 2>&1; echo "tar_rc=$?"',
        "t1=$(date +%s.%N)",
        'echo "seconds=$(echo "$t1 $t0" | awk \'{printf "%.3f", $1 - $2}\')"',
        # Read back: every restored file read whole.
        'echo "files=$(find "$d" -type f | wc -l)"',
        'find "$d" -type f -exec cat -- {} + >/dev/null 2>&1; echo "read_rc=$?"',
    ]
    if canary:
        rel = quote(canary.lstrip("/"))
        lines += [
            f'if [ -f "$d"/{rel} ]; then echo "canary_restored=$(sha256sum < "$d"/{rel} | cut -c1-64)"; '
            'else echo "canary_restored=missing"; fi',
            f'echo "canary_live=$(sha256sum < {path_arg(canary)} 2>/dev/null | cut -c1-64)"',
        ]
    return "\n".join(lines) + "\n"


def _values(output: str) -> dict[str, str]:
    return dict(ln.split("=", 1) for ln in output.splitlines() if re.match(r"^[a-z_]+=", ln))


@register
class BackupRestore(ActionType):
    name = "restore-newest-backup"
    title = "Restore of the newest backup"
    observations = ("restored-and-read-back",)
    cleanups = ("remove-restore-folder",)
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "backup_paths": {"type": ["array", "string"], "items": {"type": "string"}},
            "backup_canary": {"type": ["string", "null"]},
        },
    }

    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        paths, canary = _as_list(params.get("backup_paths")), params.get("backup_canary")
        return [
            f"find the newest file among {', '.join(paths) or '(backup_paths not set)'} on {host.name}",
            f"extract it with tar into a new folder {TMP_PREFIX}XXXXXXXX, stopped after {window:g} s, "
            "and read every restored file back",
            f"compare the restored {canary} with the live file's SHA-256" if canary else "no backup_canary set",
            "remove the folder",
        ]

    def act(self, ctx: ActContext) -> None:
        paths, canary = settings(ctx.params)
        if not paths:
            raise DrillError("backup_paths is not set: no archive to restore")
        step = ctx.shell.run(newest_script(paths), "act")
        line = step.output.strip()
        if not line:
            ctx.state["outcome"] = Outcome("fail", f"no archive in backup_paths ({', '.join(paths)})")
            return
        mtime, size, archive = line.split(" ", 2)
        age_days = round((time.time() - float(mtime)) / 86400, 2)
        ctx.state["archive"] = {"path": archive, "size": int(size), "age_days": age_days}
        ctx.shell.event("act", f"newest archive {archive} ({size} bytes, {age_days} days old); restoring")
        ctx.state["token"] = secrets.token_hex(6)  # before the folder exists: a cleanup can find it by this
        script = restore_script(archive, canary, ctx.window, ctx.state["token"])
        step = ctx.shell.run(script, "act", timeout=ctx.window + 30)
        values = _values(step.output)
        if _TMP.match(values.get("tmpdir", "")):
            ctx.state["tmpdir"] = values["tmpdir"]
        if step.rc is None or "tmpdir" not in ctx.state:
            raise DrillError(f"the restore could not be started or did not answer (exit {step.rc})")
        ctx.state["values"] = values

    def observe(self, ctx: ActContext) -> Outcome:
        if "outcome" in ctx.state:
            return ctx.state["outcome"]
        v, archive = ctx.state["values"], ctx.state["archive"]
        details = {**archive, "restore_seconds": float(v.get("seconds") or 0), "files": int(v.get("files") or 0)}
        ctx.shell.event("observe", f"tar exit {v.get('tar_rc')}, {details['files']} files, {v.get('seconds')} s")
        if v.get("tar_rc") == "124":
            return Outcome("fail", f"the restore did not finish within {ctx.window:g} s", details)
        if v.get("tar_rc") != "0":
            return Outcome(
                "fail", f"the newest archive {archive['path']} did not restore (tar exit {v.get('tar_rc')})", details
            )
        if details["files"] == 0 or v.get("read_rc") != "0":
            return Outcome("fail", "the restore gave no readable file", details)
        _, canary = settings(ctx.params)
        if canary:
            restored, live = v.get("canary_restored", ""), v.get("canary_live", "")
            details["canary"] = {"path": canary, "restored_sha256": restored, "live_sha256": live}
            if restored == "missing":
                return Outcome("fail", f"backup_canary {canary} is not in the archive", details)
            if not re.fullmatch(r"[0-9a-f]{64}", live):
                raise DrillError(f"cannot read the live backup_canary {canary}")
            if restored != live:
                return Outcome("fail", f"the restored {canary} differs from the live file (SHA-256)", details)
        return Outcome(
            "pass",
            f"{archive['path']} ({archive['age_days']} days old) restored and read back in "
            f"{details['restore_seconds']:g} s: {details['files']} files" + (", canary matches" if canary else ""),
            details,
        )

    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        return ctx.remove_made("tmpdir", TMP_PREFIX, "rm -rf --one-file-system", "no restore folder was created")
