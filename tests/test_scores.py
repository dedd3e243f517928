"""Alignment (both variants) and string similarity scores, fusion."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.errors import XlnerError
from xlner.project.candidates import Candidates
from xlner.project.fusion import fuse
from xlner.project.scores import AlignmentScorer, StringScorer, normalise, word_similarity
from xlner.registry import registry
from xlner.types import SentencePair, Span


def cands(*ranges):
    return Candidates.from_ranges(ranges)


def test_alignment_distinct_counts_distinct_words_and_is_bounded():
    # entity = source words 0..1, both aligned to target word 0 only
    pair = SentencePair(["New", "York"], ["NY", "x"], [Span(0, 2, "LOC")], frozenset({(0, 0), (1, 0)}))
    c = cands((0, 1), (0, 2))
    distinct = AlignmentScorer("distinct").score([pair], [c])[0]
    # (0,1): 2 source words aligned into c + 1 target word aligned -> 3 / (2 + 1) = 1
    # (0,2): 2 + 1 -> 3 / (2 + 2)
    assert distinct[0].tolist() == pytest.approx([1.0, 0.75])
    links = AlignmentScorer("links").score([pair], [c])[0]
    # published: 2 * links / (len e + len c): 2*2/3 and 2*2/4
    assert links[0].tolist() == pytest.approx([4 / 3, 1.0])
    assert distinct.max() <= 1.0 < links.max()


def test_alignment_zero_without_links_and_registry():
    pair = SentencePair(["a", "b"], ["c", "d"], [Span(0, 1, "PER"), Span(1, 2, "ORG")], frozenset({(0, 1)}))
    m = registry.scorers.create("alignment").score([pair], [cands((0, 1), (1, 2))])[0]
    assert m.tolist() == [[0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(XlnerError):
        registry.scorers.create("alignment", mode="other")


def test_string_similarity_is_case_and_diacritic_insensitive():
    assert normalise("ÉCOLE Müller") == "ecole muller"
    assert word_similarity("Zürich", "zurich") == 1.0
    assert word_similarity("Merkel", "MERKEL") == 1.0
    assert 0 < word_similarity("European", "Europäischen") < 1
    assert word_similarity("Paris", "Berlin") == 0.0


def test_string_scorer_prefers_the_copied_name():
    pair = SentencePair(["Mr", "Prodi", "spoke"], ["Herr", "Prodi", "sprach"], [Span(1, 2, "PER")], frozenset())
    m = StringScorer().score([pair], [cands((0, 1), (1, 2), (0, 2))])[0]
    # candidates sort as (0, 1), (0, 2), (1, 2)
    assert m[0].tolist() == pytest.approx([0.0, 2 / 3, 1.0])


def test_fuse_weights_and_threshold():
    a = np.array([[1.0, 0.2]])
    s = np.array([[0.0, 0.8]])
    out = fuse({"alignment": a, "string": s}, {"alignment": 3.0, "string": 1.0}, threshold=0.5)
    assert out[0].tolist() == pytest.approx([0.75, 0.0])  # (0.6 + 0.8) / 4 = 0.35 < 0.5
    with pytest.raises(XlnerError):
        fuse({"alignment": a}, {"alignment": 0.0})


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from xlner.project.candidates import generate_candidates  # noqa: E402
from xlner.project.scores import alignment_matrix, soft_dice, string_matrix  # noqa: E402


@st.composite
def batches(draw):
    out = []
    for _ in range(draw(st.integers(1, 4))):
        n_src, n_tgt = draw(st.integers(1, 6)), draw(st.integers(1, 9))
        words = st.sampled_from(["Rome", "roma", "the", ".", "Müller", "MULLER", "of"])
        spans, pos = [], 0
        while pos < n_src:
            a = draw(st.integers(pos, n_src - 1))
            b = draw(st.integers(a + 1, n_src))
            if draw(st.booleans()):
                spans.append(Span(a, b, "LOC"))
            pos = b
        links = draw(st.frozensets(st.tuples(st.integers(0, n_src - 1), st.integers(0, n_tgt - 1)), max_size=10))
        src = [draw(words) for _ in range(n_src)]
        tgt = [draw(words) for _ in range(n_tgt)]
        out.append(SentencePair(src, tgt, spans, links))
    return out


@settings(max_examples=100, deadline=None)
@given(batches(), st.integers(1, 4))
def test_batched_scores_equal_the_plain_reference(pairs, max_words):
    cands = generate_candidates(pairs, max_words=max_words)
    align = AlignmentScorer().score(pairs, cands)
    links = AlignmentScorer("links").score(pairs, cands)
    string = StringScorer(min_word_similarity=0.0).score(pairs, cands)
    for pair, c, a, lk, s in zip(pairs, cands, align, links, string):
        w = alignment_matrix(pair.alignment, len(pair.src_tokens), len(pair.tgt_tokens))
        np.testing.assert_allclose(a, soft_dice(w, pair.src_spans, c))
        assert ((a >= 0) & (a <= 1 + 1e-12)).all()
        for e, span in enumerate(pair.src_spans):
            for k, (x, y) in enumerate(c.spans()):
                assert lk[e, k] == pytest.approx(2 * w[span.start : span.end, x:y].sum() / (len(span) + y - x))
        ws = string_matrix(pair.src_tokens, pair.tgt_tokens)
        np.testing.assert_allclose(s, soft_dice(ws, pair.src_spans, c))


@pytest.mark.shared_data
def test_string_similarity_alone_projects_europarl_names(shared_data):
    """With no alignment at all, string similarity still finds most German entities (F1 0.71 when written)."""
    from xlner.io.conll import read_conll
    from xlner.metrics import evaluate_spans
    from xlner.project import project

    en = read_conll(shared_data / "europarl-ner" / "en.test.conll").sentences
    de = read_conll(shared_data / "europarl-ner" / "de.test.conll").sentences
    pairs = [SentencePair(s.tokens, t.tokens, s.spans, frozenset()) for s, t in zip(en, de)]
    pred = project(pairs, "ilp", weights={"string": 1.0}, threshold=0.3)
    assert evaluate_spans([t.spans for t in de], pred).micro.f1 > 0.65
    assert project(pairs, "heuristic") == [[] for _ in pairs]


def test_aligned_mode_ignores_words_without_links():
    # "Sri" is unaligned on both sides (an aligner gap); "Lanka" is aligned
    pair = SentencePair(
        ["in", "Sri", "Lanka"], ["en", "Sri", "Lanka", "hoy"], [Span(1, 3, "LOC")], frozenset({(0, 0), (2, 2), (2, 3)})
    )
    c = cands((1, 3), (2, 3), (2, 4), (0, 3))
    distinct = AlignmentScorer("distinct").score([pair], [c])[0][0]
    aligned = AlignmentScorer("aligned").score([pair], [c])[0][0]
    # candidates sort as (0, 3), (1, 3), (2, 3), (2, 4)
    assert distinct.tolist() == pytest.approx([2 / 5, 2 / 4, 2 / 3, 3 / 4])
    # aligned: entity length 1 (Lanka); "Sri" and nothing else unaligned; "en" aligned to "in" counts against
    assert aligned.tolist() == pytest.approx([2 / 3, 1.0, 1.0, 1.0])
    empty = SentencePair(["a"], ["b"], [Span(0, 1, "PER")], frozenset())
    assert AlignmentScorer("aligned").score([empty], [cands((0, 1))])[0].tolist() == [[0.0]]


def test_unique_copies_word_for_word_case_and_diacritic_insensitive():
    from xlner.project.scores import unique_copies

    src = ["Pieter", "Hendriks", "met", "Grozny", "and", "EU", "in", "Zürich"]
    ents = [Span(0, 2, "PER"), Span(3, 4, "LOC"), Span(5, 6, "ORG"), Span(7, 8, "LOC")]
    tgt = ["PIETER", "hendriks", "ya", "ga", "Chechnya", "EU", "da", "EU", "a", "Zurich", "\u0301", "."]
    # Pieter Hendriks: once; Grozny: absent; EU: twice (ambiguous); Zurich: once, the trailing mark token included
    assert unique_copies([SentencePair(src, tgt, ents, frozenset())]) == [[(0, 2), None, None, (9, 11)]]


def test_unique_copies_skip_mark_tokens_inside():
    from xlner.project.scores import unique_copies

    src = ["Jimi", "Hendrix", "Jimi"]
    ents = [Span(0, 2, "PER"), Span(2, 3, "PER"), Span(1, 3, "PER")]
    tgt = ["jimi", "\u0300", "HENDRIX", "jimi", "x"]
    assert unique_copies([SentencePair(src, tgt, ents, frozenset())]) == [[(0, 3), None, (2, 4)]]
    assert unique_copies([SentencePair(src, [], ents, frozenset())]) == [[None, None, None]]


def test_copy_pairs_finds_the_flat_pair_of_each_copy():
    from xlner.project.scores import PairIndex, copy_pairs

    pairs = [
        SentencePair(["a"], ["x", "y"], [Span(0, 1, "PER")], frozenset()),
        SentencePair(["a", "b"], ["x", "y", "z"], [Span(0, 1, "PER"), Span(1, 2, "LOC")], frozenset()),
    ]
    candidates = [cands((0, 1), (1, 2)), cands((0, 1), (0, 2), (2, 3))]
    index = PairIndex(pairs, candidates)
    at = copy_pairs(index, [[(1, 2)], [None, (2, 3)]])
    # sentence 0: 1 entity x 2 candidates (flat 0..1); sentence 1: 2 x 3 from flat 2, entity 1 row from 5
    assert at.tolist() == [1, 7]
    assert (index.pair_start[at].tolist(), index.pair_end[at].tolist()) == ([1, 2], [2, 3])
    assert copy_pairs(index, [[(0, 2)], [None, None]]).tolist() == []  # not a candidate
