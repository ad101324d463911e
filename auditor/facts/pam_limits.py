"""``pam_limits``: the hard limit pam_limits gives every user's session (the ``*`` entry) for an item.

pam_limits reads /etc/security/limits.conf, then /etc/security/limits.d/*.conf in name order;
"#" starts a comment anywhere on a line; type "-" sets both soft and hard. Among entries of the
same kind (here the "*" default) the LAST one read wins, so a later file's "* hard core unlimited"
undoes an earlier "* hard core 0" (checked against a real SSH login's ``ulimit -Hc`` in the lab).
A more specific entry (a user, a group) would win over "*" for its users; "*" never applies to root.
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import ScriptFact, own_files, register

MAIN = "/etc/security/limits.conf"
FILES = [MAIN, "/etc/security/limits.d/*.conf"]


def read_order(paths: list[str]) -> list[str]:
    """limits.conf first, then limits.d's files sorted by name (C locale: byte order)."""
    return ([MAIN] if MAIN in paths else []) + sorted((p for p in paths if p != MAIN), key=lambda p: p.encode())


def effective_hard(texts: dict[str, str], item: str, domain: str = "*") -> tuple[str | None, str]:
    """(value, "file:line") of the last hard limit of ``item`` for ``domain``; (None, "") when none."""
    value, where = None, ""
    for path in read_order(list(texts)):
        for n, line in enumerate(texts[path].splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if len(words) < 4 or words[0] != domain or words[2] != item or words[1] not in ("hard", "-"):
                continue
            value, where = words[3], f"{path}:{n}"
    return value, where


def is_zero(value: str | None) -> bool:
    return value is not None and value.isdigit() and int(value) == 0


@register
class PamLimitsFact(ScriptFact):
    name = "pam_limits"
    script = "true"  # the files come from the host's shared archive
    params_schema = {
        "type": "object",
        "properties": {"item": {"enum": ["core"]}},
        "required": ["item"],
        "additionalProperties": False,
    }

    def files(self, params: dict[str, Any]) -> list[str]:
        return FILES

    def parse(self, outputs: list[Any], params: dict[str, Any]) -> dict[str, Any]:
        texts, _ = own_files(outputs[-1], FILES, all_readable=True)
        value, where = effective_hard(texts, params["item"])
        if value is None:
            summary = f'no "* hard {params["item"]}" entry: sessions keep the inherited limit'
        else:
            summary = f'"* hard {params["item"]} {value}" at {where} is the last one pam_limits reads'
        return {"hard": value, "zero": is_zero(value), "summary": summary}
