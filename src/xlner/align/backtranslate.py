"""Back-translation refinement of word alignments (xlner's own design).

For each pair (``src``, ``tgt``) we also get a back-translation ``bt``: one
side translated back into the *other* side's language. With ``of="tgt"`` (the
default) ``bt`` is ``tgt`` translated into ``src``'s language; with
``of="src"`` it is ``src`` translated into ``tgt``'s language.

Taking ``of="tgt"``:

1. ``direct``: the base aligner on (src, tgt);
2. ``bt -> tgt``: the base aligner on (bt, tgt), a true translation pair;
3. ``src -> bt``: a *monolingual* alignment (same language: identical words,
   diacritic- and case-insensitive equality, character similarity, with a
   small preference for monotone links), one-to-one by maximum-weight matching;
4. ``composed``: ``(i, j)`` whenever ``src i -> bt k`` and ``bt k -> tgt j``;
5. combine ``direct`` and ``composed``: ``union``, ``intersection`` or
   ``vote`` (a link needs ``min_votes`` votes among: the base aligner's
   forward and reverse links when it has ``align_directional`` (eflomal
   does), else its symmetrized links; and the composed links).

In projection ``src`` is always the side carrying the entities. In
translate-test (entities found on the English translation, projected onto
the original sentence) the back-translation of the English translation into
the original language is a back-translation of ``src``: use ``of="src"``. In
translate-train (English original with gold, projected onto its machine
translation) back-translating the translation gives ``of="tgt"``.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from xlner.align.base import Aligner, TokenPair, check_pairs
from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.types import Alignment

BackTranslations = Union[Sequence[Sequence[str]], Callable[[list[list[str]]], Sequence[Sequence[str]]]]
COMBINE = ("union", "intersection", "vote")


def normalize_word(word: str) -> str:
    """Case- and diacritic-insensitive form: NFKD, combining marks dropped, casefolded."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def word_similarity(a: str, b: str) -> float:
    """1 for identical words, 0.95 for equal normalized forms, else difflib's character ratio."""
    if a == b:
        return 1.0
    na, nb = normalize_word(a), normalize_word(b)
    if na == nb:
        return 0.95
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio()


def monolingual_align(
    a: Sequence[str], b: Sequence[str], min_similarity: float = 0.75, distortion: float = 0.1
) -> Alignment:
    """One-to-one links between two sentences of the same language.

    Link score = :func:`word_similarity` minus ``distortion`` times the
    difference of relative positions (so of two equal candidates the more
    monotone wins); links are chosen by maximum-weight matching and kept when
    their similarity is at least ``min_similarity``.
    """
    if not a or not b:
        return frozenset()
    from scipy.optimize import linear_sum_assignment

    sim = np.zeros((len(a), len(b)))
    for i, wa in enumerate(a):
        for k, wb in enumerate(b):
            sim[i, k] = word_similarity(wa, wb)
    pos_a = (np.arange(len(a)) + 0.5) / len(a)
    pos_b = (np.arange(len(b)) + 0.5) / len(b)
    score = sim - distortion * np.abs(pos_a[:, None] - pos_b[None, :])
    score[sim < min_similarity] = -1.0
    rows, cols = linear_sum_assignment(score, maximize=True)
    return frozenset((int(i), int(k)) for i, k in zip(rows, cols) if sim[i, k] >= min_similarity)


def compose(first: Alignment, second: Alignment) -> Alignment:
    """``(i, j)`` for every ``(i, k)`` in ``first`` and ``(k, j)`` in ``second``."""
    by_k: dict[int, list[int]] = {}
    for k, j in second:
        by_k.setdefault(k, []).append(j)
    return frozenset((i, j) for i, k in first for j in by_k.get(k, ()))


class BackTranslationAligner:
    """Refines a base aligner's links with back-translations (see the module docstring)."""

    def __init__(
        self,
        base: Aligner,
        back_translations: BackTranslations,
        combine: str = "union",
        of: str = "tgt",
        min_votes: int = 2,
        min_similarity: float = 0.75,
        distortion: float = 0.1,
        progress: bool = True,
    ):
        if combine not in COMBINE:
            raise XlnerError(f"unknown combine {combine!r}: expected one of {', '.join(COMBINE)}")
        if of not in ("src", "tgt"):
            raise XlnerError(f"of must be 'src' or 'tgt' (the side that was back-translated), not {of!r}")
        self.base = base
        self.back_translations = back_translations
        self.combine = combine
        self.of = of
        self.min_votes = min_votes
        self.min_similarity = min_similarity
        self.distortion = distortion
        self.progress = progress

    def config(self) -> dict[str, Any]:
        base = self.base.config() if hasattr(self.base, "config") else type(self.base).__name__
        return {
            "aligner": "backtranslation",
            "base": base,
            "combine": self.combine,
            "of": self.of,
            "min_votes": self.min_votes,
            "min_similarity": self.min_similarity,
            "distortion": self.distortion,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        from tqdm import tqdm

        check_pairs(pairs)
        lists = [(list(s), list(t)) for s, t in pairs]
        back_translated = [t for _, t in lists] if self.of == "tgt" else [s for s, _ in lists]
        bts = self._back_translations(back_translated)
        if self.combine == "vote" and hasattr(self.base, "align_directional"):
            direct_runs = list(self.base.align_directional(lists))
        else:
            direct_runs = [self.base.align(lists)]
        if self.of == "tgt":  # bt is in src's language: translation pair (bt, tgt)
            bt_links = self.base.align([(bt, t) for bt, (_, t) in zip(bts, lists)])
        else:  # bt is in tgt's language: translation pair (src, bt)
            bt_links = self.base.align([(s, bt) for bt, (s, _) in zip(bts, lists)])
        results = []
        rows = tqdm(range(len(lists)), desc="back-translation", disable=not self.progress, leave=False)
        for n in rows:
            (s, t), bt = lists[n], bts[n]
            if self.of == "tgt":  # src i -> bt k -> tgt j
                composed = compose(monolingual_align(s, bt, self.min_similarity, self.distortion), bt_links[n])
            else:  # src i -> bt k -> tgt j
                composed = compose(bt_links[n], monolingual_align(bt, t, self.min_similarity, self.distortion))
            results.append(self._combine([run[n] for run in direct_runs], composed))
        return results

    def _combine(self, direct: list[Alignment], composed: Alignment) -> Alignment:
        if self.combine == "union":
            return frozenset().union(*direct, composed)
        if self.combine == "intersection":
            return frozenset().union(*direct) & composed
        counts: dict[tuple[int, int], int] = {}
        for source in (*direct, composed):
            for link in source:
                counts[link] = counts.get(link, 0) + 1
        return frozenset(link for link, count in counts.items() if count >= self.min_votes)

    def _back_translations(self, sentences: list[list[str]]) -> list[list[str]]:
        source = self.back_translations
        bts = [list(bt) for bt in (source(sentences) if callable(source) else source)]
        if len(bts) != len(sentences):
            raise XlnerError(f"{len(bts)} back-translations for {len(sentences)} sentence pairs")
        return bts


@registry.aligners.register("backtranslation")
def _make_backtranslation(
    base: Aligner | str = "eflomal",
    back_translations: BackTranslations | str | None = None,
    base_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> BackTranslationAligner:
    """``base`` is an aligner or a registered name (``base_options`` go to it);
    ``back_translations`` a list of token lists, a callable, or the path of a
    tokenized text file (one sentence per line)."""
    base_options = dict(base_options or {})
    aligner: Aligner = registry.aligners.create(base, **base_options) if isinstance(base, str) else base
    if back_translations is None:
        raise XlnerError("the backtranslation aligner needs back_translations= (token lists, a callable or a file)")
    if isinstance(back_translations, str):
        from xlner.io.text import read_tokenized

        back_translations = read_tokenized(back_translations)
    return BackTranslationAligner(aligner, back_translations, **options)
