"""The drift notices after a run (or from a diff file): sent, and what that does to the exit code.

A notice is sent after the run's files are written, so a failed one cannot lose anything: it is
reported and makes a run that finished (0 or 1) exit 3; a run that already exited 3 or 4 keeps its code.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError
from auditor.run import EXIT_FAILURES, EXIT_INCOMPLETE, EXIT_OK
from auditor.yamlsource import read_source

if TYPE_CHECKING:
    from auditor import notify

# notify's mail and TLS libraries load when a notice is set up, not with every command.

NO_PREVIOUS_RUN = "drift notice: no earlier run of this playbook and inventory to compare with; nothing sent"
NO_DRIFT = "drift notice: no new failure, error or host-key change since the last run; nothing sent"


@dataclass
class NoticeOptions:
    """The --notify-* and --smtp-* options as given; ``settings`` checks them."""

    emails: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_sender: str | None = None
    smtp_ca_file: str | None = None
    smtp_user: str | None = None
    command: str | None = None
    timeout: float = 60.0

    def settings(self) -> notify.Settings | None:
        """None when no notice was asked for; InputError (exit 2) for a bad value."""
        from auditor import notify

        return notify.settings(
            self.emails,
            self.smtp_host,
            self.smtp_port,
            self.smtp_sender,
            self.smtp_ca_file,
            self.smtp_user,
            self.command,
            self.timeout,
        )


@dataclass
class NoticesSent:
    exit_code: int
    messages: list[str]  # for stderr, in order


def send_drift_notices(notices: notify.Settings, diff: dict[str, Any] | None, code: int) -> NoticesSent:
    """The notices a diff calls for (none without a previous run), and ``code`` as they leave it."""
    from auditor import notify

    if diff is None:
        return NoticesSent(code, [NO_PREVIOUS_RUN])
    drifted, problems = notify.deliver(notices, diff)
    messages = [] if drifted else [NO_DRIFT]
    messages += [f"error: drift notice: {problem}" for problem in problems]
    return NoticesSent(EXIT_INCOMPLETE if problems and code in (EXIT_OK, EXIT_FAILURES) else code, messages)


def notify_from_diff(diff_file: str, options: NoticeOptions) -> NoticesSent:
    """``auditor notify``: the notices of a diff JSON file ('-': standard input), as a run would send them."""
    from auditor import notify

    notices = options.settings()
    if notices is None:
        raise InputError("nothing to send with: give --notify-email and/or --notify-command")
    text = sys.stdin.read() if diff_file == "-" else read_source(Path(diff_file), InputError)
    try:
        diff = notify.check_diff(json.loads(text))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not JSON: {exc}", file=diff_file) from None
    return send_drift_notices(notices, diff, EXIT_OK)
