"""``logrotate``: how many days of a log file logrotate keeps, as logrotate itself reads its configuration.

``logrotate -d /etc/logrotate.conf`` run as root reads the configuration exactly as the nightly run does
(``include`` files and directories in its order; names with a taboo extension such as ``.disabled``,
``.dpkg-old`` or ``~`` skipped; files writable by group/others or not owned by root ignored; a log named
twice kept in the first block read; globals set anywhere applying to every later block) and prints, per
block, its period and rotate count and the logs it considers. It rotates nothing and writes no state.
Retention is rotate count x period. ``maxage`` caps it but ``-d`` does not print it: it is read from the
files logrotate says it read; where it cannot be placed for sure the retention is a range.

Without root logrotate ignores no file for its owner and cannot stat root-only logs: its reading is not
the nightly run's, so the fact is unreadable then (error), never a guess from the files.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from auditor.facts.base import (
    ABS_PATH,
    FactType,
    FactUnreadable,
    RawOutput,
    register,
    require_rc,
    sections,
    split_words,
)

CONF = "/etc/logrotate.conf"
KEPT_FOREVER = 36500
PERIOD_DAYS: dict[str, float] = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}
SCRIPTS = frozenset({"postrotate", "prerotate", "firstaction", "lastaction", "preremove"})

# logrotate -d (as root, the real nightly reading); then the files it read, each line prefixed with "|" so
# that no configuration text can pass for a section header.
SNIPPET = (
    "LR=$(command -v logrotate 2>/dev/null || echo /usr/sbin/logrotate); "
    "if [ ! -x \"$LR\" ]; then echo @@absent; exit 0; fi; echo @@installed; echo @@uid; id -u; "
    "[ \"$(id -u)\" = 0 ] || exit 0; "
    f"out=$(\"$LR\" -d {CONF} </dev/null 2>&1); echo @@rc; echo $?; "
    "echo @@logrotate-d; printf '%s\\n' \"$out\" | sed 's/^/|/'; "
    "printf '%s\\n' \"$out\" | awk '/^including /{d=substr($0,11)} /^reading config file /{f=substr($0,21); "
    "if (substr(f,1,1)!=\"/\") f=d \"/\" f; print \"@@file \" f; "
    "while ((getline l < f) > 0) print \"|\" l; close(f)}'"
)  # fmt: skip

_CRIT = re.compile(
    r"^(?P<pattern>.*?)\s+(?:after (?P<days>\d+) days|(?P<period>hourly|weekly|monthly|yearly)|(?P<bytes>\d+) bytes) "
    r"(?:\((?P<count>\d+) rotations\)|(?P<none>\(no old logs will be kept\)))?\s*(?P<rest>.*)\Z",
    re.DOTALL,
)


def _unprefix(lines: list[str]) -> list[str]:
    return [line[1:] if line.startswith("|") else line for line in lines]


def parse_debug(lines: list[str]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(blocks with pattern, period, rotate, maxsize, logs considered; files read in order; error lines)
    from the output of ``logrotate -d``."""
    blocks: list[dict[str, Any]] = []
    files: list[str] = []
    errors: list[str] = []
    directory = ""
    header: list[str] | None = None
    for line in lines:
        if header is not None:  # a pattern can span lines; its trailer ends with "log files are ..."
            header.append(line)
            if "log files are" not in line:
                continue
            blocks.append(_block("\n".join(header)))
            header = None
            continue
        if line.startswith("rotating pattern: "):
            header = [line[len("rotating pattern: ") :]]
            if "log files are" in line:
                blocks.append(_block(header[0]))
                header = None
        elif line.startswith("including "):
            directory = line[len("including ") :]
        elif line.startswith("reading config file "):
            name = line[len("reading config file ") :]
            files.append(name if name.startswith("/") else f"{directory}/{name}")
        elif line.startswith("considering log ") and blocks:
            blocks[-1]["logs"].append(line[len("considering log ") :].strip())
        elif line.startswith("error:") and "stat of" not in line:
            errors.append(line)
    return blocks, files, errors


def _block(text: str) -> dict[str, Any]:
    m = _CRIT.match(text)
    if m is None:
        return {"pattern": text.split("log files are")[0].strip(), "period": None, "rotate": None, "logs": []}
    if m["days"]:
        period: float | None = float(m["days"])
    elif m["period"]:
        period = PERIOD_DAYS[m["period"]]
    else:
        period = None  # rotated by size only: no time in it
    rotate = int(m["count"]) if m["count"] else 0 if m["none"] else -1  # nothing printed: rotate -1 (keep all)
    return {"pattern": m["pattern"].strip(), "period": period, "rotate": rotate, "logs": [],
            "maxsize": "are rotated earlier" in m["rest"]}  # fmt: skip


def config_blocks(text: str) -> tuple[list[tuple[list[str], int | None]], list[int]]:
    """([(pattern words, maxage of the block or None)], global maxage values) of one configuration file."""
    blocks: list[tuple[list[str], int | None]] = []
    globals_: list[int] = []
    clean = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    head: list[str] = []
    inside = script = False
    maxage: int | None = None
    for line in clean.replace("{", "\n{\n").replace("}", "\n}\n").splitlines():
        words = line.split()
        if not words:
            continue
        key = words[0].lower()
        if key == "{":
            inside, maxage = True, None
        elif key == "}" and inside and not script:
            blocks.append(([w for h in head for w in split_words(h)], maxage))
            inside, head = False, []
        elif inside:
            script = (script or key in SCRIPTS) and key != "endscript"
            if not script and key == "maxage" and len(words) > 1 and words[1].isdigit():
                maxage = int(words[1])
        elif line.lstrip().startswith(("/", '"', "'")):
            head.append(line)
        elif key == "maxage" and len(words) > 1 and words[1].isdigit():
            globals_.append(int(words[1]))
    return blocks, globals_


def retention(block: dict[str, Any], configs: dict[str, str]) -> tuple[Any, str]:
    """Days kept (an int, a {"at_least", "at_most"} range, or None) and why."""
    period, rotate = block["period"], block["rotate"]
    if period is None:
        return None, "rotated by size only: no period"
    days = KEPT_FOREVER if rotate < 0 else int(rotate * period)
    words = split_words(block["pattern"])
    parsed = [config_blocks(text) for text in configs.values()]
    mine = [age for blocks, _ in parsed for pats, age in blocks if pats == words]
    everywhere = [age for blocks, _ in parsed for _, age in blocks if age] + [a for _, g in parsed for a in g]
    why = f"rotate {rotate} x {period:g} days"
    if len(mine) == 1 and mine[0] is not None:
        return min(days, mine[0]), why + f", maxage {mine[0]}"
    global_ages = [a for _, g in parsed for a in g]
    doubt = global_ages if len(mine) == 1 else everywhere  # block found: only a global maxage can reach it
    low = min([days, *doubt])
    if block.get("maxsize"):  # rotated earlier when it grows: fewer days, how many is not known
        return {"at_least": 0, "at_most": days}, why + ", maxsize may rotate it sooner"
    if low < days:
        return {"at_least": low, "at_most": days}, why + f", a maxage {low} may cap it"
    return days, why


@register
class LogrotateFact(FactType):
    name = "logrotate"
    params_schema = {
        "type": "object",
        "properties": {"logs": {"type": "array", "items": ABS_PATH, "minItems": 1}},
        "required": ["logs"],
        "additionalProperties": False,
    }

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [SNIPPET]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        raw = outputs[0]
        require_rc(raw, "reading logrotate's configuration")
        found = sections(raw.stdout)
        if "installed" not in found:
            return {"installed": False, "logs": {}, "min_retention_days": None, "summary": "logrotate not installed"}
        if [u.strip() for u in found.get("uid", [])] != ["0"] or "logrotate-d" not in found:
            raise FactUnreadable("logrotate -d needs root to read the configuration as the nightly run does")
        blocks, read, errors = parse_debug(_unprefix(found["logrotate-d"]))
        configs = {k[len("file ") :]: "\n".join(_unprefix(v)) for k, v in found.items() if k.startswith("file ")}
        if not any(line.startswith("Handling ") for line in _unprefix(found["logrotate-d"])):
            rc = (found.get("rc") or ["?"])[0]
            raise FactUnreadable(f"logrotate -d stopped before rotating anything (exit {rc}): "
                                 + ("; ".join(errors) or "no reason given"))  # fmt: skip
        logs: dict[str, Any] = {}
        for log in params["logs"]:
            block = next((b for b in blocks if log in b["logs"]), None)
            if block is None:  # a glob that matched nothing is printed as the glob itself
                block = next((b for b in blocks if any(fnmatch.fnmatchcase(log, p)
                                                       for p in split_words(b["pattern"]))), None)  # fmt: skip
            if block is None:
                logs[log] = {"pattern": None, "retention_days": None, "why": "no block logrotate reads names it"}
                continue
            days, why = retention(block, configs)
            logs[log] = {"pattern": " ".join(split_words(block["pattern"])), "rotate": block["rotate"],
                         "period_days": block["period"], "retention_days": days, "why": why}  # fmt: skip
        known = [v["retention_days"] for v in logs.values()]
        summary = "; ".join(
            f"{k}: {_days(v['retention_days'])} ({v['why']})" if v["pattern"] else f"{k}: {v['why']}"
            for k, v in logs.items()
        )
        # the files logrotate read besides logrotate.conf and logrotate.d: where a surprise would be
        others = [f for f in read if f != CONF and not f.startswith("/etc/logrotate.d/")]
        summary += f" [logrotate -d as root read {len(read)} files" + "".join(f", {f}" for f in others) + "]"
        if errors:
            summary += " [logrotate: " + "; ".join(errors[:3]) + "]"
        return {
            "installed": True,
            "logs": logs,
            # None when any watched log's retention cannot be told: the check says unknown, not pass.
            "min_retention_days": _least(known),
            "summary": summary,
        }


def _days(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value['at_least']} to {value['at_most']} days"
    return "unknown days" if value is None else f"{value} days"


def _least(values: list[Any]) -> Any:
    if not values or any(v is None for v in values):
        return None
    lows = [v["at_least"] if isinstance(v, dict) else v for v in values]
    highs = [v["at_most"] if isinstance(v, dict) else v for v in values]
    return min(lows) if min(lows) == min(highs) else {"at_least": min(lows), "at_most": min(highs)}
