"""``cron_jobs``: the jobs Debian's cron (vixie cron 3.0pl1 + Debian patches) will run, and those of
them whose command matches a pattern.

A grep of the cron files counts lines cron never runs: a file in /etc/cron.d whose name has a dot
(``backup.disabled``), a file that is group- or world-writable or not root's, a file with one bad
line or no final newline (cron drops the whole file), a user crontab not 0600 or not owned by its
user, a cron.daily script that is not executable or that no crontab line runs. Each of these rules
was checked against the real cron in a lab host (its syslog messages: "INSECURE MODE", "WRONG FILE
OWNER", "Syntax error, this crontab file will be ignored", "Missing newline before EOF").
The scripts of /etc/cron.{hourly,daily,weekly,monthly} are the ones ``run-parts --test`` names (the
program that runs them says which), and only for a directory that a job cron runs hands to
run-parts (with anacron installed, Debian's crontab defers to anacron: then /etc/anacrontab's line).
Parsing is pure; the command pattern is a Python regular expression used on the auditor only.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, own_files, register, require_rc, sections

CRONTAB = "/etc/crontab"
CRON_D = "/etc/cron.d/"
SPOOL = "/var/spool/cron/crontabs/"
ANACRONTAB = "/etc/anacrontab"
PERIODS = ("hourly", "daily", "weekly", "monthly")
FILES = [CRONTAB, CRON_D + "*", SPOOL + "*", ANACRONTAB, *(f"/etc/cron.{p}/*" for p in PERIODS)]

# lstat then stat (the target of a symlink), one line each: uid|owner|mode|type|path.
SNIPPET = (
    "echo @@spool; [ -r /var/spool/cron/crontabs ] && [ -x /var/spool/cron/crontabs ] && echo readable; "
    "echo @@lstat; stat -c '%u|%U|%a|%F|%n' -- /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null; "
    "echo @@stat; stat -L -c '%u|%U|%a|%F|%n' -- /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null; "
    "echo @@anacron; [ -x /usr/sbin/anacron ] && echo present; "
    'for d in hourly daily weekly monthly; do echo "@@run-parts /etc/cron.$d"; '
    '[ -d "/etc/cron.$d" ] && run-parts --test "/etc/cron.$d" </dev/null; done; true'
)

# Debian cron without -l: a cron.d file name is letters, digits, "_" and "-" (run-parts' default
# rule). With -l more names pass, never fewer: this rule cannot count a file cron ignores.
_CRON_D_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_ENV = re.compile(r"""\s*("[^"]*"|'[^']*'|[^\s=]+)\s*=""")
_SPECIAL = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_NAMES = {
    3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field_ok(text: str, index: int) -> bool:
    """One of the five time fields as cron's get_list accepts it: lists of *, n, n-m, with /step."""
    low, high = _RANGES[index]
    names = _NAMES.get(index, [])

    def number(word: str) -> int | None:
        if word.isdigit():
            return int(word)
        if word.lower() in names:
            return names.index(word.lower()) + (1 if index == 3 else 0)
        return None

    for item in text.split(","):
        body, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            return False
        if body == "*":
            continue
        first, dash, last = body.partition("-")
        a = number(first)
        b = number(last) if dash else a
        if a is None or b is None or not (low <= a <= high and low <= b <= high):
            return False
        if slash and not dash:
            return False  # cron wants "n-m/step" or "*/step"
    return True


def _command(text: str) -> str:
    """The command as cron runs it: up to the first unescaped "%" (the rest is its stdin), "\\%" -> "%"."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 2] == "%":
            out.append("%")
            i += 2
            continue
        if text[i] == "%":
            break
        out.append(text[i])
        i += 1
    return "".join(out).strip()


def parse_crontab(text: str, system: bool) -> tuple[list[dict[str, Any]], str | None]:
    """(jobs, why cron ignores the whole file) of a crontab; ``system``: with the user field."""
    if text and not text.endswith("\n"):
        return [], "no newline before end of file: cron ignores the whole file"
    jobs = []
    for number, line in enumerate(text.split("\n")[:-1], 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _ENV.match(line) and not stripped.startswith(("@", "*")) and not stripped[0].isdigit():
            continue  # NAME=value
        words = stripped.split(None, 1 if stripped.startswith("@") else 5)
        if stripped.startswith("@"):
            if words[0].lower() not in _SPECIAL or len(words) < 2:
                return [], f"line {number}: bad schedule: cron ignores the whole file"
            schedule, rest = words[0].lower(), words[1]
        else:
            if len(words) < 6 or not all(_field_ok(w, i) for i, w in enumerate(words[:5])):
                return [], f"line {number}: syntax error: cron ignores the whole file"
            schedule, rest = " ".join(words[:5]), words[5]
        user = None
        if system:
            user_and_command = rest.split(None, 1)
            if len(user_and_command) < 2:
                return [], f"line {number}: no user or command: cron ignores the whole file"
            user, rest = user_and_command
        jobs.append({"line": number, "schedule": schedule, "user": user, "command": _command(rest)})
    return jobs, None


def _stats(lines: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for line in lines:
        parts = line.split("|", 4)
        if len(parts) == 5 and parts[0].isdigit():
            out[parts[4]] = {"uid": int(parts[0]), "owner": parts[1], "mode": int(parts[2], 8), "type": parts[3]}
    return out


def _why_ignored(path: str, lstat: dict[str, Any] | None, stat: dict[str, Any] | None) -> str | None:
    """Why cron does not read this crontab file (None: it reads it)."""
    if lstat is None or stat is None:
        return "not found (dangling symlink?)"
    if path.startswith(SPOOL):
        user = path[len(SPOOL) :]
        if lstat["type"] != "regular file":
            return "not a regular file"
        if lstat["owner"] != user:
            return f"owned by {lstat['owner']}, not {user}: cron ignores it (WRONG FILE OWNER)"
        if lstat["mode"] != 0o600:
            return f"mode {lstat['mode']:04o}, not 0600: cron ignores it (INSECURE MODE)"
        return None
    if path.startswith(CRON_D) and not _CRON_D_NAME.match(path[len(CRON_D) :]):
        return "name is not letters, digits, _ and - only: cron skips it"
    if stat["type"] != "regular file":
        return "not a regular file"
    if lstat["uid"] != 0 or stat["uid"] != 0:
        return "not owned by root: cron ignores it (WRONG FILE OWNER)"
    if stat["mode"] & 0o022:
        return f"mode {stat['mode']:04o} is group/other writable: cron ignores it (INSECURE MODE)"
    return None


def _runs_directory(command: str, directory: str) -> bool:
    return "run-parts" in command and re.search(re.escape(directory) + r"(?![A-Za-z0-9_.-])", command) is not None


def parse(outputs: list[RawOutput]) -> dict[str, Any]:
    """Every job cron runs, the files it ignores and why, and what could not be read."""
    raw = outputs[0]
    require_rc(raw, "reading cron's files")
    found = sections(raw.stdout)
    if "anacron" not in found:
        raise FactUnreadable("the cron listing is incomplete")
    lstat, stat = _stats(found.get("lstat", [])), _stats(found.get("stat", []))
    texts, unreadable = own_files(outputs[-1], FILES)
    anacron = "present" in found.get("anacron", [])
    jobs: list[dict[str, Any]] = []
    ignored: list[dict[str, str]] = []
    problems = [f"{p}: unreadable" for p in unreadable if not p.startswith(tuple(f"/etc/cron.{d}/" for d in PERIODS))]
    if "readable" not in found.get("spool", []):
        problems.append(SPOOL + ": user crontabs not readable (root needed)")
    crontab_paths = [CRONTAB, *sorted(p for p in lstat if p.startswith((CRON_D, SPOOL)))]
    for path in crontab_paths:
        if path not in lstat:
            continue
        why = _why_ignored(path, lstat.get(path), stat.get(path))
        if why is None and path not in texts:
            if path in unreadable:
                continue
            why = "not read"
        if why is None:
            file_jobs, why = parse_crontab(texts[path], system=not path.startswith(SPOOL))
            for job in file_jobs:
                user = job["user"] or path[len(SPOOL) :]
                jobs.append({"source": f"{path}:{job['line']}", **job, "user": user, "body": []})
        if why is not None:
            ignored.append({"file": path, "why": why})
    # The run-parts directories: run by a job cron runs, or (anacron installed, and the job defers
    # to it: Debian's "test -x /usr/sbin/anacron ||") by anacron's table.
    anacron_jobs = []
    if anacron and ANACRONTAB in texts:
        for line in texts[ANACRONTAB].splitlines():
            words = line.split(None, 3)
            if len(words) == 4 and not line.lstrip().startswith("#") and "=" not in words[0]:
                anacron_jobs.append({"schedule": f"anacron {words[0]}", "command": words[3]})
    run_parts = found_run_parts(found)
    for period in PERIODS:
        directory = f"/etc/cron.{period}"
        runners = [j for j in jobs if _runs_directory(j["command"], directory)]
        by = []
        for job in runners:
            if anacron and "anacron" in job["command"]:
                by += [a for a in anacron_jobs if _runs_directory(a["command"], directory)]
            else:
                by.append(job)
        if not by:
            continue
        for script in run_parts.get(directory, []):
            lines = texts.get(script, "").splitlines()
            body = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
            if script not in texts:
                problems.append(f"{script}: unreadable")
            jobs.append(
                {
                    "source": script,
                    "line": None,
                    "schedule": by[0]["schedule"],
                    "user": "root",
                    "command": script,
                    "body": body,
                }
            )
    return {"jobs": jobs, "ignored": ignored, "problems": problems}


def found_run_parts(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        key.split(" ", 1)[1]: [ln for ln in lines if ln.startswith("/")]
        for key, lines in found.items()
        if key.startswith("run-parts ")
    }


@register
class CronJobsFact(ScriptFact):
    name = "cron_jobs"
    script = SNIPPET
    params_schema = {
        "type": "object",
        # a Python regular expression, searched in each command (and each line of a run-parts script);
        # it never reaches the host
        "properties": {"command": {"type": "string", "minLength": 1, "format": "regex"}},
        "required": ["command"],
        "additionalProperties": False,
    }

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        reading = parse(outputs)
        try:
            pattern = re.compile(params["command"])
        except re.error as exc:
            raise FactUnreadable(f"command pattern {params['command']!r}: {exc}") from None
        matches = [
            job for job in reading["jobs"]
            if pattern.search(job["command"]) or any(pattern.search(line) for line in job["body"])
        ]  # fmt: skip
        if not matches and reading["problems"]:
            raise FactUnreadable("cannot tell which jobs cron runs: " + "; ".join(reading["problems"][:3]))
        return {
            "count": len(matches),
            "matches": [{k: j[k] for k in ("source", "schedule", "user", "command")} for j in matches],
            "sources": sorted({j["source"] for j in matches}),
            "jobs": len(reading["jobs"]),
            "ignored": [f"{i['file']}: {i['why']}" for i in reading["ignored"]],
        }
