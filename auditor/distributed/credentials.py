"""Where the broker's and the history database's URLs come from.

A password never comes from the command line (process listings, shell history and logs keep
it): a URL that holds one is given by the environment (``AUDITOR_BROKER``, ``AUDITOR_DB``) or
by a credentials file only its owner can read. The command line wins over the environment,
which wins over the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from auditor.errors import InputError

ENV = {"broker": "AUDITOR_BROKER", "db": "AUDITOR_DB"}
BROKER_SCHEMES = ("redis", "rediss", "redis+socket")


def has_password(url: str) -> bool:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return False
    query = {k.lower() for k, _ in parse_qsl(parts.query)}
    return bool(password) or "password" in query


def shown(url: str) -> str:
    """The URL as messages may show it: the password masked, in the user part and in the query."""
    try:
        parts = urlsplit(url)
        netloc, query = parts.netloc, parts.query
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}"
        if "password" in {k.lower() for k, _ in parse_qsl(query, keep_blank_values=True)}:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = "&".join(f"{k}=***" if k.lower() == "password" else urlencode([(k, v)]) for k, v in pairs)
        return parts._replace(netloc=netloc, query=query).geturl()
    except ValueError:
        return "(an unreadable URL)"


def read_file(path: Path) -> dict[str, str]:
    """``broker:`` and ``db:`` from a YAML file that only its owner may read, and that owner is this user.

    The checks are made on the file as opened (a symlink swapped between a check and the read
    changes nothing): a file another user owns could point this machine at their broker.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)  # a FIFO would block here
    except FileNotFoundError:
        raise InputError("no such credentials file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the credentials file: {exc.strerror}", file=str(path)) from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputError("the credentials file is no regular file", file=str(path))
        if info.st_uid != os.geteuid():
            raise InputError(
                f"the credentials file belongs to another user (uid {info.st_uid}): only this user's own file is read",
                file=str(path),
            )
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(
                f"the credentials file is readable by others (mode {stat.S_IMODE(info.st_mode):04o}): chmod 600 it",
                file=str(path),
            )
        try:
            data: Any = yaml.safe_load(handle.read()) or {}
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise InputError(
                f"not a YAML file: {type(exc).__name__}", file=str(path), line=None if line is None else line + 1
            ) from None
    if not isinstance(data, dict) or set(data) - set(ENV):
        raise InputError("expected a mapping with the keys broker and db only", file=str(path))
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError("expected a URL", file=str(path), field=key)
    return {k: v.strip() for k, v in data.items()}


def resolve(kind: str, given: str | None, credentials_file: str | None) -> str | None:
    """The URL of ``kind`` (broker or db) from the command line, the environment or the file."""
    option = f"--{kind}"
    if given is not None:
        if has_password(given):
            raise InputError(
                f"a password on the command line is refused (it lands in process listings and shell "
                f"history): put the URL in the environment variable {ENV[kind]} or a credentials file "
                "(--credentials, mode 600)",
                field=option,
            )
        return check(kind, given.strip(), option)
    from_env = os.environ.get(ENV[kind], "").strip()
    if from_env:
        return check(kind, from_env, ENV[kind])
    if credentials_file:
        value = read_file(Path(credentials_file)).get(kind)
        if value:
            return check(kind, value, f"{credentials_file}: {kind}")
    return None


def check(kind: str, url: str, where: str) -> str:
    if kind == "broker":
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in BROKER_SCHEMES:
            raise InputError(
                f"{shown(url)!r} is no Redis URL (redis://, rediss:// with TLS, redis+socket:///path)", field=where
            )
    return url
