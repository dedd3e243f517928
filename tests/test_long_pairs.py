"""Long pairs in windows: every link in range, short pairs unchanged, cuts at shared punctuation."""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from xlner.align import long
from xlner.align.eflomal import EflomalAligner
from xlner.align.long import LONG_PAIR_TOKENS, WINDOW_TOKENS, merge_links, split_pairs, windows

TOKENS = st.lists(st.sampled_from(["a", "b", ".", ";", "c"]), max_size=3 * LONG_PAIR_TOKENS)


@settings(max_examples=200, deadline=None)
@given(src=TOKENS, tgt=TOKENS)
def test_windows_tile_both_sides(src, tgt):
    found = windows(len(src), len(tgt), src, tgt)
    if max(len(src), len(tgt)) <= LONG_PAIR_TOKENS or not src or not tgt:
        assert found == [(0, len(src), 0, len(tgt))]
        return
    assert found[0][0] == 0 and found[0][2] == 0
    assert found[-1][1] == len(src) and found[-1][3] == len(tgt)
    for (s0, s1, t0, t1), following in zip(found, found[1:] + [None]):
        assert s0 < s1 and t0 < t1  # every window has tokens on both sides
        if following is not None:
            assert (s1, t1) == (following[0], following[2])


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(TOKENS, TOKENS), max_size=4), data=st.data())
def test_merged_links_are_in_range_and_short_pairs_unchanged(pairs, data):
    pieces, origin = split_pairs(pairs)
    links = [
        frozenset(
            data.draw(st.sets(st.tuples(st.integers(0, len(s) - 1), st.integers(0, len(t) - 1)), max_size=5))
            if s and t
            else ()
        )
        for s, t in pieces
    ]
    merged = merge_links(links, origin, len(pairs))
    assert len(merged) == len(pairs)
    for (src, tgt), alignment in zip(pairs, merged):
        assert all(0 <= i < len(src) and 0 <= j < len(tgt) for i, j in alignment)
    for n, (src, tgt) in enumerate(pairs):
        own = [k for k, (m, _, _) in enumerate(origin) if m == n]
        if max(len(src), len(tgt)) <= LONG_PAIR_TOKENS:
            assert [pieces[k] for k in own] == [(src, tgt)] and merged[n] == links[own[0]]


def test_cuts_fall_after_punctuation_both_sides_share():
    sentence_src = ["w"] * 39 + ["."]
    sentence_tgt = ["v"] * 44 + ["."]
    src, tgt = sentence_src * 10, sentence_tgt * 10  # 400 and 450 tokens
    found = windows(len(src), len(tgt), src, tgt)
    assert len(found) == -(-len(tgt) // WINDOW_TOKENS)
    for s0, _, t0, _ in found[1:]:
        assert src[s0 - 1] == "." and tgt[t0 - 1] == "."
        assert s0 // 40 == t0 // 45  # the same sentence boundary on both sides


def test_without_shared_punctuation_cuts_are_proportional():
    src, tgt = ["w"] * 600, ["v"] * 300
    found = windows(len(src), len(tgt), src, tgt)
    assert [(s0, t0) for s0, _, t0, _ in found] == [(0, 0), (120, 60), (240, 120), (360, 180), (480, 240)]


def test_eflomal_aligns_a_long_pair_in_windows_quickly(monkeypatch):
    """A 2,000-token pair (word-for-word translation of 100 sentences) aligns in windows, links mostly right."""
    rng = random.Random(3)
    src = [w for _ in range(100) for w in [f"w{rng.randrange(300)}" for _ in range(19)] + ["."]]
    tgt = [w.upper() for w in src]
    seen = []
    real = long.split_pairs

    def spy(pairs):
        pieces, origin = real(pairs)
        seen.append(len(pieces))
        return pieces, origin

    monkeypatch.setattr(long, "split_pairs", spy)
    started = time.perf_counter()
    (links,) = EflomalAligner(progress=False, subword="none", subword_vote=False).align([(src, tgt)])
    assert time.perf_counter() - started < 60
    assert seen == [-(-len(src) // WINDOW_TOKENS)]
    assert all(0 <= i < len(src) and 0 <= j < len(tgt) for i, j in links)
    assert sum(i == j for i, j in links) > 0.8 * len(links) > 0.5 * len(src)
