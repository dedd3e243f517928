"""``xlner bench NAME``: run a benchmark on the real data and write docs/benchmarks.md."""

from __future__ import annotations

import importlib
from typing import List, Optional

import typer

from xlner.bench import BENCHMARKS
from xlner.cli import app
from xlner.cli.common import console, user_errors
from xlner.errors import XlnerError


@app.command(
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def bench(
    ctx: typer.Context,
    name: Optional[str] = typer.Argument(None, help=f"Benchmark: {', '.join(BENCHMARKS)}."),
    args: Optional[List[str]] = typer.Argument(None, help="Options of the benchmark (`xlner bench NAME --help`)."),
) -> None:
    """Run benchmark NAME on ../shared/data: print its tables and write them to docs/benchmarks.md.

    `xlner bench NAME --help` lists the options of benchmark NAME.
    """
    with user_errors():
        if name is None or name in ("-h", "--help"):
            console.print(ctx.get_help())
            console.print("\nBenchmarks: " + ", ".join(BENCHMARKS))
            return
        if name not in BENCHMARKS:
            raise XlnerError(f"unknown benchmark {name!r}: known {', '.join(BENCHMARKS)}")
        module = importlib.import_module(BENCHMARKS[name])
        module.main([*(args or []), *ctx.args])
