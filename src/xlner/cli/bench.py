"""``xlner bench NAME``: run a benchmark on the real data and write docs/benchmarks.md.

One Typer sub-command per benchmark, a thin pass-through to the benchmark's
argparse ``main(argv)``; its help shows the module's whole docstring, then
the benchmark's own options.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import re

import typer
from rich.markup import escape

from xlner.bench import BENCHMARKS
from xlner.cli import app
from xlner.cli.common import console, user_errors

bench_app = typer.Typer(
    name="bench",
    help="Run a benchmark on ../shared/data: print its tables and write them to docs/benchmarks.md.\n\n"
    "`xlner bench NAME --help` shows what benchmark NAME measures and its options.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(bench_app, name="bench")


def module_doc(module: str) -> str:
    """The docstring of ``module``, read from its source without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return ""
    with open(spec.origin, encoding="utf-8") as source:
        return ast.get_docstring(ast.parse(source.read())) or ""


def argparse_options(module: str) -> str:
    """The usage line and option sections of benchmark ``module``'s ``--help`` (its description left out)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        importlib.import_module(module).main(["--help"])
    text = out.getvalue()
    usage = text.split("\n\n", 1)[0]
    sections = re.search(r"^(positional arguments|options|optional arguments):", text, re.M)
    return usage + ("\n\n" + text[sections.start() :] if sections else "")


def _add(name: str, module: str) -> None:
    doc = module_doc(module)
    short = " ".join(doc.split("\n\n", 1)[0].split())

    def command(ctx: typer.Context) -> None:
        args = list(ctx.args)
        if "-h" in args or "--help" in args:
            console.print(ctx.get_help())
            console.print(argparse_options(module), markup=False, highlight=False)
            return
        with user_errors():
            importlib.import_module(module).main(args)

    bench_app.command(
        name,
        help=escape(doc),
        short_help=escape(short),
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(command)


for _name, _module in BENCHMARKS.items():
    _add(_name, _module)
