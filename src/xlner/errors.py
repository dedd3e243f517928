"""Errors with a location, so users see FILE:LINE: what was expected."""

from __future__ import annotations

from pathlib import Path


class XlnerError(Exception):
    """Base class of every error xlner raises on purpose."""


class InputError(XlnerError, ValueError):
    """Bad input, located at ``path:line`` when known."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)
