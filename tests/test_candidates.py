"""Candidate generation: n-grams, aligned sub-ranges, runs, deduplication."""

from __future__ import annotations

from xlner.project.candidates import Candidates, candidates_for_pair, generate_candidates, ngram_ranges
from xlner.types import SentencePair, Span


def test_ngrams_count_and_lengths():
    r = ngram_ranges(["a", "b", "c", "d"], max_words=2, punctuation="!?.;:")
    assert sorted(map(tuple, r.tolist())) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4)]


def test_ngrams_never_contain_sentence_punctuation_but_allow_abbreviations():
    tokens = ["the", "U.S.", "said", ":", "yes", "."]
    spans = set(map(tuple, ngram_ranges(tokens, 10, "!?.;:").tolist()))
    assert (0, 3) in spans  # "the U.S. said"
    assert all(not (s <= 3 < e) and not (s <= 5 < e) for s, e in spans)
    assert (4, 5) in spans


def test_candidates_add_aligned_ranges_and_run_concatenations():
    tokens = ["x", ":", "y", "z"]
    # entity aligned to target 0 and 2: runs (0,1), (2,3); concatenation (0,3) crosses ':'
    c = candidates_for_pair(tokens, [Span(0, 1, "PER")], {(0, 0), (0, 2)}, merge_distance=0)
    spans = set(c.spans())
    assert (0, 3) in spans and (1, 2) in spans  # aligned sub-range inside [0, 3)
    only_ngrams = candidates_for_pair(
        tokens, [Span(0, 1, "PER")], {(0, 0), (0, 2)}, aligned_subranges=False, runs=False
    )
    assert (0, 3) not in set(only_ngrams.spans())


def test_long_runs_kept_whole_and_deduplicated():
    tokens = [f"w{k}" for k in range(15)]
    links = {(0, j) for j in range(12)}
    c = candidates_for_pair(tokens, [Span(0, 1, "ORG")], links, max_words=3)
    spans = c.spans()
    assert (0, 12) in spans
    assert len(spans) == len(set(spans))
    assert spans == sorted(spans)
    assert max(e - s for s, e in spans if (s, e) != (0, 12)) == 3


def test_batch_and_from_ranges():
    pairs = [
        SentencePair(["a"], ["b", "c"], [Span(0, 1, "PER")], frozenset({(0, 1)})),
        SentencePair([], [], [], frozenset()),
    ]
    out = generate_candidates(pairs)
    assert out[0].spans() == [(0, 1), (0, 2), (1, 2)]
    assert len(out[1]) == 0
    assert Candidates.from_ranges([(1, 2), (0, 1), (1, 2)]).spans() == [(0, 1), (1, 2)]


def test_extra_ranges_are_added_deduplicated_and_sorted():
    pairs = [SentencePair([], ["a", "b", "c"], [], frozenset()), SentencePair([], ["d", "e"], [], frozenset())]
    base = generate_candidates(pairs, max_words=1, aligned_subranges=False, runs=False)
    more = generate_candidates(
        pairs, max_words=1, aligned_subranges=False, runs=False, extra=[[(0, 3), (0, 1)], [(0, 2)]]
    )
    assert base[0].spans() == [(0, 1), (1, 2), (2, 3)]
    assert more[0].spans() == [(0, 1), (0, 3), (1, 2), (2, 3)]
    assert more[1].spans() == [(0, 1), (0, 2), (1, 2)]
    only = generate_candidates(pairs, ngrams=False, aligned_subranges=False, runs=False, extra=[[], [(1, 2)]])
    assert only[0].spans() == [] and only[1].spans() == [(1, 2)]
