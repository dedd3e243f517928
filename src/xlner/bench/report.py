"""Shared by the benchmark scripts: write a markdown section into docs/benchmarks.md."""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Sequence

_CHECKOUT = Path(__file__).resolve().parents[3]
#: docs/benchmarks.md of this checkout (editable install), else of the current folder.
BENCHMARKS_MD = (_CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()) / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nEvery table below was written by the script named above it; rerun that command to reproduce it.\n"
)


def command_line(name: str, argv: list[str] | None = None) -> str:
    """The command that reproduces benchmark ``name`` with these arguments."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["xlner bench", name, *map(shlex.quote, args)])


def write_section(name: str, markdown: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section between ``<!-- name:start -->`` and ``<!-- name:end -->``.

    The read-modify-write holds an exclusive lock on ``PATH.lock`` and the new
    text replaces ``path`` through a temporary file of its own, so concurrent
    benchmarks never lose each other's sections.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else HEADER
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--output FILE`` and ``--no-write``, shared by every benchmark."""
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="markdown file to write the section into (default docs/benchmarks.md; "
        "a partial run writes only with --output)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; write no file")


def publish(name: str, title: str, markdown: str, args: argparse.Namespace, partial: bool = False) -> bool:
    """Print the section and write it where ``args`` say; True when something was written.

    A partial run (a subset of languages, sets or directions) never replaces
    the published section of docs/benchmarks.md: it writes only to ``--output``.
    """
    print(markdown)
    if args.no_write:
        return False
    if args.output is None and partial:
        print(f"\n(partial run: {BENCHMARKS_MD} not written; use --output FILE to keep these rows)", file=sys.stderr)
        return False
    write_section(name, f"## {title}\n\n{markdown}", args.output or BENCHMARKS_MD)
    return True


def plots_wanted(args: argparse.Namespace, partial: bool = False) -> bool:
    """Plots go beside docs/benchmarks.md only when the full section is written there."""
    return not (args.no_write or partial or args.output is not None)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats print with 3 decimals."""

    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def bar_plot(
    path: Path,
    tables: dict[str, dict[str, dict[str, float]]],
    references: dict[str, list[tuple[str, float]]],
    *,
    ylabel: str,
    title: str,
    ylim: tuple[float, float],
) -> None:
    """Grouped bars, one panel per table (rows: x groups, columns: bars), with each panel's reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(7 * len(tables), 5.5), sharey=True, squeeze=False)
    for ax, (panel, table) in zip(axes[0], tables.items()):
        columns = list(next(iter(table.values())))
        width = 0.8 / len(columns)
        for k, column in enumerate(columns):
            xs = [m + (k - (len(columns) - 1) / 2) * width for m in range(len(table))]
            ax.bar(xs, [row[column] for row in table.values()], width, label=column)
        for (name, value), style in zip(references.get(panel, []), ["-", "--", ":", "-."]):
            ax.axhline(value, color="black", linestyle=style, linewidth=1, label=f"{name} {value:.3f}")
        ax.set_xticks(range(len(table)))
        ax.set_xticklabels([name.replace(" (", "\n(") for name in table], rotation=30, ha="right", fontsize=7)
        ax.set_title(panel, fontsize=9)
        ax.set_ylim(*ylim)
        ax.legend(fontsize=7, loc="lower right", ncol=2)
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
