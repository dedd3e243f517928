"""`xlner bench defaults`: recipe scoring over seeds, the subword/word vote, the typology check."""

from __future__ import annotations

import pytest

from xlner.bench import defaults, links
from xlner.tags import LabelMap
from xlner.types import Span


def _fake_links(table):
    def directional_links(name, pairs, tgt_lang, seed, cache_dir=None, subword="none", extra=True, src_lang="en"):
        fwd, rev = table[subword, seed]
        return fwd, rev, 1.0, 0

    return directional_links


def test_vote_keeps_links_three_of_four_share_and_falls_back_to_symmetrization(monkeypatch):
    pairs = [(["a", "b"], ["x", "y"])]
    words = ([frozenset({(0, 0), (1, 1)})], [frozenset({(0, 0)})])
    pieces = ([frozenset({(0, 0), (1, 0), (1, 1)})], [frozenset({(0, 0), (1, 1)})])
    monkeypatch.setattr(links, "directional_links", _fake_links({("none", 0): words, ("auto", 0): pieces}))
    voted, seconds, _ = links.alignments_for("s", pairs, "de", 0, segmentation="auto+vote")
    assert voted == [frozenset({(0, 0), (1, 1)})] and seconds == 2.0  # (0, 0) in 4, (1, 1) in 3, (1, 0) in 1
    plain, _, _ = links.alignments_for("s", pairs, "de", 0, segmentation="auto", symmetrization="intersection")
    assert plain == [frozenset({(0, 0), (1, 1)})]
    # a subword model that fell back to words (identical links): the symmetrization applies
    monkeypatch.setattr(links, "directional_links", _fake_links({("none", 0): words, ("auto", 0): words}))
    same, _, _ = links.alignments_for("s", pairs, "de", 0, segmentation="auto+vote", symmetrization="intersection")
    assert same == [frozenset({(0, 0)})]


def test_recipes_are_scored_per_seed_and_published_links_once(monkeypatch):
    gold = [[Span(0, 1, "PER")], [Span(1, 2, "LOC")]]
    evalset = defaults.EvalSet(
        "toy",
        "de",
        [["Anna", "laughs"], ["in", "Berlin"]],
        [list(g) for g in gold],
        [["Xq", "Zw"], ["Vb", "Jk"]],
        gold,
        LabelMap.from_options(),
        "F1",
        published={"pub": [frozenset({(0, 0)}), frozenset({(1, 1)})]},
    )
    good = ([frozenset({(0, 0), (1, 1)})] * 2, [frozenset({(0, 0), (1, 1)})] * 2)
    bad = ([frozenset({(0, 1)}), frozenset({(1, 0)})], [frozenset({(0, 1)}), frozenset({(1, 0)})])
    monkeypatch.setattr(links, "directional_links", _fake_links({("none", 0): good, ("none", 1): bad}))
    recipes = defaults.RECIPES[:1]
    results, kept = defaults.evaluate_recipes([evalset], recipes, [0, 1], ["none"], None, keep=lambda r, e: True)
    assert results[recipes[0].name, "toy", "none"] == [1.0, 0.0]
    assert results[recipes[0].name, "toy (pub)", "published"] == [1.0]
    assert kept[(recipes[0].name, "toy", "none"), 0] == gold


def test_typology_shares():
    stats = defaults.typology(
        [[Span(0, 1, "PER"), Span(1, 3, "LOC")], [Span(0, 1, "MISC")]], [["uMandela", "eLondon", "x"], ["belgischen"]]
    )
    assert stats["spans"] == 3 and stats["PER"] == pytest.approx(1 / 3) and stats["MISC"] == pytest.approx(1 / 3)
    assert stats["one-word"] == pytest.approx(2 / 3) and stats["lowercase-initial"] == 1.0


def test_seed_cell_and_describe_recipe():
    assert links.seed_cell([0.5]) == "0.500" and links.seed_cell([0.5, 0.6, 0.55]) == "0.550 ±0.100"
    assert "eflomal" in links.describe_recipe()
