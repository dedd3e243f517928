"""The Aligner protocol: sentence pairs in, one alignment per pair out."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from xlner.types import Alignment

TokenPair = tuple[Sequence[str], Sequence[str]]


@runtime_checkable
class Aligner(Protocol):
    """Aligns a batch of (source tokens, target tokens) pairs.

    Returns one :data:`~xlner.types.Alignment` per pair: a frozenset of
    ``(i, j)`` links, ``i`` a source word index and ``j`` a target word index.
    """

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]: ...
