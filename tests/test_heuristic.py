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
    opts = {"merge_distance": 0, "top_k": None, "tgt_tokens": tokens, "ignore_punctuation_links": False}
    kept = run([Span(0, 1, "LOC")], 4, links, drop_punctuation_runs=False, **opts)
    assert kept == [Span(0, 1, "LOC"), Span(2, 3, "LOC")]
    dropped = run([Span(0, 1, "LOC")], 4, links, drop_punctuation_runs=True, **opts)
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


def test_ignore_punctuation_links_removes_punctuation_before_runs():
    # "Franco" is linked to both ", Franco": the comma is no part of the name
    tokens = [",", "Franco"]
    links = {(0, 0), (0, 1)}
    assert run([Span(0, 1, "PER")], 2, links, tgt_tokens=tokens, ignore_punctuation_links=False) == [Span(0, 2, "PER")]
    assert run([Span(0, 1, "PER")], 2, links, tgt_tokens=tokens, ignore_punctuation_links=True) == [Span(1, 2, "PER")]
    # a removed bracket inside a name leaves a gap that merging fills
    inside = ["Rangun", "(", "Yangon", ")"]
    out = run(
        [Span(0, 1, "LOC")], 4, {(0, 0), (0, 1), (0, 2), (0, 3)}, tgt_tokens=inside, ignore_punctuation_links=True
    )
    assert out == [Span(0, 3, "LOC")]


def test_garcia2022_preset_removes_punctuation_links():
    from xlner.project import project
    from xlner.types import SentencePair

    pair = SentencePair(["Franco"], [",", "Franco"], [Span(0, 1, "PER")], frozenset({(0, 0), (0, 1)}))
    assert project([pair], "heuristic", preset="garcia2022") == [[Span(1, 2, "PER")]]
    assert project([pair], "heuristic", preset="politov2025") == [[Span(0, 2, "PER")]]


def test_collisions_published_resolves_real_overlaps():
    # LOC "A B" -> target 0-1, PER "C" -> target 1: skip keeps the shorter entity, published the longer span
    spans = [Span(0, 2, "LOC"), Span(2, 3, "PER")]
    links = {(0, 0), (1, 1), (2, 1)}
    assert run(spans, 3, links) == [Span(1, 2, "PER")]
    assert run(spans, 3, links, collisions="published") == [Span(0, 2, "LOC")]
    # same label: the covering range
    same = [Span(0, 2, "LOC"), Span(2, 3, "LOC")]
    assert run(same, 3, {(0, 0), (1, 1), (2, 1), (2, 2)}, collisions="published") == [Span(0, 3, "LOC")]
    # equal lengths, different labels: the later entity (source order) stays
    tie = [Span(0, 1, "LOC"), Span(1, 2, "PER")]
    assert run(tie, 2, {(0, 0), (1, 0)}, collisions="published") == [Span(0, 1, "PER")]
    with pytest.raises(XlnerError):
        run(tie, 2, {(0, 0)}, collisions="first")


def test_collisions_published_ignores_false_collisions():
    # the translation swaps two entities: their projections do not overlap, both stay
    spans = [Span(0, 1, "LOC"), Span(2, 3, "MISC")]
    assert run(spans, 3, {(0, 2), (2, 0)}, collisions="published") == [Span(0, 1, "MISC"), Span(2, 3, "LOC")]


def test_alignment_dice_matches_the_scorer_reference():
    import numpy as np

    from xlner.project.candidates import Candidates
    from xlner.project.heuristic import alignment_dice
    from xlner.project.scores import alignment_matrix, soft_dice

    links = {(0, 0), (0, 3), (1, 1), (2, 1), (2, 2)}
    w = alignment_matrix(links, 3, 5)
    by_src = target_links(links, 5)
    for entity in (Span(0, 1, "X"), Span(0, 3, "X"), Span(1, 3, "X")):
        for a in range(5):
            for b in range(a + 1, 6):
                expected = soft_dice(w, [entity], Candidates(np.array([a]), np.array([b])))[0, 0]
                assert alignment_dice(entity, Span(a, b, "X"), by_src) == pytest.approx(expected)


# Yoruba-like machine translation: diacritics split off as mark-only tokens ("LỌ́DÍNÌ" -> "LÓ ̣ DÍNÌ").
GRAVE, DOT = "\u0300", "\u0323"


def test_is_mark_and_mark_glue_round_trip():
    from xlner.project.heuristic import MarkGlue, is_mark

    assert is_mark(GRAVE) and is_mark(DOT + GRAVE) and not is_mark("ẹ") and not is_mark("") and not is_mark(".")
    tokens = [GRAVE, "ní", "ilẹ", GRAVE, "Gẹ", GRAVE, "ẹ", "sì", "."]
    glue = MarkGlue.of(tokens)
    assert glue.changed and not MarkGlue.of(["a", "b"]).changed
    assert glue.words == (GRAVE, "ní", "ilẹ" + GRAVE, "Gẹ" + GRAVE, "ẹ", "sì", ".")  # a leading mark stays alone
    assert glue.starts == (0, 1, 2, 4, 6, 7, 8)
    assert glue.alignment({(0, 3), (1, 2), (2, 5), (3, 9)}) == {(0, 2), (1, 2), (2, 3)}  # out of range dropped
    assert glue.span(Span(2, 4, "LOC")) == Span(2, 6, "LOC")
    assert glue.span(Span(6, 7, "LOC")) == Span(8, 9, "LOC")


def test_heuristic_never_projects_onto_a_mark_alone_nor_cuts_before_one():
    tokens = ["ní", "LÓ", DOT, "DÍNÌ", "àti", "ilẹ", GRAVE, "Gẹ"]
    # "London" aligned to "LÓ" only; "England" aligned to the mark after "ilẹ" only
    links = {(0, 1), (2, 6)}
    spans = [Span(0, 1, "LOC"), Span(2, 3, "LOC")]
    glued = run(spans, len(tokens), links, tgt_tokens=tokens)
    assert glued == [Span(1, 3, "LOC"), Span(5, 7, "LOC")]
    plain = run(spans, len(tokens), links, tgt_tokens=tokens, glue_marks=False)
    assert plain == [Span(1, 2, "LOC"), Span(6, 7, "LOC")]  # the old behaviour: cut word, mark-only span
    assert run(spans, len(tokens), links) == plain  # no tokens, nothing to glue


def test_heuristic_glued_marks_join_runs_of_one_word():
    tokens = ["Gẹ", GRAVE, "ẹ", "sì"]
    links = {(0, 0), (0, 1), (0, 3)}  # both parts of the glued word and a word after a gap
    assert run([Span(0, 1, "LOC")], 4, links, tgt_tokens=tokens, merge_distance=0, top_k=None) == [
        Span(0, 2, "LOC"),
        Span(3, 4, "LOC"),
    ]
