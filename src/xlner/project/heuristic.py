"""Heuristic projection (Garcia-Ferrero et al. 2022, as reimplemented by Politov et al. 2025).

One pure function, :func:`project_heuristic`, over (source spans, target length,
alignment). For each entity, shortest first: take the maximal runs of target
words aligned to any of its words (optionally ignoring links to punctuation
words), merge runs separated by a small gap, drop runs that are too short,
keep ``top_k`` runs by length, and label each unless it overlaps a span
already projected (``collisions="skip"``). With ``collisions="published"``
entities go in source order and a real overlap is resolved as the published
code does: same label -> the covering range, else the longer span stays.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from xlner.errors import XlnerError
from xlner.types import Link, Span


@lru_cache(maxsize=65536)
def is_punctuation(token: str) -> bool:
    """True for a non-empty token made only of Unicode punctuation characters."""
    return bool(token) and all(unicodedata.category(ch).startswith("P") for ch in token)


@lru_cache(maxsize=65536)
def is_mark(token: str) -> bool:
    """True for a non-empty token made only of Unicode combining marks (category M*), e.g. a split-off diacritic."""
    return bool(token) and all(unicodedata.category(ch).startswith("M") for ch in token)


#: Combining marks (Unicode category M) all lie at or above U+0300.
_FIRST_MARK = "\u0300"


def has_mark_token(tokens: Sequence[str]) -> bool:
    """Whether any token is made only of combining marks (a fast test for text below U+0300)."""
    if not tokens or max(map(max, filter(None, tokens)), default="") < _FIRST_MARK:
        return False
    return any(is_mark(token) for token in tokens)


@dataclass(frozen=True)
class MarkGlue:
    """Target tokens with each mark-only token glued to the token before it, and the way back.

    Machine translation into Yoruba or Igbo may split diacritics off as tokens
    (``"Wọ ́ n"``, ``"LÓ ̣ DÍNÌ"``). Projection then runs on the glued words
    (``"Wọ́ n"``, ``"LỌ́ DÍNÌ"``), links to a mark count as links to its word,
    and spans map back to token ranges, so no span starts at a mark-only
    token or ends just before one. ``starts[w]`` is the first token of word ``w``.
    """

    words: tuple[str, ...]
    starts: tuple[int, ...]
    n_tokens: int

    @classmethod
    def of(cls, tokens: Sequence[str]) -> "MarkGlue":
        if not has_mark_token(tokens):
            return cls(tuple(tokens), tuple(range(len(tokens))), len(tokens))
        words: list[str] = []
        starts: list[int] = []
        for j, token in enumerate(tokens):
            if words and is_mark(token):
                words[-1] += token
            else:
                words.append(token)
                starts.append(j)
        return cls(tuple(words), tuple(starts), len(tokens))

    @property
    def changed(self) -> bool:
        """Whether any token was glued."""
        return len(self.words) < self.n_tokens

    def alignment(self, alignment: Iterable[Link]) -> frozenset[Link]:
        """Links onto tokens as links onto glued words (links outside the target are dropped)."""
        word_of = [
            w for w, (a, b) in enumerate(zip(self.starts, self.starts[1:] + (self.n_tokens,))) for _ in range(a, b)
        ]
        return frozenset((i, word_of[j]) for i, j in alignment if 0 <= j < self.n_tokens)

    def span(self, span: Span) -> Span:
        """A span over glued words as a span over the tokens."""
        end = self.starts[span.end] if span.end < len(self.starts) else self.n_tokens
        return Span(self.starts[span.start], end, span.label)


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
    ignore_punctuation_links: bool = False,
) -> list[tuple[int, int]]:
    """Maximal runs ``(start, end)`` of target words aligned to source words ``[start, end)``.

    With ``ignore_punctuation_links`` (and tokens given) punctuation words are
    removed from the aligned words first. Runs made only of punctuation are
    then dropped (when asked), and runs separated by at most
    ``merge_distance`` words are merged.
    """
    words = sorted({j for i in range(start, end) for j in links.get(i, ())})
    if ignore_punctuation_links and tgt_tokens is not None:
        words = [j for j in words if not is_punctuation(tgt_tokens[j])]
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


def alignment_dice(entity: Span, span: Span, links: dict[int, list[int]]) -> float:
    """Distinct-word Dice of a source entity and a target span (see :mod:`xlner.project.scores`).

    (source words of ``entity`` aligned into ``span`` + target words of
    ``span`` aligned to ``entity``) / (their lengths); ``links`` as from
    :func:`target_links`.
    """
    src_hits = 0
    tgt_hits: set[int] = set()
    for i in range(entity.start, entity.end):
        inside = [j for j in links.get(i, ()) if span.start <= j < span.end]
        src_hits += bool(inside)
        tgt_hits.update(inside)
    return (src_hits + len(tgt_hits)) / (len(entity) + len(span))


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
    ignore_punctuation_links: bool = True,
    glue_marks: bool = True,
    collisions: str = "skip",
) -> list[tuple[Span, int]]:
    """Projected spans sorted by start, each with the index of its source span.

    ``keep`` chooses which ``top_k`` runs survive per entity ("longest" as the
    paper says, "shortest" as the published code does); ``top_k=None`` keeps
    all. ``drop_punctuation_runs``, ``ignore_punctuation_links`` and
    ``glue_marks`` (project onto words with split-off diacritic tokens glued
    back, see :class:`MarkGlue`) need ``tgt_tokens``. ``collisions``: "skip"
    (shortest entity first, a run that overlaps a projected span is dropped)
    or "published" (source order; on a real overlap, same label -> covering
    range, which keeps the earlier entity's index, else the longer span, the
    later one on ties). Links pointing outside the target sentence are ignored.
    """
    if keep not in ("longest", "shortest"):
        raise XlnerError(f"keep must be 'longest' or 'shortest', got {keep!r}")
    if collisions not in ("skip", "published"):
        raise XlnerError(f"collisions must be 'skip' or 'published', got {collisions!r}")
    if not src_spans:
        return []
    glue = MarkGlue.of(tgt_tokens) if glue_marks and tgt_tokens is not None else None
    if glue is not None and glue.changed:
        tgt_len, alignment, tgt_tokens = len(glue.words), glue.alignment(alignment), glue.words
    links = target_links(alignment, tgt_len)
    sign = -1 if keep == "longest" else 1
    if collisions == "skip" and len(src_spans) > 1:
        order = sorted(range(len(src_spans)), key=lambda k: (len(src_spans[k]), src_spans[k].start))
    else:
        order = list(range(len(src_spans)))
    taken = [False] * tgt_len
    projected: list[tuple[Span, int]] = []
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
            ignore_punctuation_links=ignore_punctuation_links,
        )
        length = span.end - span.start
        if length_ratio_threshold > 0:
            runs = [r for r in runs if (r[1] - r[0]) / length > length_ratio_threshold]
        if top_k is not None and len(runs) > top_k:
            runs = sorted(runs, key=lambda r: (sign * (r[1] - r[0]), r[0]))[:top_k]
        for a, b in runs:
            if collisions == "published":
                _add_published(projected, Span(a, b, span.label), index)
            elif not any(taken[a:b]):
                taken[a:b] = [True] * (b - a)
                projected.append((Span(a, b, span.label), index))
    projected.sort()
    if glue is not None and glue.changed:
        projected = [(glue.span(span), index) for span, index in projected]
    return projected


def _add_published(projected: list[tuple[Span, int]], new: Span, index: int) -> None:
    """Add ``new`` as the published code resolves real overlaps.

    First same-label overlaps are joined into their covering range (keeping
    the earlier source index), then a different-label overlap keeps the
    longer span (``new`` on ties).
    """
    grown = True
    while grown:
        grown = False
        for k, (old, source) in enumerate(projected):
            if old.label == new.label and old.overlaps(new):
                new, index = Span(min(old.start, new.start), max(old.end, new.end), new.label), min(index, source)
                del projected[k]
                grown = True
                break
    clashes = [k for k, (old, _) in enumerate(projected) if old.overlaps(new)]
    if any(len(projected[k][0]) > len(new) for k in clashes):
        return
    for k in reversed(clashes):
        del projected[k]
    projected.append((new, index))
