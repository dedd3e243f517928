"""Heuristic projection (Garcia-Ferrero et al. 2022, as reimplemented by Politov et al. 2025).

One pure function, :func:`project_heuristic`, over (source spans, target length,
alignment). For each entity, shortest first: take the maximal runs of target
words aligned to any of its words, merge runs separated by a small gap, drop
runs that are too short, keep ``top_k`` runs by length, and label each unless
it overlaps a span already projected.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Iterable, Sequence

from xlner.errors import XlnerError
from xlner.types import Link, Span


@lru_cache(maxsize=65536)
def is_punctuation(token: str) -> bool:
    """True for a non-empty token made only of Unicode punctuation characters."""
    return bool(token) and all(unicodedata.category(ch).startswith("P") for ch in token)


def target_links(alignment: Iterable[Link], tgt_len: int) -> dict[int, list[int]]:
    """Source word index -> target word indices (inside ``[0, tgt_len)``) it is aligned to."""
    links: dict[int, list[int]] = {}
    for i, j in alignment:
        if 0 <= j < tgt_len:
            links.setdefault(i, []).append(j)
    return links


def aligned_runs(
    start: int,
    end: int,
    links: dict[int, list[int]],
    *,
    merge_distance: int = 1,
    merge_only_if_not_first_word_aligned: bool = False,
    tgt_tokens: Sequence[str] | None = None,
    drop_punctuation_runs: bool = False,
) -> list[tuple[int, int]]:
    """Maximal runs ``(start, end)`` of target words aligned to source words ``[start, end)``.

    Runs made only of punctuation are dropped first (when asked and tokens are
    given), then runs separated by at most ``merge_distance`` words are merged.
    """
    words = sorted({j for i in range(start, end) for j in links.get(i, ())})
    if not words:
        return []
    runs: list[list[int]] = []
    for j in words:
        if runs and runs[-1][1] == j:
            runs[-1][1] = j + 1
        else:
            runs.append([j, j + 1])
    if drop_punctuation_runs and tgt_tokens is not None:
        runs = [r for r in runs if not all(is_punctuation(tgt_tokens[j]) for j in range(r[0], r[1]))]
        if not runs:
            return []
    first = set(links.get(start, ())) if merge_only_if_not_first_word_aligned else ()
    merged = [runs[0]]
    for run in runs[1:]:
        if run[0] - merged[-1][1] <= merge_distance and run[0] not in first:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return [(a, b) for a, b in merged]


def project_heuristic(
    src_spans: Sequence[Span],
    tgt_len: int,
    alignment: Iterable[Link],
    **options,
) -> list[Span]:
    """Project ``src_spans`` onto a target sentence of ``tgt_len`` words; spans sorted by start.

    Options as in :func:`heuristic_sources`.
    """
    return [span for span, _ in heuristic_sources(src_spans, tgt_len, alignment, **options)]


def heuristic_sources(
    src_spans: Sequence[Span],
    tgt_len: int,
    alignment: Iterable[Link],
    *,
    tgt_tokens: Sequence[str] | None = None,
    merge_distance: int = 1,
    merge_only_if_not_first_word_aligned: bool = False,
    length_ratio_threshold: float = 0.0,
    top_k: int | None = 1,
    keep: str = "longest",
    drop_punctuation_runs: bool = True,
) -> list[tuple[Span, int]]:
    """Projected spans sorted by start, each with the index of its source span.

    ``keep`` chooses which ``top_k`` runs survive per entity ("longest" as the
    paper says, "shortest" as the published code does); ``top_k=None`` keeps
    all. ``drop_punctuation_runs`` needs ``tgt_tokens``. Links pointing outside
    the target sentence are ignored.
    """
    if keep not in ("longest", "shortest"):
        raise XlnerError(f"keep must be 'longest' or 'shortest', got {keep!r}")
    links = target_links(alignment, tgt_len)
    taken = [False] * tgt_len
    projected: list[tuple[Span, int]] = []
    sign = -1 if keep == "longest" else 1
    order = sorted(range(len(src_spans)), key=lambda k: (len(src_spans[k]), src_spans[k].start))
    for index in order:
        span = src_spans[index]
        runs = aligned_runs(
            span.start,
            span.end,
            links,
            merge_distance=merge_distance,
            merge_only_if_not_first_word_aligned=merge_only_if_not_first_word_aligned,
            tgt_tokens=tgt_tokens,
            drop_punctuation_runs=drop_punctuation_runs,
        )
        length = span.end - span.start
        runs = [r for r in runs if (r[1] - r[0]) / length > length_ratio_threshold]
        if top_k is not None and len(runs) > top_k:
            runs = sorted(runs, key=lambda r: (sign * (r[1] - r[0]), r[0]))[:top_k]
        for a, b in runs:
            if not any(taken[a:b]):
                taken[a:b] = [True] * (b - a)
                projected.append((Span(a, b, span.label), index))
    projected.sort()
    return projected
