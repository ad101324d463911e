"""Which database the history is in, and how to name it without its password."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# SQLAlchemy is imported where a URL is parsed, not here: every command imports StoreError and
# chosen_url, and most of them never open the store.

ENV_VAR = "AUDITOR_DB"
ROOT_PATH = Path("/var/lib/auditor/history.db")


class StoreError(Exception):
    """The history store cannot be used (unreachable, read-only, newer schema): the environment, exit 3."""

    exit_code = 3


def default_url() -> str:
    """SQLite in the system's state folder for root, in the user's data folder otherwise."""
    if os.geteuid() == 0:
        return f"sqlite:///{ROOT_PATH}"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(data) / 'auditor' / 'history.db'}"


def chosen_url(option: str | None) -> str:
    """``--db`` first, then ``AUDITOR_DB``, then the default."""
    return option or os.environ.get(ENV_VAR) or default_url()


def parse(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        # The text may hold a password: name only what cannot be a secret.
        raise StoreError(f"history store: not a database URL ({type(exc).__name__})") from None


def shown(url: str | URL) -> str:
    """The URL as messages may show it: the password masked."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "(unparsable database URL)"
    return parsed.render_as_string(hide_password=True)


def scrub(text: str, url: str | URL) -> str:
    """An error message from a driver with any password of ``url`` removed (drivers may echo the DSN)."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = (url if isinstance(url, URL) else make_url(url)).password
    except (ArgumentError, ValueError):
        return text
    return text.replace(str(password), "***") if password else text
