"""Back-translation refinement with a stub base aligner and hand-made sentences."""

from __future__ import annotations

import pytest

from xlner.align.backtranslate import (
    BackTranslationAligner,
    compose,
    monolingual_align,
    normalize_word,
)
from xlner.errors import XlnerError
from xlner.registry import registry

# German <-> English toy lexicon; the stub also links identical strings.
LEXICON = {("frau", "mrs"), ("besuchte", "visited"), ("berlin", "berlin"), ("gestern", "yesterday")}


class StubAligner:
    """Links (i, j) when the lowercased words are in LEXICON or identical.

    ``align_directional`` returns a forward run with every lexicon link and a
    reverse run with only the identical-string links, so votes can differ.
    """

    def __init__(self):
        self.calls = []

    def _links(self, src, tgt, lexicon=True):
        return frozenset(
            (i, j)
            for i, s in enumerate(src)
            for j, t in enumerate(tgt)
            if s.lower() == t.lower() or (lexicon and (s.lower(), t.lower()) in LEXICON)
        )

    def align(self, pairs):
        self.calls.append([tuple(map(tuple, p)) for p in pairs])
        return [self._links(s, t) for s, t in pairs]


class DirectionalStub(StubAligner):
    def align_directional(self, pairs):
        return [self._links(s, t) for s, t in pairs], [self._links(s, t, lexicon=False) for s, t in pairs]


# src (German original) and tgt (its English translation). The direct stub
# cannot link "Müller" to "Miller" (not identical, not in the lexicon).
SRC = ["Frau", "Müller", "besuchte", "Berlin"]
TGT = ["Mrs", "Miller", "visited", "Berlin"]
# Back-translation of TGT into German (of="tgt"): keeps "Miller", which the
# stub links to TGT's "Miller" (identical); "Miller" ~ "Müller" monolingually
# (character ratio of "miller"/"muller" = 5/6 >= 0.75): composed link 1-1.
BT_OF_TGT = ["Frau", "Miller", "besuchte", "Berlin"]
DIRECT = {(0, 0), (2, 2), (3, 3)}


def test_union_adds_the_composed_link():
    aligner = BackTranslationAligner(StubAligner(), [BT_OF_TGT], combine="union", progress=False)
    assert aligner.align([(SRC, TGT)]) == [frozenset(DIRECT | {(1, 1)})]


def test_intersection_keeps_links_confirmed_by_both_paths():
    # Back-translation lost "Berlin" (-> "Hauptstadt"): the composed path has no 3-3.
    bt = ["Frau", "Miller", "besuchte", "Hauptstadt"]
    aligner = BackTranslationAligner(StubAligner(), [bt], combine="intersection", progress=False)
    assert aligner.align([(SRC, TGT)]) == [frozenset({(0, 0), (2, 2)})]


def test_vote_uses_forward_reverse_and_composed():
    # forward = DIRECT, reverse = identical strings only = {3-3},
    # composed = {0-0, 1-1, 2-2, 3-3}. Two votes: 0-0, 2-2 (fwd+composed), 3-3 (all three);
    # 1-1 has only the composed vote.
    aligner = BackTranslationAligner(DirectionalStub(), [BT_OF_TGT], combine="vote", progress=False)
    assert aligner.align([(SRC, TGT)]) == [frozenset(DIRECT)]
    three = BackTranslationAligner(DirectionalStub(), [BT_OF_TGT], combine="vote", min_votes=3, progress=False)
    assert three.align([(SRC, TGT)]) == [frozenset({(3, 3)})]


def test_back_translation_of_the_source_side():
    # Translate-test orientation: src = English translation (entities), tgt =
    # German original; bt = src translated back into German.
    bt = ["Frau", "Miller", "besuchte", "Berlin"]
    stub = StubAligner()
    aligner = BackTranslationAligner(stub, lambda sents: [bt for _ in sents], of="src", progress=False)
    # direct (English, German) links: only identical "Berlin"; (src, bt): Mrs-Frau? the
    # lexicon is (german, english) so only Miller-Miller and Berlin-Berlin link;
    # bt -> tgt monolingual: Frau-Frau, Miller-Müller, besuchte-besuchte, Berlin-Berlin.
    result = aligner.align([(TGT, SRC)])
    assert result == [frozenset({(1, 1), (3, 3)})]
    # the base aligner saw (src, bt) with src first (language order kept)
    assert stub.calls[1] == [(tuple(TGT), tuple(bt))]


def test_monolingual_alignment():
    assert normalize_word("Ärzte") == "arzte"
    # identical words, diacritics and case ignored, unrelated words left out
    links = monolingual_align(["Die", "Ärzte", "kamen", "heute"], ["die", "Arzte", "gingen", "heute"])
    assert links == frozenset({(0, 0), (1, 1), (3, 3)})
    # repeated word: the monotone candidate wins
    assert monolingual_align(["a", "x", "b", "x"], ["x", "c", "x"], min_similarity=0.9) == frozenset({(1, 0), (3, 2)})
    assert monolingual_align([], ["a"]) == frozenset()


def test_compose():
    assert compose(frozenset({(0, 1), (1, 2)}), frozenset({(1, 5), (2, 6), (2, 7), (3, 0)})) == frozenset(
        {(0, 5), (1, 6), (1, 7)}
    )


def test_errors_and_registry():
    with pytest.raises(XlnerError, match="2 back-translations for 1"):
        BackTranslationAligner(StubAligner(), [BT_OF_TGT, BT_OF_TGT], progress=False).align([(SRC, TGT)])
    with pytest.raises(XlnerError, match="combine"):
        BackTranslationAligner(StubAligner(), [], combine="majority")
    aligner = registry.aligners.create(
        "backtranslation", base=StubAligner(), back_translations=[BT_OF_TGT], progress=False
    )
    assert aligner.align([(SRC, TGT)]) == [frozenset(DIRECT | {(1, 1)})]
