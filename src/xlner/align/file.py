"""Precomputed alignments read from a Pharaoh file (``i-j`` links, one line per pair)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from xlner.align.base import TokenPair, check_pairs
from xlner.errors import InputError
from xlner.registry import registry
from xlner.types import Alignment


class PharaohAligner:
    """Returns the alignments of ``path`` for the given pairs, after checking them.

    Line ``k`` of the file belongs to pair ``k``; the number of lines must equal
    the number of pairs, and every link must lie inside its sentences (errors
    name ``FILE:LINE``). ``reverse=True`` reads files written target-source
    (``j-i``) and flips them.
    """

    def __init__(self, path: str | Path, reverse: bool = False):
        self.path = Path(path)
        self.reverse = reverse

    def config(self) -> dict[str, Any]:
        stat = self.path.stat() if self.path.is_file() else None
        return {
            "aligner": "pharaoh",
            "path": str(self.path.resolve()),
            "reverse": self.reverse,
            "mtime_ns": stat.st_mtime_ns if stat else None,
            "size": stat.st_size if stat else None,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        from xlner.io.pharaoh import read_pharaoh, validate

        check_pairs(pairs)
        if not self.path.is_file():
            raise InputError("alignment file not found", self.path)
        alignments = read_pharaoh(self.path)
        if self.reverse:
            alignments = [frozenset((i, j) for j, i in links) for links in alignments]
        if len(alignments) != len(pairs):
            raise InputError(f"{len(alignments)} alignment lines for {len(pairs)} sentence pairs", self.path)
        validate(alignments, [len(s) for s, _ in pairs], [len(t) for _, t in pairs], self.path)
        return alignments


@registry.aligners.register("pharaoh")
def _make_pharaoh(path: str | Path, reverse: bool = False) -> PharaohAligner:
    return PharaohAligner(path, reverse=reverse)
