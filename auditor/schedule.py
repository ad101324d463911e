"""Recurring audits: a systemd timer where systemd is PID 1, else ``/etc/cron.d/auditor-NAME``.

Every value that ends up in a unit or a crontab is checked first: the name is an identifier, paths
are absolute, a cron expression is five fields of numbers, and no value may hold a character that
the shell, cron (``%`` is a newline there) or systemd (``%`` specifiers, ``$`` variables, ``\\``
escapes, quotes) would read as syntax, nor any control character (a newline would start a line of
its own in the crontab). The command line is then ``shlex.join``-ed: single quotes only, which sh and
systemd read alike. Each run takes the lock of its schedule's name and writes a fresh
``<output root>/<run id>`` folder (the run id starts with the UTC time).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import auditor
from auditor import inventory, notify, runlock
from auditor.errors import InputError
from auditor.output import OutputError, describe, write_file

SYSTEMD_DIR = "/etc/systemd/system"
CRON_DIR = "/etc/cron.d"
PREFIX = "auditor-"
MARKER = "# auditor-schedule: "
DEFAULT_OUTPUT_ROOT = "/var/lib/auditor/runs"
# Characters no value may hold (see the module's docstring); control characters are refused apart.
_SYNTAX = set("%$\\'\"`")
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_COMMAND = 900  # bytes: cron refuses a command of about 1000 bytes or more


@dataclass
class Request:
    name: str
    every: str
    inventory: str
    playbook: str | None = None
    params: tuple[str, ...] = ()
    db: str | None = None
    output_root: str | None = None
    known_hosts: str | None = None
    no_network: bool = False
    notices: notify.Settings | None = None


@dataclass
class Plan:
    kind: str  # "systemd" | "cron"
    files: dict[str, str]
    command: str
    argv: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "files": self.files, "command": self.command}


def systemd_is_init() -> bool:
    # What sd_booted() checks; systemctl would answer "System has not been booted with systemd" otherwise.
    return os.path.isdir("/run/systemd/system")


def _plain(value: str, field_name: str) -> str:
    bad = sorted({ch for ch in value if ch in _SYNTAX})
    if bad or not value.isprintable():
        what = "a control character or line break" if not value.isprintable() else " ".join(bad)
        raise InputError(
            f"{value!r}: holds {what}, which a crontab or unit file would read as syntax", field=field_name
        )
    return value


def _absolute(value: str, field_name: str) -> str:
    _plain(value, field_name)
    if not value.startswith("/"):
        raise InputError(
            f"{value!r}: give an absolute path (the schedule does not run in this folder)", field=field_name
        )
    return os.path.normpath(value)


def _db_url(value: str) -> str:
    _plain(value, "--db")
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(value)
        # libpq also takes the password from the query (?password=), SQLAlchemy passes it on as it is
        password = parts.password or any(k.casefold() == "password" for k, _ in parse_qsl(parts.query))
    except ValueError as exc:
        raise InputError(f"{exc}", field="--db") from None
    if password:
        raise InputError(
            "the URL holds a password, which would be written into the schedule's files: "
            "give it to the database another way (PostgreSQL: ~/.pgpass or a service file)",
            field="--db",
        )
    return value


def _param(param: str) -> str:
    """A KEY=VALUE a run would record; refused when a run would not (a secret-named key, a URL's password):
    the schedule's files are world-readable and ``schedule list`` prints them."""
    key, eq, value = _plain(param, "--param").partition("=")
    if not eq or not key or not key.replace("_", "a").replace(".", "a").isalnum() or not key.isascii():
        raise InputError(f"{param!r}: expected KEY=VALUE", field="--param")
    if inventory.is_secret_name(key) or inventory.redact(value) != value:
        raise InputError(
            f"{key}: holds a secret, which would be written into the schedule's files: "
            "put it in the playbook or the inventory, readable by the auditor alone",
            field="--param",
        )
    return param


def cron_fields(expression: str) -> list[set[int] | None]:
    """Five fields of numbers, ``*``, ``a-b``, ``*/n``, ``a-b/n`` and lists; None for ``*``. InputError otherwise."""
    if not expression.isprintable() or len(expression) > 120:
        raise InputError(f"{expression!r}: not a cron expression", field="--every")
    parts = expression.split(" ")
    if len(parts) != 5 or not all(parts):
        raise InputError(
            f"{expression!r}: five fields separated by single spaces (minute hour day-of-month month day-of-week)",
            field="--every",
        )
    return [_cron_field(part, *spec) for part, spec in zip(parts, CRON_FIELDS, strict=True)]


def _cron_field(text: str, what: str, low: int, high: int) -> set[int] | None:
    if text == "*":
        return None
    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = _number(step_text, what, 1, high) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _number(a, what, low, high), _number(b, what, low, high)
            if start > end:
                raise InputError(f"{text!r}: the range {base} runs backwards ({what})", field="--every")
        elif step_text:
            raise InputError(f"{text!r}: a step needs * or a range before it ({what})", field="--every")
        else:
            start = end = _number(base, what, low, high)
        values.update(range(start, end + 1, step))
    return values


def _number(text: str, what: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 2) or not low <= int(text) <= high:
        raise InputError(f"{text!r}: the {what} is a number from {low} to {high}", field="--every")
    return int(text)


def _spread(name: str) -> int:
    """A minute of the hour fixed per schedule name: nightly audits of many sites do not start at once."""
    return zlib.crc32(name.encode()) % 60


def cron_expression(name: str, every: str) -> str:
    minute = _spread(name)
    if every == "daily":
        return f"{minute} 2 * * *"
    if every == "weekly":
        return f"{minute} 3 * * 0"
    cron_fields(every)
    return every


def on_calendar(name: str, every: str) -> tuple[str, str]:
    """(OnCalendar=, RandomizedDelaySec=) for systemd."""
    if every == "daily":
        return "*-*-* 02:00:00", "30min"
    if every == "weekly":
        return "Sun *-*-* 03:00:00", "30min"
    minute, hour, dom, month, dow = cron_fields(every)
    if dom is not None and dow is not None:
        # cron runs when EITHER day field matches, systemd only when both do: not the same schedule.
        raise InputError(
            f"{every!r}: both day of month and day of week are set, which systemd cannot express as cron means it",
            field="--every",
        )

    def listed(values: set[int] | None, width: int = 2) -> str:
        return "*" if values is None else ",".join(f"{v:0{width}d}" for v in sorted(values))

    days = "" if dow is None else ",".join(dict.fromkeys(WEEKDAYS[d] for d in sorted(dow))) + " "
    return f"{days}*-{listed(month)}-{listed(dom)} {listed(hour)}:{listed(minute)}:00", "1min"


def program() -> list[str]:
    """How a schedule starts this same auditor: its interpreter, and its source folder if PYTHONPATH gave it."""
    python = _absolute(sys.executable, "python interpreter")
    source = str(Path(auditor.__file__).resolve().parent.parent)
    if source in {str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}:
        return ["/usr/bin/env", f"PYTHONPATH={_absolute(source, 'auditor source folder')}", python, "-m", "auditor"]
    return [python, "-m", "auditor"]


def run_argv(request: Request) -> list[str]:
    """The argv a scheduled run gets; every value checked, each as ``--option=value`` (never read as an option)."""
    name = runlock.check_name(request.name, "--name")
    argv = [*program(), "run", f"--inventory={_absolute(request.inventory, '--inventory')}"]
    if request.playbook is not None:
        playbook = _plain(request.playbook, "--playbook")
        if "/" in playbook:
            playbook = _absolute(playbook, "--playbook")
        elif playbook.startswith("-") or not playbook:
            raise InputError(f"{playbook!r}: a playbook name or an absolute path", field="--playbook")
        argv.append(f"--playbook={playbook}")
    if request.known_hosts is not None:
        argv.append(f"--known-hosts={_absolute(request.known_hosts, '--known-hosts')}")
    argv += [f"--param={_param(param)}" for param in request.params]
    if request.db is not None:
        argv.append(f"--db={_db_url(request.db)}")
    root = _absolute(request.output_root or f"{DEFAULT_OUTPUT_ROOT}/{name}", "--output-root")
    argv += [f"--output-root={root}", f"--lock={name}"]
    if request.no_network:
        argv.append("--no-network")
    if request.notices is not None:
        if request.notices.mail is not None and request.notices.mail.user is not None:
            raise InputError(
                "a scheduled run would need the mail password written beside it: "
                "let the mail server accept the auditor's host without a login",
                field="--smtp-user",
            )
        argv += [_plain(option, "notice option") for option in request.notices.as_options()]
    return argv


def _header(name: str, kind: str, every: str) -> str:
    info = json.dumps({"name": name, "kind": kind, "every": every})
    return (
        f"# Written by auditor (auditor schedule install --name {name}); "
        f"remove with: auditor schedule remove {name}\n{MARKER}{info}\n"
    )


def plan(request: Request, kind: str | None = None) -> Plan:
    """The files and command of a schedule, nothing written. InputError for any value that is not safe."""
    if request.every not in ("daily", "weekly"):
        cron_fields(request.every)
    argv = run_argv(request)
    command = shlex.join(argv)
    size = len(command.encode())  # cron's limit is in bytes: é or 日 takes 2 or 3
    if size > MAX_COMMAND:
        raise InputError(f"the command line would be {size} bytes; cron reads at most {MAX_COMMAND}")
    kind = kind or ("systemd" if systemd_is_init() else "cron")
    name = request.name
    if kind == "cron":
        text = (
            _header(name, kind, request.every)
            + "SHELL=/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
            + f"{cron_expression(name, request.every)} root {command}\n"
        )
        return Plan(kind, {f"{CRON_DIR}/{PREFIX}{name}": text}, command, argv)
    calendar, delay = on_calendar(name, request.every)
    service = (
        _header(name, kind, request.every)
        + f"[Unit]\nDescription=auditor scheduled audit {name}\n"
        + "Wants=network-online.target\nAfter=network-online.target\n\n"
        + "[Service]\nType=oneshot\n"
        + f"ExecStart={command}\n"
        + "# 1 = failures found: the audit did its job; 2, 3 and 4 leave the unit failed\n"
        + "SuccessExitStatus=1\nNice=10\n"
    )
    timer = (
        _header(name, kind, request.every)
        + f"[Unit]\nDescription=auditor schedule {name}\n\n"
        + f"[Timer]\nOnCalendar={calendar}\nPersistent=true\nRandomizedDelaySec={delay}\n"
        + f"Unit={PREFIX}{name}.service\n\n[Install]\nWantedBy=timers.target\n"
    )
    base = f"{SYSTEMD_DIR}/{PREFIX}{name}"
    return Plan(kind, {f"{base}.service": service, f"{base}.timer": timer}, command, argv)


def _under(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _systemctl(*args: str) -> None:
    try:
        proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutputError(f"systemctl {' '.join(args)}: {exc}") from None
    if proc.returncode != 0:
        raise OutputError(f"systemctl {' '.join(args)}: {proc.stderr.strip()[:300]}")


def install(the_plan: Plan, root: Path = Path("/")) -> list[str]:
    """Write the files (temporary file + rename, never through a link); start the timer when systemd runs."""
    for path in the_plan.files:
        target = _under(root, path)
        if target.is_file() and not target.is_symlink() and _read_ours(target) is None:
            # An administrator's own job under our name: replacing it would silently drop it.
            raise OutputError(
                f"{target} exists and was not written by the auditor: refused (remove it, or choose another --name)"
            )
    written = []
    for path, text in the_plan.files.items():
        target = _under(root, path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {target.parent}: {describe(exc)}") from None
        # 0644: systemd warns about unreadable units; cron refuses group/other-writable ones.
        write_file(target, lambda fh, text=text: fh.write(text), mode=0o644)
        written.append(str(target))
    if the_plan.kind == "systemd" and root == Path("/") and systemd_is_init():
        unit = Path(next(p for p in the_plan.files if p.endswith(".timer"))).name
        _systemctl("daemon-reload")
        _systemctl("enable", "--now", unit)
    return written


def install_request(request: Request, kind: str | None, root: Path, dry_run: bool) -> tuple[Plan, list[str] | None]:
    """``auditor schedule install``: the plan, and the files it wrote (None for a dry run, which writes nothing)."""
    the_plan = plan(request, kind)
    return the_plan, None if dry_run else install(the_plan, root)


def _read_ours(path: Path) -> dict[str, Any] | None:
    """The marker line of a file the auditor wrote; None for anything else (never followed through a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
        head = fh.read(4096)
    for line in head.splitlines()[:3]:
        if line.startswith(MARKER):
            try:
                info = json.loads(line[len(MARKER) :])
            except ValueError:
                return None
            return info if isinstance(info, dict) else None
    return None


def _command_of(path: Path, kind: str) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if kind == "systemd" and line.startswith("ExecStart="):
            return line[len("ExecStart=") :]
        if kind == "cron" and line and not line.startswith("#") and "=" not in line.split(" ", 1)[0]:
            return line.split(" root ", 1)[-1]
    return ""


def listing(root: Path = Path("/")) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    places = ((CRON_DIR, "cron", ""), (SYSTEMD_DIR, "systemd", ".timer"))
    for folder, kind, suffix in places:
        directory = _under(root, folder)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in names:
            if not entry.startswith(PREFIX) or not entry.endswith(suffix) or (not suffix and "." in entry):
                continue
            info = _read_ours(directory / entry)
            if info is None:
                continue
            files = [f"{folder}/{entry}"]
            command_file = directory / entry
            if kind == "systemd":
                service = entry[: -len(suffix)] + ".service"
                files.append(f"{folder}/{service}")
                command_file = directory / service
            found.append(
                {
                    "name": str(info.get("name")),
                    "kind": kind,
                    "every": str(info.get("every")),
                    "command": _command_of(command_file, kind) if command_file.exists() else "",
                    "files": files,
                }
            )
    return found


def remove(name: str, root: Path = Path("/")) -> list[str]:
    """Stop and delete the schedule's files (only files the auditor wrote). InputError when there is none."""
    runlock.check_name(name, "NAME")
    candidates = [
        f"{CRON_DIR}/{PREFIX}{name}",
        f"{SYSTEMD_DIR}/{PREFIX}{name}.timer",
        f"{SYSTEMD_DIR}/{PREFIX}{name}.service",
    ]
    ours = [p for p in candidates if _read_ours(_under(root, p)) is not None]
    if not ours:
        raise InputError(f"no schedule {name!r} written by the auditor (see: auditor schedule list)")
    if any(p.endswith(".timer") for p in ours) and root == Path("/") and systemd_is_init():
        _systemctl("disable", "--now", f"{PREFIX}{name}.timer")
    removed = []
    for path in ours:
        target = _under(root, path)
        try:
            os.unlink(target)  # the link itself if someone swapped one in: never what it points to
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot remove {target}: {describe(exc)}") from None
        removed.append(str(target))
    if any(p.endswith(".timer") for p in ours) and root == Path("/") and systemd_is_init():
        _systemctl("daemon-reload")
    return removed
