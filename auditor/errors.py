"""Errors that name where the bad input is, so a user can fix it without guessing."""

from __future__ import annotations


class InputError(Exception):
    """Bad input (catalog, playbook, inventory, parameter): exit code 2.

    Carries the file, line and field so the message reads like a compiler error:
    ``controls/iso27001/checks/linux.yaml:42: checks[3].expect.lte: expected a number``.
    """

    exit_code = 2

    def __init__(self, message: str, file: str | None = None, line: int | None = None, field: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.message}"


class CatalogError(InputError):
    pass


class InventoryError(InputError):
    pass


class PlaybookError(InputError):
    pass


class InputUnreadable(InputError):
    """An input file the system will not let us read (permission, I/O error): the environment, exit code 3."""

    exit_code = 3
