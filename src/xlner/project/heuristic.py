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
from xlner.types import Link, SentencePair, Span, unchecked_span


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
    """Whether any token is made only of combining marks (a fast test for Latin-1 text)."""
    if not tokens:
        return False
    text = "".join(tokens)
    if text.isascii():
        return False
    try:
        text.encode("latin-1")
        return False  # every combining mark lies above U+00FF
    except UnicodeEncodeError:
        pass
    if max(text) < _FIRST_MARK:
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
        return Span(*self.token_range(span.start, span.end), span.label)

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Glued words ``[start, end)`` as a token range."""
        return self.starts[start], self.starts[end] if end < len(self.starts) else self.n_tokens


def glue_pairs(pairs: Sequence[SentencePair], enabled: bool = True) -> tuple[list[SentencePair], list[MarkGlue | None]]:
    """Each pair with its target's mark-only tokens glued (:class:`MarkGlue`), and its glue (None: unchanged).

    Projection runs on the glued pairs, whatever the method; ``glue.span``
    maps the spans found back onto the tokens.
    """
    glues = [MarkGlue.of(p.tgt_tokens) if enabled and has_mark_token(p.tgt_tokens) else None for p in pairs]
    glues = [g if g is not None and g.changed else None for g in glues]
    glued = [
        p
        if g is None
        else SentencePair(p.src_tokens, list(g.words), p.src_spans, g.alignment(p.alignment or ()), id=p.id)
        for p, g in zip(pairs, glues)
    ]
    return glued, glues


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
    ordered = sorted({j for i in range(start, end) for j in links.get(i, ())})
    if ignore_punctuation_links and tgt_tokens is not None:
        ordered = [j for j in ordered if not is_punctuation(tgt_tokens[j])]
        drop_punctuation_runs = False  # no punctuation word is left to make a run of
    first = set(links.get(start, ())) if merge_only_if_not_first_word_aligned else None
    return _runs(ordered, first, merge_distance, tgt_tokens if drop_punctuation_runs else None)


def _runs(
    ordered: list[int], first: set[int] | None, merge_distance: int, drop_tokens: Sequence[str] | None
) -> list[tuple[int, int]]:
    """The runs of :func:`aligned_runs` over the sorted aligned target words.

    ``first``: words a merge may not start at (None: any); ``drop_tokens``: the
    target tokens when runs made only of punctuation are dropped.
    """
    if not ordered:
        return []
    if drop_tokens is None:
        # One pass: consecutive words extend a run, a gap of at most merge_distance joins the next one.
        out: list[tuple[int, int]] = []
        a = b = ordered[0]
        for j in ordered:
            if j != b and (j - b > merge_distance or (first is not None and j in first)):
                out.append((a, b))
                a = j
            b = j + 1
        out.append((a, b))
        return out
    runs: list[tuple[int, int]] = []
    a = b = ordered[0]
    for j in ordered:
        if j != b:
            runs.append((a, b))
            a = j
        b = j + 1
    runs.append((a, b))
    runs = [r for r in runs if not all(is_punctuation(drop_tokens[j]) for j in range(r[0], r[1]))]
    if not runs:
        return []
    merged = [runs[0]]
    for a, b in runs[1:]:
        if a - merged[-1][1] <= merge_distance and (first is None or a not in first):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


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


#: Valid values of ``keep`` and ``collisions``.
_KEEP = ("longest", "shortest")
_COLLISIONS = ("skip", "published")
#: A projected span as the core builds it: (start, end, label, source index); tuples sort as (Span, index) do.
_Found = tuple[int, int, str, int]


def project_heuristic(
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
) -> list[Span]:
    """Project ``src_spans`` onto a target sentence of ``tgt_len`` words; spans sorted by start.

    Options as in :func:`heuristic_sources`.
    """
    if not src_spans and keep in _KEEP and collisions in _COLLISIONS:
        return []  # the common sentence without entities
    found = _project(
        src_spans,
        tgt_len,
        alignment,
        tgt_tokens,
        merge_distance,
        merge_only_if_not_first_word_aligned,
        length_ratio_threshold,
        top_k,
        keep,
        drop_punctuation_runs,
        ignore_punctuation_links,
        glue_marks,
        collisions,
    )
    return [unchecked_span(a, b, label) for a, b, label, _ in found]  # runs are non-empty ranges


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
    found = _project(
        src_spans,
        tgt_len,
        alignment,
        tgt_tokens,
        merge_distance,
        merge_only_if_not_first_word_aligned,
        length_ratio_threshold,
        top_k,
        keep,
        drop_punctuation_runs,
        ignore_punctuation_links,
        glue_marks,
        collisions,
    )
    return [(unchecked_span(a, b, label), index) for a, b, label, index in found]


def _project(
    src_spans: Sequence[Span],
    tgt_len: int,
    alignment: Iterable[Link],
    tgt_tokens: Sequence[str] | None,
    merge_distance: int,
    merge_only_if_not_first_word_aligned: bool,
    length_ratio_threshold: float,
    top_k: int | None,
    keep: str,
    drop_punctuation_runs: bool,
    ignore_punctuation_links: bool,
    glue_marks: bool,
    collisions: str,
) -> list[_Found]:
    """The projections of :func:`heuristic_sources` as sorted (start, end, label, source index) tuples.

    Each entity's runs are computed first (they do not depend on the other
    entities), then collisions are resolved.
    """
    if keep not in _KEEP:
        raise XlnerError(f"keep must be 'longest' or 'shortest', got {keep!r}")
    if collisions not in _COLLISIONS:
        raise XlnerError(f"collisions must be 'skip' or 'published', got {collisions!r}")
    if not src_spans:
        return []
    if glue_marks and tgt_tokens is not None and has_mark_token(tgt_tokens):
        glue = MarkGlue.of(tgt_tokens)
        if glue.changed:
            # Project onto the glued words, then back onto the tokens.
            glued = _project(
                src_spans,
                len(glue.words),
                glue.alignment(alignment),
                glue.words,
                merge_distance,
                merge_only_if_not_first_word_aligned,
                length_ratio_threshold,
                top_k,
                keep,
                drop_punctuation_runs,
                ignore_punctuation_links,
                False,
                collisions,
            )
            tokens_of = glue.token_range
            return [(*tokens_of(a, b), label, index) for a, b, label, index in glued]
    skip_punctuation = ignore_punctuation_links and tgt_tokens is not None
    drop_tokens = tgt_tokens if drop_punctuation_runs and not skip_punctuation else None
    punctuation_tokens = tgt_tokens if skip_punctuation or drop_tokens is not None else None
    if len(src_spans) > 1 or merge_only_if_not_first_word_aligned:
        # Only the links of source words inside an entity, read once; then one pass per entity.
        covered: set[int] = set()
        for span in src_spans:
            covered.update(range(span.start, span.end))
        alignment = [(i, j) for i, j in alignment if i in covered]
    longest = keep == "longest"
    keep_any_run = length_ratio_threshold <= 0 and (top_k is None or top_k >= 1)
    found: list[_Found] = []
    first = None
    for index, span in enumerate(src_spans):
        start, end = span.start, span.end
        words: set[int] = set()
        if end - start == 1:
            for i, j in alignment:
                if i == start:
                    words.add(j)
        else:
            for i, j in alignment:
                if start <= i < end:
                    words.add(j)
        if merge_only_if_not_first_word_aligned:
            first = {j for i, j in alignment if i == start and 0 <= j < tgt_len}
        if len(words) == 1:
            (j,) = words  # the common case: one aligned target word
            if not 0 <= j < tgt_len or (punctuation_tokens is not None and is_punctuation(punctuation_tokens[j])):
                continue  # outside the target; or punctuation, ignored or a run of punctuation
            if keep_any_run:
                found.append((j, j + 1, span.label, index))
                continue
            runs = [(j, j + 1)]
        else:
            if skip_punctuation:
                assert tgt_tokens is not None  # skip_punctuation needs them
                ordered = [j for j in sorted(words) if 0 <= j < tgt_len and not is_punctuation(tgt_tokens[j])]
            else:
                ordered = [j for j in sorted(words) if 0 <= j < tgt_len]
            if not ordered:
                continue
            runs = _runs(ordered, first, merge_distance, drop_tokens)
        if length_ratio_threshold > 0:
            length = end - start
            runs = [r for r in runs if (r[1] - r[0]) / length > length_ratio_threshold]
        if top_k is not None and len(runs) > top_k:
            if top_k == 1:
                runs = [_first_extreme(runs, longest)]
            else:
                sign = -1 if longest else 1
                runs = sorted(runs, key=lambda r: (sign * (r[1] - r[0]), r[0]))[:top_k]
        label = span.label
        for a, b in runs:
            found.append((a, b, label, index))
    if collisions == "published":
        projected: list[_Found] = []
        for run in found:
            _add_published(projected, run)
        found = projected
    if len(found) > 1:
        found.sort()
        if collisions == "skip":
            last = 0
            for a, b, _, _ in found:
                if a < last:  # a real collision: resolve it shortest entity first
                    found = _skip_collisions(found, src_spans)
                    break
                last = b
    return found


def _skip_collisions(found: list[_Found], src_spans: Sequence[Span]) -> list[_Found]:
    """The runs kept when entities go shortest first and a run overlapping a kept one is dropped; sorted."""
    # The order of an entity's own runs does not matter: they are disjoint.
    ranked = sorted(found, key=lambda f: (len(src_spans[f[3]]), src_spans[f[3]].start, f[3]))
    kept: list[_Found] = []
    for run in ranked:
        a, b = run[0], run[1]
        if not any(a < e and s < b for s, e, _, _ in kept):
            kept.append(run)
    kept.sort()
    return kept


def _first_extreme(runs: list[tuple[int, int]], longest: bool) -> tuple[int, int]:
    """The first longest (or shortest) run; runs come sorted by start."""
    best = runs[0]
    size = best[1] - best[0]
    for run in runs:
        n = run[1] - run[0]
        if (n > size) if longest else (n < size):
            best, size = run, n
    return best


def _add_published(projected: list[_Found], new: _Found) -> None:
    """Add ``new`` as the published code resolves real overlaps.

    First same-label overlaps are joined into their covering range (keeping
    the earlier source index), then a different-label overlap keeps the
    longer span (``new`` on ties).
    """
    a, b, label, index = new
    grown = True
    while grown:
        grown = False
        for k, (s, e, old_label, source) in enumerate(projected):
            if old_label == label and s < b and a < e:
                a, b, index = min(s, a), max(e, b), min(index, source)
                del projected[k]
                grown = True
                break
    clashes = [k for k, (s, e, _, _) in enumerate(projected) if s < b and a < e]
    if any(projected[k][1] - projected[k][0] > b - a for k in clashes):
        return
    for k in reversed(clashes):
        del projected[k]
    projected.append((a, b, label, index))
