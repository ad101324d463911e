"""Where the catalog and playbooks are: the repository's folders, or the copy inside an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    checkout = _PACKAGE.parent
    if (checkout / "controls").is_dir() and (checkout / "playbooks").is_dir():
        return checkout
    return _PACKAGE / "_data"


def controls_dir() -> Path:
    return data_root() / "controls"


def playbooks_dir() -> Path:
    return data_root() / "playbooks"


def schema_path(name: str) -> Path:
    return _PACKAGE / "schemas" / name
