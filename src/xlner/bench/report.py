"""Shared by the benchmark scripts: write a markdown section into docs/benchmarks.md."""

from __future__ import annotations

import re
import sys
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[3] / "docs" / "benchmarks.md"
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
