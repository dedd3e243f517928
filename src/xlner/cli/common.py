"""Helpers shared by the sub-commands: turning xlner errors into clean exits."""

from __future__ import annotations

import contextlib
from typing import Iterator

import typer
from rich.console import Console
from rich.markup import escape

from xlner.errors import XlnerError

console = Console()
err_console = Console(stderr=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print an :class:`XlnerError` as ``error: ...`` and exit with status 2."""
    try:
        yield
    except XlnerError as error:
        err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
