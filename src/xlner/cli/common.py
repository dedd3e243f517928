"""Helpers shared by the sub-commands: turning xlner errors into clean exits, a progress spinner."""

from __future__ import annotations

import contextlib
import inspect
import re
from typing import Any, Callable, Iterator, Mapping

import typer
from rich.console import Console
from rich.markup import escape
from typer.models import OptionInfo

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


@contextlib.contextmanager
def elapsed_status(message: str, aligner: Any = None) -> Iterator[None]:
    """A spinner with ``message`` and the elapsed time on stderr while the body runs (nothing when not a terminal).

    An ``aligner`` with an ``on_progress`` attribute (eflomal) also shows its estimated share done.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    reports = aligner is not None and hasattr(aligner, "on_progress")
    if reports:
        columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task(escape(message), total=1.0 if reports else None)
        if reports:
            before = aligner.on_progress
            aligner.on_progress = lambda share: progress.update(task, completed=share)
        try:
            yield
        finally:
            if reports:
                aligner.on_progress = before


def show_defaults(command: Callable[..., Any], defaults: Mapping[str, Any], required: tuple[str, ...] = ()) -> None:
    """Show ``defaults`` (the values ``None`` options fall back to) as ``[default: ...]`` in ``command``'s help.

    ``required`` options gain "Required (here or in --config)."; a ``(default X)`` in a help text is dropped.
    """
    for name, parameter in inspect.signature(command).parameters.items():
        info = parameter.default
        key = name.rstrip("_")
        if not isinstance(info, OptionInfo) or info.default is not None:
            continue
        value, shown = defaults.get(key), None
        if isinstance(value, bool):
            pairs = [decl.split("/") for decl in info.param_decls or () if "/" in decl]
            if pairs:
                shown = pairs[0][0 if value else 1].strip().lstrip("-")
        elif isinstance(value, (str, int, float)) and value != "":
            shown = str(value)
        if shown is not None:
            info.show_default = shown
            info.help = re.sub(r" \(default [^():]*\)", "", info.help or "")
        if key in required and "Required" not in (info.help or ""):
            info.help = f"{info.help} Required (here or in --config)."
