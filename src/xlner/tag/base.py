"""The Tagger protocol (tag sequences <-> spans live in :mod:`xlner.tags`)."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from xlner.types import Span


@runtime_checkable
class Tagger(Protocol):
    """Labels a batch of tokenized sentences with entity spans (word indices, half-open)."""

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]: ...
