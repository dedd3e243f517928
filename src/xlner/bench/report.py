"""Shared by the benchmark scripts: write a markdown section into docs/benchmarks.md."""

from __future__ import annotations

import re
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[3]
#: docs/benchmarks.md of this checkout (editable install), else of the current folder.
BENCHMARKS_MD = (_CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()) / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEvery table below was written by the script named above it; rerun that command to reproduce it.\n"


def command_line(name: str, argv: list[str] | None = None) -> str:
    """The command that reproduces benchmark ``name`` with these arguments."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["xlner bench", name, *args])


def write_section(name: str, markdown: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
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
