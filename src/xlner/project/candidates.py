"""Target candidates for candidate matching: word ranges ``[start, end)`` as numpy arrays.

Three sources, deduplicated and sorted by (start, end):

- n-grams of up to ``max_words`` words that contain no sentence punctuation
  token (a token made only of characters in ``punctuation``; "U.S." is fine);
- sub-ranges (of up to ``max_words`` words) of each entity's aligned target
  range, i.e. from its first to its last aligned target word;
- the heuristic's aligned runs of each entity, their sub-ranges (up to
  ``max_words``) and the concatenation (covering range) of any two runs.

Long targets (more than :data:`LONG_TARGET` words) keep only candidates near
the alignment, so their count does not grow with the sentence: every word of
a candidate lies within ``max_words`` words of a target word aligned to one
of the sentence's entities, and run concatenations longer than ``max_words``
are dropped. Every candidate then starts at one of at most
``A * (2 * max_words + 1)`` words and has at most ``max_words`` words
(``A``: entity-aligned target words), so a long target has at most
``A * (2 * max_words + 1) * max_words`` candidates besides the ``extra``
ranges. Shorter targets are not affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from xlner.project.heuristic import aligned_runs, target_links
from xlner.types import Link, SentencePair, Span

#: Targets longer than this (in words) keep only candidates near the alignment (module docstring).
LONG_TARGET = 1000


@dataclass(frozen=True)
class Candidates:
    """Candidate word ranges of one target sentence: ``starts[k] <= w < ends[k]``."""

    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def spans(self) -> list[tuple[int, int]]:
        return list(zip(self.starts.tolist(), self.ends.tolist()))

    @classmethod
    def from_ranges(cls, ranges: Iterable[tuple[int, int]]) -> "Candidates":
        """Deduplicated, sorted candidates from ``(start, end)`` pairs."""
        arr = np.asarray(sorted(set(ranges)), dtype=np.int64).reshape(-1, 2)
        return cls(arr[:, 0].copy(), arr[:, 1].copy())


def _expand(starts: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ranges ``[s, e)`` with ``s`` from ``starts`` and ``s < e <= limit`` (vectorised)."""
    counts = np.maximum(limits - starts, 0)
    s = np.repeat(starts, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return s, s + offsets + 1


def _barriers(tokens: Sequence[str], punctuation: str) -> list[bool]:
    """Whether each token is made only of characters in ``punctuation``."""
    return [bool(t) and not t.strip(punctuation) for t in tokens]


def ngram_ranges(tgt_tokens: Sequence[str], max_words: int, punctuation: str) -> np.ndarray:
    """All ``(start, end)`` n-grams of 1..max_words words with no punctuation token, shape (K, 2)."""
    n = len(tgt_tokens)
    barrier = np.array(_barriers(tgt_tokens, punctuation), dtype=bool).reshape(n)
    idx = np.where(barrier, np.arange(n), n)
    next_barrier = np.minimum.accumulate(idx[::-1])[::-1]
    starts = np.arange(n)
    s, e = _expand(starts, np.minimum(starts + max_words, next_barrier))
    return np.stack([s, e], axis=1)


def _concatenations(found: Sequence[tuple[int, int]], off: int, longest: int | None) -> list[tuple[int, int]]:
    """Covering ranges of any two runs (offset by ``off``); only those of at most ``longest`` words when given."""
    if longest is None:
        return [(off + found[x][0], off + found[y][1]) for x in range(len(found)) for y in range(x, len(found))]
    out = []
    for x in range(len(found)):
        for y in range(x, len(found)):
            if found[y][1] - found[x][0] > longest:
                break  # runs are sorted and disjoint: later ones are longer still
            out.append((off + found[x][0], off + found[y][1]))
    return out


def _near_zone(pairs: Sequence, offsets: np.ndarray, max_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Per batch position: the next far position (capped at its sentence end) and the next near one.

    Only targets longer than :data:`LONG_TARGET` have far words: those more
    than ``max_words`` words from every target word aligned to one of the
    sentence's entities.
    """
    total = int(offsets[-1])
    far = np.zeros(total, dtype=bool)
    for k, pair in enumerate(pairs):
        n = len(pair.tgt_tokens)
        if n <= LONG_TARGET:
            continue
        inside = np.zeros(len(pair.src_tokens) + 1, dtype=np.int64)
        for span in pair.src_spans:
            inside[span.start] += 1
            inside[span.end] -= 1
        entity_word = np.cumsum(inside) > 0
        js = [j for i, j in pair.alignment or () if 0 <= j < n and 0 <= i < len(entity_word) and entity_word[i]]
        cover = np.zeros(n + 1, dtype=np.int64)
        if js:
            at = np.array(js, dtype=np.int64)
            np.add.at(cover, np.maximum(at - max_words, 0), 1)
            np.add.at(cover, np.minimum(at + max_words + 1, n), -1)
        off = int(offsets[k])
        far[off : off + n] = np.cumsum(cover[:n]) == 0
    pos = np.arange(total)
    sent_end = np.repeat(offsets[1:], np.diff(offsets))
    next_far = np.minimum.accumulate(np.where(far, pos, total)[::-1])[::-1] if total else pos
    next_near = np.minimum.accumulate(np.where(far, total, pos)[::-1])[::-1] if total else pos
    return np.minimum(next_far, sent_end), next_near


def _near_parts(
    lo: np.ndarray, hi: np.ndarray, next_far: np.ndarray, next_near: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split each range ``[lo, hi)`` into its near stretches (see :func:`_near_zone`); far words are left out."""
    out_lo: list[int] = []
    out_hi: list[int] = []
    for a, b in zip(lo.tolist(), hi.tolist()):
        while a < b:
            a = int(next_near[a])
            if a >= b:
                break
            stop = min(int(next_far[a]), b)
            out_lo.append(a)
            out_hi.append(stop)
            a = stop
    return np.array(out_lo, dtype=np.int64), np.array(out_hi, dtype=np.int64)


def generate_candidates(
    pairs: Sequence,
    *,
    max_words: int = 10,
    punctuation: str = "!?.;:",
    ngrams: bool = True,
    aligned_subranges: bool = True,
    runs: bool = True,
    merge_distance: int = 1,
    extra: Sequence[Iterable[tuple[int, int]]] | None = None,
) -> list[Candidates]:
    """Candidates of each :class:`~xlner.types.SentencePair` of a batch (see the module docstring).

    ``extra``, when given, holds more ``(start, end)`` ranges per pair to include.
    Works on the whole batch at once: target words of all sentences are laid
    end to end and every range is expanded with numpy.
    """
    lengths = np.array([len(p.tgt_tokens) for p in pairs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    parts_s: list[np.ndarray] = []
    parts_e: list[np.ndarray] = []
    long = lengths > LONG_TARGET
    next_far, next_near = _near_zone(pairs, offsets, max_words) if long.any() else (None, None)
    if ngrams and total:
        barrier = np.array([b for p in pairs for b in _barriers(p.tgt_tokens, punctuation)], dtype=bool)
        pos = np.arange(total)
        sent_end = np.repeat(offsets[1:], lengths)
        idx = np.where(barrier, pos, total)
        next_barrier = np.minimum.accumulate(idx[::-1])[::-1]
        limit = np.minimum(np.minimum(pos + max_words, next_barrier), sent_end)
        if next_far is not None:
            limit = np.minimum(limit, next_far)
        s, e = _expand(pos, limit)
        parts_s.append(s)
        parts_e.append(e)
    if aligned_subranges or runs:
        sub_lo: list[int] = []  # ranges whose sub-ranges (up to max_words) are candidates
        sub_hi: list[int] = []
        whole: list[tuple[int, int]] = []  # ranges that are candidates as they are
        for k, pair in enumerate(pairs):
            if not pair.src_spans:
                continue
            off, n = int(offsets[k]), int(lengths[k])
            links = target_links(pair.alignment or (), n)
            for span in pair.src_spans:
                found = aligned_runs(span.start, span.end, links, merge_distance=merge_distance)
                if not found:
                    continue
                if aligned_subranges:
                    sub_lo.append(off + found[0][0])
                    sub_hi.append(off + found[-1][1])
                if runs:
                    for a, b in found:
                        sub_lo.append(off + a)
                        sub_hi.append(off + b)
                    whole += _concatenations(found, off, max_words if long[k] else None)
        if sub_lo:
            lo, hi = np.array(sub_lo), np.array(sub_hi)
            if next_far is not None:  # long targets: sub-ranges start only near the alignment
                assert next_near is not None  # computed with next_far
                lo, hi = _near_parts(lo, hi, next_far, next_near)
            width = hi - lo
            starts = np.repeat(lo, width) + (np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width))
            limit = np.minimum(starts + max_words, np.repeat(hi, width))
            if next_far is not None:
                limit = np.minimum(limit, next_far[starts])
            s, e = _expand(starts, limit)
            parts_s.append(s)
            parts_e.append(e)
        if whole:
            w = np.array(whole, dtype=np.int64)
            if next_far is not None:  # long targets: only concatenations inside the near zone
                w = w[next_far[w[:, 0]] >= w[:, 1]]
            parts_s.append(w[:, 0])
            parts_e.append(w[:, 1])
    if extra is not None:
        more = np.array(
            [(offsets[k] + a, offsets[k] + b) for k, ranges in enumerate(extra) for a, b in ranges], dtype=np.int64
        )
        parts_s.append(more.reshape(-1, 2)[:, 0])
        parts_e.append(more.reshape(-1, 2)[:, 1])
    if not parts_s:
        empty = np.zeros(0, np.int64)
        return [Candidates(empty, empty) for _ in pairs]
    s = np.concatenate(parts_s)
    e = np.concatenate(parts_e)
    width = int((e - s).max(initial=1)) + 1
    seen = np.zeros(total * width, dtype=bool)  # key = start * width + length, deduplicated and sorted
    seen[s * width + (e - s)] = True
    keys = np.flatnonzero(seen)
    s = keys // width
    e = s + keys % width
    bounds = np.searchsorted(s, offsets)
    return [
        Candidates(s[bounds[k] : bounds[k + 1]] - offsets[k], e[bounds[k] : bounds[k + 1]] - offsets[k])
        for k in range(len(pairs))
    ]


def candidates_for_pair(
    tgt_tokens: Sequence[str], src_spans: Sequence[Span], alignment: Iterable[Link], **options
) -> Candidates:
    """Candidates of one sentence pair (options as in :func:`generate_candidates`)."""
    pair = SentencePair([], list(tgt_tokens), list(src_spans), frozenset(alignment))
    return generate_candidates([pair], **options)[0]
