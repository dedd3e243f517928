"""Heuristic projection on hand-made cases, one per option."""

from __future__ import annotations

import pytest

from xlner.errors import XlnerError
from xlner.project.heuristic import aligned_runs, is_punctuation, project_heuristic, target_links
from xlner.types import Span


def run(spans, n, links, **opts):
    return project_heuristic(spans, n, frozenset(links), **opts)


def test_single_entity_contiguous():
    # "the European Parliament" -> target words 2..3
    assert run([Span(1, 3, "ORG")], 5, {(1, 2), (2, 3)}) == [Span(2, 4, "ORG")]


def test_unaligned_entity_is_not_projected():
    assert run([Span(0, 1, "PER")], 4, {(1, 1)}) == []


def test_merge_distance_fills_gaps():
    links = {(0, 0), (1, 2)}
    assert run([Span(0, 2, "ORG")], 4, links, merge_distance=1) == [Span(0, 3, "ORG")]
    assert run([Span(0, 2, "ORG")], 4, links, merge_distance=0, top_k=None) == [Span(0, 1, "ORG"), Span(2, 3, "ORG")]


def test_merge_only_if_not_first_word_aligned():
    # the entity's first word is aligned to both target 0 and target 2: the run at 2 is a repetition
    links = {(0, 0), (0, 2)}
    merged = run([Span(0, 1, "PER")], 4, links, merge_distance=1)
    assert merged == [Span(0, 3, "PER")]
    split = run([Span(0, 1, "PER")], 4, links, merge_distance=1, merge_only_if_not_first_word_aligned=True, top_k=None)
    assert split == [Span(0, 1, "PER"), Span(2, 3, "PER")]


def test_length_ratio_threshold_drops_short_runs():
    links = {(0, 0), (1, 0), (2, 0)}  # 3-word entity onto 1 word: ratio 1/3
    assert run([Span(0, 3, "ORG")], 3, links, length_ratio_threshold=0.3) == [Span(0, 1, "ORG")]
    assert run([Span(0, 3, "ORG")], 3, links, length_ratio_threshold=1 / 3) == []  # at the threshold: dropped


def test_keep_longest_or_shortest():
    links = {(0, 0), (1, 3), (1, 4)}
    spans = [Span(0, 2, "LOC")]
    assert run(spans, 6, links, merge_distance=0, keep="longest") == [Span(3, 5, "LOC")]
    assert run(spans, 6, links, merge_distance=0, keep="shortest") == [Span(0, 1, "LOC")]
    assert run(spans, 6, links, merge_distance=0, top_k=None) == [Span(0, 1, "LOC"), Span(3, 5, "LOC")]
    with pytest.raises(XlnerError):
        run(spans, 6, links, keep="middle")


def test_drop_punctuation_runs():
    tokens = ["Berlin", "ist", ",", "schön"]
    links = {(0, 0), (0, 2)}
    kept = run([Span(0, 1, "LOC")], 4, links, merge_distance=0, top_k=None, tgt_tokens=tokens, drop_punctuation_runs=False)
    assert kept == [Span(0, 1, "LOC"), Span(2, 3, "LOC")]
    dropped = run([Span(0, 1, "LOC")], 4, links, merge_distance=0, top_k=None, tgt_tokens=tokens, drop_punctuation_runs=True)
    assert dropped == [Span(0, 1, "LOC")]


def test_shortest_entity_first_and_no_overlap():
    # both entities align to target word 1; the shorter (PER) wins it
    links = {(0, 1), (1, 1), (3, 1)}
    out = run([Span(0, 2, "ORG"), Span(3, 4, "PER")], 3, links)
    assert out == [Span(1, 2, "PER")]


def test_out_of_range_links_are_ignored():
    assert run([Span(0, 1, "PER")], 2, {(0, 5), (0, 1)}) == [Span(1, 2, "PER")]


def test_helpers():
    assert is_punctuation("...") and is_punctuation(",") and not is_punctuation("U.S.") and not is_punctuation("")
    links = target_links({(0, 1), (0, 2), (1, 4)}, 5)
    assert aligned_runs(0, 2, links, merge_distance=0) == [(1, 3), (4, 5)]
    assert aligned_runs(0, 2, links, merge_distance=1) == [(1, 5)]
