"""Long target sentences cut into pieces that candidate matching projects one by one.

A pair whose target has more than :data:`~xlner.project.candidates.LONG_TARGET`
words is cut at every point ``(i, j)`` (source word ``i``, target word ``j``) where

- no alignment link crosses: links from source words before ``i`` go to
  target words before ``j``, the others to ``j`` or after;
- no source entity holds both words ``i - 1`` and ``i``;
- the target word before ``j`` ends a sentence or clause
  (:func:`xlner.types.ends_clause`) and ``j`` is not a split-off diacritic;
  ``j`` is the first such word after the last target word linked from
  before ``i``;

when several ``i`` share a ``j``, the last with a break token before it, else
the first. Each piece is projected as its own pair and its spans are shifted
back; :func:`plan_pieces` says where the pieces lie and :func:`iter_pieces`
builds them one at a time, so candidate matching can take them in chunks
(:func:`xlner.project.stream.chunks`) and its work and memory grow with the
pieces, not with the line. A target without such a
point stays whole (its candidates are then capped near the alignment,
:mod:`xlner.project.candidates`). Shorter targets are never cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Iterator, Sequence

import numpy as np

from xlner.project.candidates import LONG_TARGET
from xlner.project.heuristic import is_mark
from xlner.project.matching import ProjectionResult, confidence
from xlner.types import SentencePair, Span, ends_clause


@dataclass(frozen=True)
class Piece:
    """Where a piece lies in its pair: the pair's index, its source and target word ranges, its entities' indices."""

    pair: int
    src_offset: int
    src_end: int
    tgt_offset: int
    tgt_end: int
    entities: tuple[int, ...]


def _links(pair: SentencePair) -> np.ndarray:
    """The pair's links inside both sentences, (L, 2), sorted by source then target word."""
    n, m = len(pair.src_tokens), len(pair.tgt_tokens)
    links = np.array(list(pair.alignment or ()), dtype=np.int64).reshape(-1, 2)
    links = links[(links[:, 0] >= 0) & (links[:, 0] < n) & (links[:, 1] >= 0) & (links[:, 1] < m)]
    return links[np.lexsort((links[:, 1], links[:, 0]))]


def cut_points(pair: SentencePair) -> list[tuple[int, int]]:
    """The cuts ``(i, j)`` of one pair (module docstring); none when its target has at most LONG_TARGET words."""
    n, m = len(pair.src_tokens), len(pair.tgt_tokens)
    if m <= LONG_TARGET or n < 2:
        return []
    tokens = pair.tgt_tokens
    ends = np.array(
        [k + 1 for k, token in enumerate(tokens) if ends_clause(token) and k + 1 < m and not is_mark(tokens[k + 1])],
        dtype=np.int64,
    )
    if not len(ends):
        return []
    links = _links(pair)
    most = np.full(n, -1, dtype=np.int64)  # per source word: its largest linked target word
    least = np.full(n, m, dtype=np.int64)  # ... and its smallest
    np.maximum.at(most, links[:, 0], links[:, 1])
    np.minimum.at(least, links[:, 0], links[:, 1])
    before = np.maximum.accumulate(most)[:-1]  # before[i - 1]: largest target word linked from source words < i
    after = np.minimum.accumulate(least[::-1])[::-1][1:]  # after[i - 1]: smallest from source words >= i
    inside = np.zeros(n + 1, dtype=np.int64)
    for span in pair.src_spans:
        if span.end - span.start > 1:
            inside[span.start + 1] += 1
            inside[span.end] -= 1
    whole = np.cumsum(inside)[1:n] == 0  # whole[i - 1]: no entity holds words i - 1 and i
    at = np.searchsorted(ends, before + 1)  # the first break end after the left side's links
    j = np.where(at < len(ends), ends[np.minimum(at, len(ends) - 1)], m)
    ok = whole & (j < m) & (j <= after)
    cuts: dict[int, int] = {}  # j -> i
    src_break = [ends_clause(token) for token in pair.src_tokens]
    for i, jj in zip((np.flatnonzero(ok) + 1).tolist(), j[ok].tolist()):
        if jj not in cuts or src_break[i - 1]:
            cuts[jj] = i
    return sorted((i, jj) for jj, i in cuts.items())


def plan_pieces(pairs: Sequence[SentencePair]) -> list[Piece] | None:
    """Where the pieces of every pair lie (a pair without cuts is one piece), in order; None when nothing is cut."""
    cuts = [cut_points(pair) for pair in pairs]
    if not any(cuts):
        return None
    where: list[Piece] = []
    for k, (pair, points) in enumerate(zip(pairs, cuts)):
        bounds = [(0, 0), *points, (len(pair.src_tokens), len(pair.tgt_tokens))]
        by_start = sorted(range(len(pair.src_spans)), key=lambda e: pair.src_spans[e].start)
        starts = np.array([pair.src_spans[e].start for e in by_start], dtype=np.int64)
        first = np.searchsorted(starts, [i for i, _ in bounds]).tolist()
        for p, ((i0, j0), (i1, j1)) in enumerate(zip(bounds, bounds[1:])):
            where.append(Piece(k, i0, i1, j0, j1, tuple(sorted(by_start[first[p] : first[p + 1]]))))
    return where


def iter_pieces(pairs: Sequence[SentencePair], where: Sequence[Piece]) -> Iterator[SentencePair]:
    """The pieces of :func:`plan_pieces` as pairs of their own, built one at a time."""
    for k, group in groupby(where, key=lambda piece: piece.pair):
        pair, own = pairs[k], list(group)
        links = _links(pair)
        link_at = np.searchsorted(links[:, 0], [piece.src_offset for piece in own] + [len(pair.src_tokens)]).tolist()
        for p, piece in enumerate(own):
            i0, j0 = piece.src_offset, piece.tgt_offset
            inside = links[link_at[p] : link_at[p + 1]]
            inside = inside[(inside[:, 1] >= j0) & (inside[:, 1] < piece.tgt_end)]
            alignment = frozenset(zip((inside[:, 0] - i0).tolist(), (inside[:, 1] - j0).tolist()))
            spans = [Span(s.start - i0, s.end - i0, s.label) for s in (pair.src_spans[e] for e in piece.entities)]
            src, tgt = list(pair.src_tokens[i0 : piece.src_end]), list(pair.tgt_tokens[j0 : piece.tgt_end])
            yield SentencePair(src, tgt, spans, alignment, id=pair.id)


def join_results(
    pairs: Sequence[SentencePair], where: Sequence[Piece], results: Sequence[ProjectionResult]
) -> list[ProjectionResult]:
    """One result per pair from its pieces' results: spans shifted back, sources renumbered, sorted by start."""
    found: list[list[tuple[Span, float, int]]] = [[] for _ in pairs]
    status: list[list[str]] = [[] for _ in pairs]
    for piece, result in zip(where, results):
        found[piece.pair] += [
            (Span(s.start + piece.tgt_offset, s.end + piece.tgt_offset, s.label), score, piece.entities[e])
            for s, score, e in zip(result.spans, result.scores, result.sources)
        ]
        status[piece.pair].append(result.status)
    joined = []
    for pair, items, states in zip(pairs, found, status):
        items.sort(key=lambda item: (item[0].start, item[0].end))
        spans, scores, sources = [s for s, _, _ in items], [f for _, f, _ in items], [e for *_, e in items]
        worst = next((s for s in ("relaxed", "heuristic") if s in states), "optimal")
        joined.append(ProjectionResult(spans, scores, sources, confidence(len(pair.src_spans), sources, scores), worst))
    return joined
