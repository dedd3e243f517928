"""``xlner bench NAME``: run a benchmark on the real data and write docs/benchmarks.md."""

from __future__ import annotations

import importlib
from typing import List, Optional

import typer

from xlner.bench import BENCHMARKS
from xlner.cli import app
from xlner.cli.common import user_errors
from xlner.errors import XlnerError


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=f"Benchmark: {', '.join(BENCHMARKS)}."),
    args: Optional[List[str]] = typer.Argument(None, help="Options of the benchmark (NAME --help lists them)."),
) -> None:
    """Run benchmark NAME on ../shared/data: print its tables and write them to docs/benchmarks.md."""
    with user_errors():
        if name not in BENCHMARKS:
            raise XlnerError(f"unknown benchmark {name!r}: known {', '.join(BENCHMARKS)}")
        module = importlib.import_module(BENCHMARKS[name])
        module.main([*(args or []), *ctx.args])
