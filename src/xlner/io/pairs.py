"""fast_align / awesome-align input: one ``source tokens ||| target tokens`` line per sentence pair."""

from __future__ import annotations

from pathlib import Path

from xlner.errors import InputError
from xlner.io.text import read_lines, split_columns

SEPARATOR = "|||"


def read_pairs(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """(source tokens, target tokens) per line; a line without exactly one ``|||`` is an error naming ``FILE:LINE``."""
    pairs = []
    for number, line in enumerate(read_lines(path), start=1):
        tokens = split_columns(line)
        cuts = [k for k, token in enumerate(tokens) if token == SEPARATOR]
        if len(cuts) != 1:
            found = "no" if not cuts else str(len(cuts))
            raise InputError(
                f"expected 'source tokens ||| target tokens', found {found} ' ||| ' separators", path, number
            )
        pairs.append((tokens[: cuts[0]], tokens[cuts[0] + 1 :]))
    if not pairs:
        raise InputError("no sentence pair in the file (expected 'source tokens ||| target tokens' lines)", path)
    return pairs
