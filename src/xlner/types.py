"""The few types every part of xlner shares.

Spans are half-open word ranges ``[start, end)`` with a label. Alignments are
sets of ``(i, j)`` word-index pairs: ``i`` indexes the *source* sentence (the
side whose entities are projected) and ``j`` the *target* sentence. Labels
become IOB2 tags only at the edges (readers, writers, metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, FrozenSet, Iterable, Tuple

Link = Tuple[int, int]
Alignment = FrozenSet[Link]

#: Characters that end a sentence or clause in common scripts (see :func:`ends_clause`).
BREAK_TOKENS = frozenset({".", ";", ":", "!", "?", "。", "！", "？", "؛", "؟", "।"})


def ends_clause(token: str) -> bool:
    """Whether a token ends a sentence or clause: one of :data:`BREAK_TOKENS`, or a word ending in one
    ("zusammen." in untokenized text). Long pairs are cut after such tokens (alignment windows,
    :mod:`xlner.align.long`; projection pieces, :mod:`xlner.project.pieces`)."""
    return token[-1:] in BREAK_TOKENS


@dataclass(frozen=True, order=True)
class Span:
    """A labelled half-open word range ``[start, end)``."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(f"invalid span [{self.start}, {self.end}) {self.label!r}: need 0 <= start < end")

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


_new_object = object.__new__


def unchecked_span(start: int, end: int, label: str) -> Span:
    """A :class:`Span` without the bounds check, for hot paths whose bounds are valid by construction."""
    span = _new_object(Span)
    fields = span.__dict__
    fields["start"], fields["end"], fields["label"] = start, end, label
    return span


def spans_to_json(spans: Iterable[Span]) -> list[list[Any]]:
    """Spans as JSON lists ``[start, end, label]`` (xlner's JSONL layout, shards, caches)."""
    return [[s.start, s.end, s.label] for s in spans]


def spans_from_json(value: Iterable[Any]) -> list[Span]:
    """The inverse of :func:`spans_to_json`."""
    return [Span(int(start), int(end), str(label)) for start, end, label in value]


@dataclass
class Sentence:
    """Tokens with entity spans; ``id`` is optional (e.g. a corpus id)."""

    tokens: list[str]
    spans: list[Span] = field(default_factory=list)
    id: str | None = None


@dataclass
class SentencePair:
    """One sentence pair as it moves through a pipeline.

    ``src`` carries the entities to project; ``tgt`` receives them. Fields
    fill in step by step: ``alignment`` after aligning, ``tgt_spans`` after
    projecting.
    """

    src_tokens: list[str]
    tgt_tokens: list[str]
    src_spans: list[Span] = field(default_factory=list)
    alignment: Alignment | None = None
    tgt_spans: list[Span] | None = None
    id: str | None = None
