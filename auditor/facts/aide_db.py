"""``aide_db``: the baseline database AIDE itself would compare against, and its age.

A list of likely paths (/var/lib/aide/aide.db*) is not what AIDE reads: the configuration names it,
and a fresh file at a usual path proves nothing when the configuration names another. Debian's
aide 0.18 has no compiled-in configuration (``aide --version``: ``config file: <none>``), so it is
the file the check job names (Debian's dailyaidecheck and the usual jobs: /etc/aide/aide.conf).
AIDE is asked, not the files read: ``aide --config=CONF --config-check -L config`` parses it as a
check would (``@@define``, ``@@x_include`` with its file-name regex, ``@@if``...) and prints
``set 'database_in' option to 'file:...'`` once, for the FIRST value (later ones are "ignored");
it writes nothing and reads no database. Checked with aide 0.18.3 in the lab.

The path it names is dated as ``file_age`` dates files (the auditor's clock). Where AIDE cannot be
asked (an included file or the configuration unreadable without root, an unknown option of an older
AIDE, a database that is not a local absolute file): unreadable, never a guess from the files.
A configuration that does not exist, or that sets no ``database_in``, gives AIDE no baseline to
compare against: no database (count 0).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.facts.base import ABS_PATH, FactType, FactUnreadable, RawOutput, path_arg, register, require_rc, sections
from auditor.facts.file import stat_loop
from auditor.facts.file_age import FileAgeFact

DEFAULT_CONFIG = "/etc/aide/aide.conf"
_SET = "set 'database_in' option to "
# The first value AIDE keeps: "CONFIG: <file>:<line>: set 'database_in' option to '<url>' (line: '...')".
# The raw line echoes (": ┬ '...'") never have "<number>: set" right after the file name.
_DATABASE_IN = re.compile(r"^\s*CONFIG: .*:\d+: set 'database_in' option to '(.*)' \(line: '.*'\)$")
_ERROR = re.compile(r"^\s*ERROR: (.*)$")


def snippet(config: str) -> str:
    conf = path_arg(config)
    return (
        "command -v aide >/dev/null 2>&1 || { echo @@absent; exit 0; }; "
        # Only the lines that matter leave the host: a large rule set prints thousands of CONFIG lines.
        f'o=$({{ aide --config={conf} --config-check -L config </dev/null 2>&1; echo "aide-rc $?"; }} '
        f'| grep -E "^aide-rc |{_SET}|^ *ERROR: "); echo @@aide; printf \'%s\\n\' "$o"; '
        f"p=$(printf '%s\\n' \"$o\" | sed -n \"s/^ *CONFIG: .*:[0-9]*: {_SET}'file:\\(\\/.*\\)' (line: .*/\\1/p\" "
        "| head -n 1); echo @@stat; " + stat_loop('${p:+"$p"}')  # nothing named: no stat
    )


def parse_config_check(lines: list[str]) -> tuple[int | None, str | None, list[str]]:
    """(aide's exit status, the first database_in it set, its ERROR messages) from the kept lines."""
    rc: int | None = None
    database_in: str | None = None
    errors: list[str] = []
    for line in lines:
        if line.startswith("aide-rc "):
            rc = int(line[8:]) if line[8:].strip().isdigit() else None
        elif (m := _DATABASE_IN.match(line)) and database_in is None:
            database_in = m.group(1)
        elif m := _ERROR.match(line):
            errors.append(m.group(1).strip())
    return rc, database_in, errors


def database_path(url: str) -> str:
    """The local file of a database_in URL (``file:/p``; AIDE prints ``file:///p`` as ``file:/p``)."""
    if not url.startswith("file:"):
        raise FactUnreadable(f"AIDE reads its baseline from {url!r}: not a local file the auditor can date")
    path = url[5:]
    if not path.startswith("/"):
        # Relative to the working directory of whatever runs the check: cannot tell which file.
        raise FactUnreadable(f"AIDE's database_in {url!r} is a relative path")
    return path


@register
class AideDbFact(FactType):
    name = "aide_db"
    params_schema = {
        "type": "object",
        "properties": {"config": ABS_PATH},
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [snippet(params.get("config", DEFAULT_CONFIG))]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "aide --config-check")
        config = params.get("config", DEFAULT_CONFIG)
        found = sections(raw.stdout)
        if "absent" in found:
            return _none(config, None, "aide is not installed")
        if "aide" not in found or "stat" not in found:
            raise FactUnreadable("aide --config-check: output cut short")
        rc, url, errors = parse_config_check(found["aide"])
        if rc is None:
            raise FactUnreadable("aide --config-check did not finish")
        if rc != 0 or errors:
            missing = f"cannot open config file '{config}': No such file or directory"
            if errors == [missing]:
                return _none(config, None, f"{config} does not exist: AIDE has no configuration to check with")
            detail = errors[0] if errors else f"exit {rc}"
            raise FactUnreadable(f"aide --config-check --config={config}: {detail[:200]}")
        if url is None:
            return _none(config, None, f"{config} sets no database_in: AIDE has no baseline to compare against")
        path = database_path(url)
        stat_lines = found["stat"]
        named = [ln.split("|", 1 if ln.startswith(("missing|", "unreadable|")) else 6)[-1] for ln in stat_lines[1:]]
        if named != [path]:  # the host's sed and this parser read the same line, or nothing is trusted
            raise FactUnreadable(f"aide named {path!r} but the host dated {named!r}")
        dated = FileAgeFact().parse([RawOutput("\n".join(stat_lines), raw.stderr, 0, raw.timed_out, raw.reference)],
                                    {"paths": [path]})  # fmt: skip
        where = f"database_in {url} (first value AIDE set from {config})"
        if not dated["count"]:
            return _none(config, url, f"{path} does not exist ({where})", dated["clock"])
        return {**dated, "config": config, "database_in": url, "summary": f"{dated['summary']} ({where})"}

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        return outputs[0].stdout.rstrip("\n")


def _none(config: str, url: str | None, why: str, clock: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"count": 0, "newest_days": None, "oldest_days": None, "newest_path": None, "config": config,
            "database_in": url, "clock": clock, "summary": why}  # fmt: skip
