"""``clamav_db``: age of the ClamAV signatures that are in use, as ClamAV itself reads them.

- clamd runs: what it has LOADED counts, not what lies on disk. Its ``VERSION`` command answers
  ``ClamAV <engine>/<daily version>/<daily build time>``; the build time is clamd's ``ctime``, in
  its local time, read with the host's UTC offset (``date +%z``). The socket is the one clamd's
  configuration names (``LocalSocket``, else ``TCPSocket``/``TCPAddr``), as ``clamconf`` reads it.
  A fresh file that clamd has not reloaded does not pass; an old file beside what clamd loaded
  does not fail. clamd runs but its answer cannot be had: unreadable, never the files.
- clamd does not run: the ``daily.{cvd,cld,cud}`` in every folder a scanner would load: clamd.conf's
  ``DatabaseDirectory`` (clamd keeps the FIRST value of an option it reads twice; ``clamconf`` is
  ClamAV's own parser) and the built-in folder clamscan loads (clamconf's "Database directory").
  The oldest of the folders counts. freshclam.conf's folder is where updates are written, not read:
  a fresh file there proves nothing.

On disk, each file's 512-byte header holds the build time
(``ClamAV-VDB:<date>:<version>:<sigs>:<flevel>:<md5>:<dsig>:<builder>:<stime>``); the mtime is used
only when the header cannot be read. A freshly touched file with old signatures is still old.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from auditor.clock import Dated, HostClock, age_of, epoch, evidence_line, host_clock, newest, oldest, show, upper
from auditor.facts.base import (
    FactType,
    FactUnreadable,
    RawOutput,
    name_arg,
    name_schema,
    register,
    require_rc,
    sections,
)
from auditor.facts.process import PROCESS_TABLE, parse_process_table, running, undetermined

_EXTENSIONS = ("cvd", "cld", "cud")

# clamconf: the lines of its clamd.conf section that say where clamd listens and loads from, its
# errors (clamd refuses such a file), and the built-in folder clamscan reads.
_CLAMCONF = (
    "clamconf </dev/null 2>&1 | awk '/^Config file: /{f=$3} "
    r"/^(ERROR|Database directory:|clamd\.conf not found)/ || "
    '(f == "clamd.conf" && /^(Config file:|DatabaseDirectory|LocalSocket|TCPSocket|TCPAddr) /)\''
)
# One VERSION exchange with clamd (perl-base is Essential on Debian); alarm: never hangs.
_ASK = (
    "use IO::Socket; my ($s, $p, $a) = @ARGV; $SIG{ALRM} = sub { print qq(no answer within 5 s\\n); exit 3 }; "
    "alarm 5; my $c = $s ne q() ? IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $s) "
    ": IO::Socket::INET->new(PeerAddr => ($a ne q() ? $a : q(127.0.0.1)), PeerPort => $p, Proto => q(tcp)); "
    "$c or do { print qq(cannot connect: $!\\n); exit 2 }; print $c qq(zVERSION\\0); local $/ = qq(\\0); "
    "my $r = <$c>; defined $r or do { print qq(no answer\\n); exit 2 }; chomp $r; print qq($r\\n);"
)
_VERSION = re.compile(r"^ClamAV ([^/\s]+)(?:/(\d+)/(.+))?$")
_CONF_VALUE = re.compile(r'^(\w+) = "([^"]*)"')


def parse_header(header: bytes) -> dict[str, Any] | None:
    """Build time (epoch), version and signature count from a CVD header, or None if it is not one."""
    text = header[:512].decode("ascii", "replace").rstrip("\x00 \n")
    if not text.startswith("ClamAV-VDB:"):
        return None
    fields = text.split(":")
    build: int | None = None
    if len(fields) >= 9 and fields[8].strip().isdigit():
        build = int(fields[8].strip())
    elif len(fields) >= 2:
        try:
            build = int(datetime.strptime(fields[1].strip(), "%d %b %Y %H-%M %z").timestamp())
        except ValueError:
            build = None
    if build is None:
        return None
    return {
        "build_time": build,
        "version": fields[2] if len(fields) > 2 else None,
        "signatures": int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None,
    }


def parse_clamconf(lines: list[str]) -> dict[str, Any]:
    """clamd.conf's effective values (clamconf prints each once, as clamd will use it), its errors, and
    the built-in database folder."""
    conf: dict[str, Any] = {"clamd_conf": False, "errors": [], "builtin": None}
    for line in lines:
        if line.startswith("Config file: clamd.conf"):
            conf["clamd_conf"] = True
        elif line.startswith("ERROR"):
            conf["errors"].append(line.strip())
        elif line.startswith("Database directory:"):
            conf["builtin"] = line.partition(":")[2].strip() or None
        elif m := _CONF_VALUE.match(line):
            conf.setdefault(m.group(1), m.group(2))  # TCPAddr may list several: the first is one clamd uses
    return conf


def parse_version(answer: str, utc_offset: str) -> dict[str, Any] | None:
    """clamd's VERSION answer: engine, daily version and build time (epoch, from its local-time ctime and
    the host's UTC offset ``+HHMM``); None when it is not such an answer. No database: version None."""
    m = _VERSION.match(answer.strip())
    if not m:
        return None
    if m.group(2) is None:
        return {"engine": m.group(1), "version": None, "build_time": None, "built": None}
    built = " ".join(m.group(3).split())
    off = re.fullmatch(r"([+-])(\d\d)(\d\d)", utc_offset.strip())
    if not off:
        raise FactUnreadable(f"the host's UTC offset is unreadable: {utc_offset.strip()[:20]!r}")
    sign = 1 if off.group(1) == "+" else -1
    zone = timezone(sign * timedelta(hours=int(off.group(2)), minutes=int(off.group(3))))
    try:
        local = datetime.strptime(built, "%a %b %d %H:%M:%S %Y").replace(tzinfo=zone)
    except ValueError:
        raise FactUnreadable(f"clamd's VERSION answer has no readable build time: {answer.strip()[:120]!r}") from None
    return {"engine": m.group(1), "version": m.group(2), "build_time": int(local.timestamp()), "built": built}


@register
class ClamavDbFact(FactType):
    name = "clamav_db"
    params_schema = {
        "type": "object",
        "properties": {"database": name_schema("a-z0-9_-")},
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        database = name_arg(params.get("database", "daily"))
        exts = " ".join(_EXTENSIONS)
        return [
            'echo "@@now ${_now:-$(date +%s)}"; echo "@@tz $(date +%z)"; '
            "command -v clamconf >/dev/null 2>&1 || { echo @@noclamconf; exit 0; }; "
            f"c=$({_CLAMCONF}); echo @@clamconf; printf '%s\\n' \"$c\"; "
            'v() { printf "%s\\n" "$c" | sed -n "s/^$1 = \\"\\([^\\"]*\\)\\".*/\\1/p" | head -n 1; }; '
            "s=$(v LocalSocket); p=$(v TCPSocket); a=$(v TCPAddr); "
            'if [ -n "$s$p" ]; then if command -v perl >/dev/null 2>&1; then echo @@version; '
            f'perl -e \'{_ASK}\' -- "$s" "$p" "$a" </dev/null 2>&1; echo "@@version_rc $?"; '
            "else echo @@noperl; fi; fi; "
            'set --; d=$(v DatabaseDirectory); b=$(printf "%s\\n" "$c" | sed -n "s/^Database directory: //p"); '
            '[ -n "$d" ] && set -- "$d"; [ -n "$b" ] && [ "$b" != "$d" ] && set -- "$@" "$b"; '
            'for d in "$@"; do echo "@@dir $d"; if [ ! -e "$d" ]; then echo missing; '
            'elif [ ! -r "$d" ] || [ ! -x "$d" ]; then echo unreadable; '
            f'else for e in {exts}; do f="$d/"{database}".$e"; [ -f "$f" ] || continue; '
            'echo "@@file $f $(stat -c %Y -- "$f")"; head -c 512 -- "$f" | base64; done; fi; done; true',
            PROCESS_TABLE,
        ]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "reading ClamAV's configuration and databases")
        found = sections(raw.stdout)
        now_key = next((k for k in found if k.startswith("now ")), None)
        tz_key = next((k for k in found if k.startswith("tz")), "tz ")
        if now_key is None:
            raise FactUnreadable("unexpected output while reading ClamAV's databases")
        host = _host_clock(raw, now_key)
        database = params.get("database", "daily")
        conf = parse_clamconf(found.get("clamconf", []))
        loaded = self._loaded(found, tz_key.removeprefix("tz"), outputs[1], conf)
        if loaded is not None:
            return self._judge_loaded(loaded, host, conf)
        if "noclamconf" in found:
            return _result([], Dated(None), [], host, "clamconf not found: no ClamAV configuration to read")
        if conf["errors"]:
            raise FactUnreadable(f"clamconf: {conf['errors'][0][:200]} (clamd would refuse this configuration)")
        folders = self._folders(found, host)
        where = [f for f in (conf.get("DatabaseDirectory"), conf["builtin"]) if f]
        where = list(dict.fromkeys(where))
        if not where:
            raise FactUnreadable("clamconf names no database folder")
        judged = []
        for folder in where:
            state, dbs = folders.get(folder, ("missing", []))
            if state == "unreadable":
                raise FactUnreadable(f"cannot read {folder} (permission denied?)")
            judged.append((folder, dbs))
        empty = [folder for folder, dbs in judged if not dbs]
        all_dbs = [d for _, dbs in judged for d in dbs]
        source = "clamd does not run; the folders a scanner loads: " + ", ".join(
            f"{folder} ({'clamd.conf DatabaseDirectory' if folder == conf.get('DatabaseDirectory') else 'built in'})"
            for folder in where
        )
        if empty:
            summary = f"no {database}.cvd/.cld/.cud in {', '.join(empty)} ({source})"
            return _result([], Dated(None), all_dbs, host, summary)
        per_folder = [newest(Dated(d["age_days"], d["undated"]) for d in dbs) for _, dbs in judged]
        age = oldest(per_folder)
        shown = max(
            (min((d for d in dbs if d["age_days"] is not None), key=lambda d: upper(d["age_days"]), default=dbs[0])
             for _, dbs in judged),
            key=lambda d: upper(d["age_days"]) if d["age_days"] is not None else float("inf"),
        )  # fmt: skip
        summary = f"{shown['path']}: {show(shown['age_days'])} by its {shown['judged_by']} ({source})"
        summary += "".join(f"; {d['path']}: {d['undated']}" for d in all_dbs if d["undated"])
        return _result(all_dbs, age, all_dbs, host, summary, shown)

    def _loaded(
        self, found: dict[str, list[str]], utc_offset: str, table_raw: RawOutput, conf: dict[str, Any]
    ) -> dict[str, Any] | None:
        """What the running clamd has loaded; None when clamd does not run here. Unreadable when it runs
        and does not say: the files on disk may not be what it loaded."""
        answer = found.get("version", [])
        rc = next((k.split()[1] for k in found if k.startswith("version_rc ")), None)
        if answer and rc == "0":
            parsed = parse_version(answer[0], utc_offset)
            if parsed is None:
                raise FactUnreadable(f"clamd answered VERSION with {answer[0][:120]!r}")
            return parsed
        table = parse_process_table(table_raw)
        if running(table.rows, ["clamd"]):
            socket = conf.get("LocalSocket") or f"{conf.get('TCPAddr') or '127.0.0.1'}:{conf.get('TCPSocket')}"
            if "noperl" in found:
                why = "perl, which asks it, is not installed"
            elif "version" not in found:
                why = "clamd.conf names no LocalSocket or TCPSocket"
            else:
                why = f"{socket}: {' '.join(answer)[:160] or 'no answer'}"
            raise FactUnreadable(
                f"clamd runs but did not say which database it has loaded ({why}); files on disk may not be it"
            )
        if table.partial:
            raise FactUnreadable("/proc is mounted with hidepid and the audit ran without root: is clamd running?")
        if unsure := undetermined(table, ["clamd"]):
            raise unsure
        return None

    def _judge_loaded(self, loaded: dict[str, Any], host: HostClock, conf: dict[str, Any]) -> dict[str, Any]:
        if loaded["version"] is None:
            summary = f"the running clamd (ClamAV {loaded['engine']}) has no database loaded"
            return _result([], Dated(None), [], host, summary)
        dated = age_of(loaded["build_time"], host, False)  # ClamAV's builders' clock, not this host's
        db = {
            "path": f"loaded by clamd ({conf.get('DatabaseDirectory') or 'its database folder'})",
            "age_days": dated.age,
            "undated": dated.problem,
            "judged_by": f"build time clamd reports ({loaded['built']})",
            "mtime_age_days": None,
            "version": loaded["version"],
            "signatures": None,
        }
        summary = f"the running clamd has loaded daily version {loaded['version']} built {loaded['built']}: "
        summary += show(dated.age) + (f" ({dated.problem})" if dated.problem else "")
        return _result([db], dated, [db], host, summary, db)

    def _folders(self, found: dict[str, list[str]], host: HostClock) -> dict[str, tuple[str, list[dict[str, Any]]]]:
        folders: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for key, lines in found.items():
            if key.startswith("dir "):
                state = "missing" if "missing" in lines else "unreadable" if "unreadable" in lines else "ok"
                folders[key.removeprefix("dir ")] = (state, [])
        for key, lines in found.items():
            if not key.startswith("file "):
                continue
            path, _, mtime = key.removeprefix("file ").rpartition(" ")
            folder = path.rpartition("/")[0]
            if folder not in folders:
                continue
            try:
                header = parse_header(base64.b64decode("".join(lines)))
            except ValueError:
                header = None
            # The header's build time comes from ClamAV's builders; an mtime from this host's clock.
            dated = age_of(header["build_time"], host, False) if header else age_of(int(mtime), host, True)
            folders[folder][1].append(
                {
                    "path": path,
                    "age_days": dated.age,
                    "undated": dated.problem,
                    "judged_by": "header build time" if header else "file mtime (no readable header)",
                    "mtime_age_days": age_of(int(mtime), host, True).age,
                    "version": header["version"] if header else None,
                    "signatures": header["signatures"] if header else None,
                }
            )
        return folders

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        text = outputs[0].stdout  # the process table is the process facts' evidence
        now_key = next((k for k in sections(text) if k.startswith("now ")), None)
        if now_key is None:
            return text
        return text.rstrip("\n") + "\n" + evidence_line(_host_clock(outputs[0], now_key))


def _result(
    counted: list[dict[str, Any]],
    age: Dated,
    databases: list[dict[str, Any]],
    host: HostClock,
    summary: str,
    shown: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if host.off or age.problem:
        summary += f"; {host.describe()}"
    return {
        "count": len(counted),
        "databases": databases,
        "newest_days": age.age,
        "newest_path": shown["path"] if shown else None,
        "judged_by": shown["judged_by"] if shown else None,
        "clock": host.as_dict(),
        "summary": summary,
    }


def _host_clock(raw: RawOutput, now_key: str) -> HostClock:
    try:
        return host_clock(epoch(now_key.removeprefix("now ")), raw.reference)
    except ValueError as exc:
        raise FactUnreadable(f"the host's clock: {exc}") from None
