"""Scores of (source entity, target candidate) pairs: one entities x candidates matrix per sentence.

A scorer is any object with ``score(pairs, candidates) -> list[np.ndarray]``:
``pairs`` are :class:`~xlner.types.SentencePair` (entities are ``src_spans``),
``candidates`` one :class:`~xlner.project.candidates.Candidates` per pair, and
the result one float matrix of shape ``(len(src_spans), len(candidates))`` per
pair, values in ``[0, 1]`` (0 = never), unless documented otherwise. Register
a factory in ``registry.scorers`` and name it in the ``weights`` option. The
built-in scorers also offer ``score_flat(index: PairIndex)``, which the
pipeline prefers: all pairs of the batch in one flat array, no per-sentence
Python loop. The model-based scorers are in :mod:`xlner.project.scorers`.

Both built-in scores share one form. Given a word-level matrix ``W`` (source
words x target words, values in [0, 1]) the score of entity ``e`` and
candidate ``c`` is the soft Dice

    (sum over i in e of max over j in c of W[i, j]
     + sum over j in c of max over i in e of W[i, j]) / (len(e) + len(c))

- ``alignment`` (mode "distinct"): ``W`` is the 0/1 alignment matrix, so the
  score is ``2·A / (len(e) + len(c))`` with ``A`` the mean of (source words of
  ``e`` aligned into ``c``) and (target words of ``c`` aligned to ``e``):
  distinct words on both sides, bounded by 1, equal to 1 iff every word of
  both sides is aligned inside the pair. Mode "aligned" (the default;
  docs/projection.md) is the same with words that have no link
  at all left out of both lengths: an unaligned word (a gap of the aligner)
  is no evidence either way, and string similarity or the preference for
  shorter candidates decides about it. Mode "links" is the published variant
  ``2·links / (len(e) + len(c))``, counting links, which can exceed 1.
- ``string``: ``W[i, j]`` is the Dice coefficient of padded character
  trigrams of the two words, after lowercasing and removing diacritics (word
  pairs below ``min_word_similarity``, 0.3, count as 0), so copied or
  transliterated names score high with no model.

Exact copies (the ``exact_match_score`` matching option): a target range that
repeats an entity word for word (after :func:`normalise`; tokens that
normalise to nothing, such as split-off diacritics, are skipped) and is the
only such range in the sentence is found by :func:`unique_copies`; the
pipeline adds it as a candidate and raises its fused score to at least the
option's value, so a name copied verbatim wins over a misaligned part of it
whatever the alignment says. The trigram score alone cannot do this: it
enters the fusion with a small weight. A copy is the limit case of string
similarity, so the option acts only when the ``string`` score is fused.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np

from xlner.errors import XlnerError
from xlner.project.candidates import LONG_TARGET, Candidates
from xlner.registry import registry


class Scorer(Protocol):
    """Scores a batch: one (entities x candidates) matrix per sentence pair."""

    def score(self, pairs: Sequence, candidates: Sequence[Candidates]) -> list[np.ndarray]: ...


class PairIndex:
    """All (entity, candidate) pairs of a batch laid out flat, sentence by sentence.

    Sentence ``k``'s pairs form a contiguous ``E_k x K_k`` row-major block, so
    :meth:`split` turns a flat score vector into the per-sentence matrices.
    Entity words (the source words of each entity, repeated when entities
    overlap) are the rows of the word matrices the scores are built from.
    """

    def __init__(self, pairs: Sequence, candidates: Sequence[Candidates]):
        self.pairs = pairs
        self.candidates = candidates
        n_ent = np.array([len(p.src_spans) for p in pairs], dtype=np.int64)
        n_cand = np.array([len(c) for c in candidates], dtype=np.int64)
        self.n_ent, self.n_cand = n_ent, n_cand
        self.n_tgt = np.array([len(p.tgt_tokens) for p in pairs], dtype=np.int64)
        # Targets over LONG_TARGET words keep as columns only the words some candidate covers.
        self.kept: dict[int, np.ndarray] = {
            k: _covered(c, int(n)) for k, (c, n) in enumerate(zip(candidates, self.n_tgt)) if n > LONG_TARGET
        }
        self.n_col = self.n_tgt.copy()
        for k, kept in self.kept.items():
            self.n_col[k] = len(kept)
        self.width = int(self.n_col.max()) if len(pairs) else 0
        self.ent_sent = np.repeat(np.arange(len(pairs)), n_ent)
        bounds = np.array([(s.start, s.end) for p in pairs for s in p.src_spans], dtype=np.int64).reshape(-1, 2)
        self.ent_start, self.ent_len = bounds[:, 0], bounds[:, 1] - bounds[:, 0]
        self.ent_first = np.cumsum(self.ent_len) - self.ent_len  # first word row of each entity
        self.word_ent = np.repeat(np.arange(len(self.ent_len)), self.ent_len)
        self.word_src = self.ent_start[self.word_ent] + ramp(self.ent_len)
        self.word_sent = self.ent_sent[self.word_ent]
        starts = np.concatenate([c.starts for c in candidates] or [np.zeros(0, np.int64)]).astype(np.int64)
        ends = np.concatenate([c.ends for c in candidates] or [np.zeros(0, np.int64)]).astype(np.int64)
        cand_off = np.concatenate([[0], np.cumsum(n_cand)])
        per_ent = n_cand[self.ent_sent]
        self.pair_ent = np.repeat(np.arange(len(self.ent_len)), per_ent)
        self.pair_cand = np.repeat(cand_off[self.ent_sent], per_ent) + ramp(per_ent)
        self.pair_start, self.pair_end = starts[self.pair_cand], ends[self.pair_cand]
        self.pair_len = self.pair_end - self.pair_start
        self.col_start, self.col_end = self.pair_start, self.pair_end  # the candidates' columns in the word matrices
        if self.kept:
            self.col_start = self.columns(self.ent_sent[self.pair_ent], self.pair_start)
            self.col_end = self.col_start + self.pair_len
        self.pair_words = self.ent_len[self.pair_ent]
        # flat positions in (entities x width + 1) and (sentences x width + 1) prefix-sum tables
        row = self.pair_ent * (self.width + 1)
        self.ent_at_start, self.ent_at_end = row + self.col_start, row + self.col_end
        row = self.ent_sent[self.pair_ent] * (self.width + 1)
        self.sent_at_start, self.sent_at_end = row + self.col_start, row + self.col_end
        self.block = np.concatenate([[0], np.cumsum(n_ent * n_cand)])

    def word_matrix(self) -> np.ndarray:
        """Zeros of shape (entity words, most columns of a sentence)."""
        return np.zeros((len(self.word_ent), self.width))

    def columns(self, sent: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The column of target word ``j`` of sentence ``sent`` in the word matrices; -1 where it has none."""
        if not self.kept:
            return j
        out = j.copy()
        for k, kept in self.kept.items():
            here = np.flatnonzero(sent == k)
            at = np.searchsorted(kept, j[here])
            hit = (at < len(kept)) & (kept[np.minimum(at, len(kept) - 1)] == j[here])
            out[here] = np.where(hit, at, -1)
        return out

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Flat pair scores -> one (E_k, K_k) matrix per sentence."""
        b = self.block
        return [flat[b[k] : b[k + 1]].reshape(self.n_ent[k], self.n_cand[k]) for k in range(len(self.pairs))]

    def flatten(self, matrices: Sequence[np.ndarray]) -> np.ndarray:
        """Per-sentence matrices -> flat pair scores (inverse of :meth:`split`)."""
        return np.concatenate([np.asarray(m, dtype=np.float64).ravel() for m in matrices] or [np.zeros(0)])


def _covered(candidates: Candidates, n: int) -> np.ndarray:
    """The sorted target words that some candidate covers."""
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, candidates.starts, 1)
    np.add.at(cover, candidates.ends, -1)
    return np.flatnonzero(np.cumsum(cover[:n]) > 0)


def ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def soft_dice_flat(
    index: PairIndex, w: np.ndarray, src_count: np.ndarray | None = None, tgt_counted: np.ndarray | None = None
) -> np.ndarray:
    """The soft Dice score (module docstring) of every pair; ``w`` is (entity words x target words).

    ``src_count`` (per entity) and ``tgt_counted`` (0/1, sentences x target
    words) replace the lengths in the denominator when given.
    """
    if len(index.pair_ent) == 0:
        return np.zeros(0)
    best = np.maximum.reduceat(w, index.ent_first, axis=0)  # (E, width): best entity word per target word
    prefix = _prefix(best)
    score = prefix[index.ent_at_end] - prefix[index.ent_at_start]  # target part
    live = np.flatnonzero(score)  # elsewhere no word of c touches e, so the source part is 0 too
    if len(live):
        pe, ps, pn = index.pair_ent[live], index.col_start[live], index.col_end[live]
        score[live] += _range_max_sums(index, w, pe, ps, pn)
    if src_count is None:
        score /= index.pair_words + index.pair_len
        return score
    assert tgt_counted is not None, "tgt_counted is given together with src_count"
    counted = _prefix(tgt_counted)
    denominator = src_count[index.pair_ent] + counted[index.sent_at_end] - counted[index.sent_at_start]
    return np.divide(score, denominator, out=np.zeros(len(score)), where=denominator > 0)


def _prefix(rows: np.ndarray) -> np.ndarray:
    """Row-wise prefix sums with a leading 0 column, flattened."""
    out = np.zeros((rows.shape[0], rows.shape[1] + 1))
    np.cumsum(rows, axis=1, out=out[:, 1:])
    return out.ravel()


def _range_max_sums(index: PairIndex, w: np.ndarray, pe: np.ndarray, ps: np.ndarray, pn: np.ndarray) -> np.ndarray:
    """For each pair: sum over the entity's words of max ``w[word, start:end]`` (sparse table)."""
    length = pn - ps
    n_levels = int(length.max()).bit_length()
    rows, width = w.shape
    levels = np.empty((n_levels, rows, width))  # levels[k, i, a] = max w[i, a : a + 2**k] (clipped at the end)
    levels[0] = w
    for k in range(1, n_levels):
        span = 1 << (k - 1)
        levels[k] = levels[k - 1]
        np.maximum(levels[k - 1, :, :-span], levels[k - 1, :, span:], out=levels[k, :, :-span])
    flat = levels.ravel()
    level = _floor_log2(length)
    # per pair: flat position of (level, first entity word, start); entity words add ``width`` each
    lo = (level * rows + index.ent_first[pe]) * width + ps
    hi = lo + length - (1 << level)
    n_words = index.ent_len[pe]
    if (n_words == 1).all():
        return np.maximum(flat[lo], flat[hi])
    step = ramp(n_words) * width
    lo_q = np.repeat(lo, n_words) + step
    hi_q = np.repeat(hi, n_words) + step
    row_max = np.maximum(flat[lo_q], flat[hi_q])
    return np.bincount(np.repeat(np.arange(len(pe)), n_words), weights=row_max, minlength=len(pe))


def _floor_log2(values: np.ndarray) -> np.ndarray:
    """floor(log2(v)) of positive integers."""
    table = np.zeros(int(values.max()) + 1, dtype=np.int64)
    table[2:] = np.floor(np.log2(np.arange(2, len(table)))).astype(np.int64)
    return table[values]


def link_dice_flat(index: PairIndex, w: np.ndarray) -> np.ndarray:
    """``2·(sum of w over e x c) / (len(e) + len(c))``; with 0/1 ``w``, the published link-count score."""
    if len(index.pair_ent) == 0:
        return np.zeros(0)
    prefix = _prefix(np.add.reduceat(w, index.ent_first, axis=0))
    return 2.0 * (prefix[index.ent_at_end] - prefix[index.ent_at_start]) / (index.pair_words + index.pair_len)


def _links(index: PairIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentence, source word and target column (:meth:`PairIndex.columns`, -1: none) of every link inside
    both sentences of the batch."""
    pairs = index.pairs
    chunks = [np.asarray(list(p.alignment), dtype=np.int64).reshape(-1, 2) for p in pairs if p.alignment]
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    sent = np.repeat([k for k, p in enumerate(pairs) if p.alignment], [len(c) for c in chunks])
    links = np.concatenate(chunks)
    src_len = np.array([len(p.src_tokens) for p in pairs], dtype=np.int64)
    i, j = links[:, 0], links[:, 1]
    ok = (i >= 0) & (i < src_len[sent]) & (j >= 0) & (j < index.n_tgt[sent])
    return sent[ok], i[ok], index.columns(sent[ok], j[ok])


def alignment_word_matrix(index: PairIndex, links: tuple | None = None) -> np.ndarray:
    """0/1 (entity words x target words): links of each entity word (links out of range are ignored)."""
    w = index.word_matrix()
    sent, i, j = _links(index) if links is None else links
    rows, at = _link_rows(index, sent, i)
    columned = j[at] >= 0
    w[rows[columned], j[at][columned]] = 1.0
    return w


def _link_rows(index: PairIndex, sent: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each (entity word row, link) where the link's source word is that entity word: rows and link indices."""
    if not len(sent) or len(index.word_ent) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    src_off = np.concatenate([[0], np.cumsum([len(p.src_tokens) for p in index.pairs])])
    g = src_off[sent] + i
    word_g = src_off[index.word_sent] + index.word_src
    order = np.argsort(word_g, kind="stable")
    lo = np.searchsorted(word_g[order], g, "left")
    count = np.searchsorted(word_g[order], g, "right") - lo
    return order[np.repeat(lo, count) + ramp(count)], np.repeat(np.arange(len(g)), count)


def alignment_matrix(alignment, n_src: int, n_tgt: int) -> np.ndarray:
    """0/1 (n_src, n_tgt) matrix of the links inside both sentences."""
    w = np.zeros((n_src, n_tgt))
    if alignment:
        links = np.asarray(list(alignment), dtype=np.int64).reshape(-1, 2)
        ok = (links[:, 0] >= 0) & (links[:, 0] < n_src) & (links[:, 1] >= 0) & (links[:, 1] < n_tgt)
        w[links[ok, 0], links[ok, 1]] = 1.0
    return w


def soft_dice(w: np.ndarray, spans: Sequence, cands: Candidates) -> np.ndarray:
    """Reference (one sentence, plain loops) of the soft Dice score for a (n_src x n_tgt) ``w``."""
    out = np.zeros((len(spans), len(cands)))
    for e, span in enumerate(spans):
        for k, (a, b) in enumerate(cands.spans()):
            block = w[span.start : span.end, a:b]
            out[e, k] = (block.max(axis=1).sum() + block.max(axis=0).sum()) / (len(span) + b - a)
    return out


class FlatScorer:
    """Base of scorers that score the flat (entity, candidate) layout of a batch: subclasses define ``score_flat``."""

    def score_flat(self, index: PairIndex) -> np.ndarray:
        raise NotImplementedError

    def score(self, pairs: Sequence, candidates: Sequence[Candidates]) -> list[np.ndarray]:
        index = PairIndex(pairs, candidates)
        return index.split(self.score_flat(index))


class AlignmentScorer(FlatScorer):
    """Alignment score; ``mode`` "distinct" or "aligned" (in [0, 1]), or "links" (published, may exceed 1).

    "aligned" is "distinct" with words that have no link at all left out of
    both lengths: an unaligned word is no evidence either way (0 if none is left).
    """

    MODES = ("distinct", "aligned", "links")

    def __init__(self, mode: str = "distinct"):
        if mode not in self.MODES:
            raise XlnerError(f"alignment mode must be one of {', '.join(self.MODES)}, got {mode!r}")
        self.mode = mode

    def score_flat(self, index: PairIndex) -> np.ndarray:
        links = _links(index)
        w = alignment_word_matrix(index, links)
        if self.mode == "links":
            return link_dice_flat(index, w)
        if self.mode == "distinct":
            return soft_dice_flat(index, w)
        if len(index.ent_len) == 0:
            return np.zeros(len(index.pair_ent))
        linked = np.zeros(len(index.word_ent))  # entity words with a link anywhere in the target
        linked[_link_rows(index, links[0], links[1])[0]] = 1.0
        src_count = np.add.reduceat(linked, index.ent_first)
        tgt_counted = np.zeros((len(index.pairs), index.width))
        columned = links[2] >= 0
        tgt_counted[links[0][columned], links[2][columned]] = 1.0
        return soft_dice_flat(index, w, src_count, tgt_counted)


@lru_cache(maxsize=200_000)
def normalise(text: str) -> str:
    """Lowercase and strip diacritics (NFKD, combining marks removed); ß -> ss."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def unique_copies(pairs: Sequence) -> list[list[tuple[int, int] | None]]:
    """Per pair, per source entity: the one target range ``(start, end)`` that copies it, or None.

    A copy has the entity's words, normalised (:func:`normalise`), in order;
    tokens that normalise to "" (mark-only tokens) are skipped inside it and
    included when they trail it. None when there is no copy or more than one.
    """
    found: list[list[tuple[int, int] | None]] = []
    for pair in pairs:
        tgt = pair.tgt_tokens
        kept = [j for j, t in enumerate(tgt) if normalise(t)]
        words = [normalise(tgt[j]) for j in kept]
        where: dict[str, list[int]] = {}
        for k, word in enumerate(words):
            where.setdefault(word, []).append(k)
        row: list[tuple[int, int] | None] = []
        for span in pair.src_spans:
            key = [w for w in map(normalise, pair.src_tokens[span.start : span.end]) if w]
            hits = [k for k in where.get(key[0], ()) if words[k : k + len(key)] == key] if key else []
            if len(hits) != 1:
                row.append(None)
                continue
            after = hits[0] + len(key)  # the next kept token, if any, ends the copy
            row.append((kept[hits[0]], kept[after] if after < len(kept) else len(tgt)))
        found.append(row)
    return found


def copy_pairs(index: PairIndex, copies: Sequence[Sequence[tuple[int, int] | None]]) -> np.ndarray:
    """Flat indices (into ``index``'s pairs) of each entity's copy from :func:`unique_copies`, when a candidate."""
    found = []
    for k, row in enumerate(copies):
        cands = index.candidates[k]
        for e, copy in enumerate(row):
            if copy is None:
                continue
            at = np.flatnonzero((cands.starts == copy[0]) & (cands.ends == copy[1]))
            found += [index.block[k] + e * len(cands) + c for c in at.tolist()]
    return np.array(found, dtype=np.int64)


@lru_cache(maxsize=200_000)
def trigrams(word: str) -> frozenset[str]:
    """Character trigrams of the normalised word padded with '#' on both sides."""
    w = f"#{normalise(word)}#"
    return frozenset(w[k : k + 3] for k in range(max(len(w) - 2, 1)))


_GRAM_IDS: dict[str, int] = {}


@lru_cache(maxsize=200_000)
def _gram_ids(word: str) -> np.ndarray:
    """Integer ids of :func:`trigrams` (ids are stable within a process)."""
    return np.array([_GRAM_IDS.setdefault(g, len(_GRAM_IDS)) for g in sorted(trigrams(word))], dtype=np.int64)


def string_word_matrix(index: PairIndex) -> np.ndarray:
    """(entity words x target words) :func:`word_similarity`, by one sort-join of trigram ids."""
    w = index.word_matrix()
    sentences = np.unique(index.word_sent)
    if not len(sentences):
        return w
    tgt_ids = [[_gram_ids(t) for t in _column_tokens(index, k)] for k in sentences.tolist()]
    n_grams = np.array([len(g) for toks in tgt_ids for g in toks], dtype=np.int64)
    tok_sent = np.repeat(sentences, [len(toks) for toks in tgt_ids])
    tok_pos = ramp(np.array([len(toks) for toks in tgt_ids]))
    gram = np.concatenate([g for toks in tgt_ids for g in toks])
    src_ids = [
        _gram_ids(index.pairs[k].src_tokens[i]) for k, i in zip(index.word_sent.tolist(), index.word_src.tolist())
    ]
    src_n = np.array([len(g) for g in src_ids], dtype=np.int64)
    src_gram = np.concatenate(src_ids)
    size = len(_GRAM_IDS) + 1
    tgt_key = np.repeat(tok_sent, n_grams) * size + gram
    tgt_tok = np.repeat(np.arange(len(n_grams)), n_grams)
    order = np.argsort(tgt_key, kind="stable")
    tgt_key, tgt_tok = tgt_key[order], tgt_tok[order]
    src_word = np.repeat(np.arange(len(src_n)), src_n)
    src_key = index.word_sent[src_word] * size + src_gram
    lo = np.searchsorted(tgt_key, src_key, "left")
    count = np.searchsorted(tgt_key, src_key, "right") - lo
    v = np.repeat(src_word, count)
    tok = tgt_tok[np.repeat(lo, count) + ramp(count)]
    keys, shared = np.unique(v * len(n_grams) + tok, return_counts=True)
    hit_v, hit_t = keys // len(n_grams), keys % len(n_grams)
    w[hit_v, tok_pos[hit_t]] = 2.0 * shared / (src_n[hit_v] + n_grams[hit_t])
    return w


def _column_tokens(index: PairIndex, k: int) -> Sequence[str]:
    """The target tokens of sentence ``k`` that have columns in the word matrices, in column order."""
    tokens = index.pairs[k].tgt_tokens
    kept = index.kept.get(k)
    return tokens if kept is None else [tokens[j] for j in kept.tolist()]


def word_similarity(a: str, b: str) -> float:
    """Dice of padded character trigrams, case- and diacritic-insensitive, in [0, 1]."""
    ta, tb = trigrams(a), trigrams(b)
    return 2.0 * len(ta & tb) / (len(ta) + len(tb))


def string_matrix(src_words: Sequence[str], tgt_words: Sequence[str]) -> np.ndarray:
    """(len(src_words), len(tgt_words)) matrix of :func:`word_similarity`."""
    return np.array([[word_similarity(a, b) for b in tgt_words] for a in src_words]).reshape(
        len(src_words), len(tgt_words)
    )


class StringScorer(FlatScorer):
    """Character-trigram similarity of entity and candidate text (soft Dice over words).

    Word pairs below ``min_word_similarity`` count as 0, so chance trigram
    overlaps between unrelated words do not add up.
    """

    def __init__(self, min_word_similarity: float = 0.3):
        self.min_word_similarity = min_word_similarity

    def score_flat(self, index: PairIndex) -> np.ndarray:
        w = string_word_matrix(index)
        w[w < self.min_word_similarity] = 0.0
        return soft_dice_flat(index, w)


@registry.scorers.register("alignment")
def make_alignment_scorer(mode: str = "distinct") -> AlignmentScorer:
    return AlignmentScorer(mode)


@registry.scorers.register("string")
def make_string_scorer(min_word_similarity: float = 0.3) -> StringScorer:
    return StringScorer(min_word_similarity)
