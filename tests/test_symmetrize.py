"""Symmetrization on hand-made cases whose results are worked out by hand below."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlner.align.symmetrize import METHODS, symmetrize

# Case "final": 4x4 sentence.
#   forward = {0-0, 1-1, 2-3}, reverse = {0-0, 1-1, 3-3}
#   intersection = {0-0, 1-1}; union adds 2-3 and 3-3.
#   grow-diag: neither 2-3 nor 3-3 touches 0-0 or 1-1 (8-neighbourhood) -> intersection.
#   grow-diag-final: forward's 2-3 (source 2 unaligned) is added, then reverse's
#     3-3 (source 3 unaligned, target 3 taken: "or" suffices) is added too.
#   grow-diag-final-and: 2-3 added (both free); 3-3 refused (target 3 taken).
FWD_FINAL = {(0, 0), (1, 1), (2, 3)}
REV_FINAL = {(0, 0), (1, 1), (3, 3)}
EXPECTED_FINAL = {
    "intersection": {(0, 0), (1, 1)},
    "union": {(0, 0), (1, 1), (2, 3), (3, 3)},
    "grow-diag": {(0, 0), (1, 1)},
    "grow-diag-final": {(0, 0), (1, 1), (2, 3), (3, 3)},
    "grow-diag-final-and": {(0, 0), (1, 1), (2, 3)},
}


@pytest.mark.parametrize("method", METHODS)
def test_final_case(method):
    assert symmetrize(FWD_FINAL, REV_FINAL, method, 4, 4) == frozenset(EXPECTED_FINAL[method])


def test_grow_diag_follows_a_diagonal_chain():
    # forward = {0-0, 1-1, 2-2}, reverse = {0-0}: intersection {0-0}.
    # Pass 1: 1-1 is the diagonal neighbour of 0-0 with both words free -> added;
    # pass 2: 2-2 neighbours 1-1 -> added. So grow-diag = forward.
    fwd, rev = {(0, 0), (1, 1), (2, 2)}, {(0, 0)}
    assert symmetrize(fwd, rev, "grow-diag") == frozenset(fwd)
    assert symmetrize(fwd, rev, "intersection") == frozenset({(0, 0)})


def test_grow_diag_skips_distant_links_but_final_adds_them():
    # forward = {0-0, 2-2}, reverse = {0-0}: 2-2 is two steps from 0-0, so
    # grow-diag keeps {0-0}; the final step adds 2-2 (both words free).
    fwd, rev = {(0, 0), (2, 2)}, {(0, 0)}
    assert symmetrize(fwd, rev, "grow-diag") == frozenset({(0, 0)})
    assert symmetrize(fwd, rev, "grow-diag-final-and") == frozenset({(0, 0), (2, 2)})


def test_neighbour_between_aligned_words_is_not_added():
    # forward = {0-0, 1-1, 0-1}, reverse = {0-0, 1-1, 1-0}: the extra union links
    # 0-1 and 1-0 join words that are all aligned already, so every grow method
    # returns the intersection {0-0, 1-1}.
    fwd, rev = {(0, 0), (1, 1), (0, 1)}, {(0, 0), (1, 1), (1, 0)}
    for method in ("grow-diag", "grow-diag-final", "grow-diag-final-and"):
        assert symmetrize(fwd, rev, method) == frozenset({(0, 0), (1, 1)})
    assert symmetrize(fwd, rev, "union") == frozenset(fwd | rev)


def test_grow_diag_adds_vertical_neighbour_for_unaligned_source_word():
    # forward = {0-0, 1-1, 2-1}, reverse = {0-0, 1-1, 1-2}: 2-1 (source 2 free)
    # and 1-2 (target 2 free) both neighbour 1-1 -> grow-diag gives the union.
    fwd, rev = {(0, 0), (1, 1), (2, 1)}, {(0, 0), (1, 1), (1, 2)}
    assert symmetrize(fwd, rev, "grow-diag") == frozenset(fwd | rev)


def test_errors():
    with pytest.raises(ValueError, match="unknown symmetrization"):
        symmetrize(set(), set(), "grow")
    with pytest.raises(ValueError, match="out of range"):
        symmetrize({(3, 0)}, set(), "union", src_len=3, tgt_len=2)


def test_empty():
    for method in METHODS:
        assert symmetrize(set(), set(), method) == frozenset()


links = st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=15)


@given(links, links)
def test_ordering_of_methods(fwd, rev):
    got = {m: symmetrize(fwd, rev, m) for m in METHODS}
    # (grow-diag-final-and is not always inside grow-diag-final: the order in
    # which "final" links are added matters.)
    for final in ("grow-diag-final", "grow-diag-final-and"):
        assert got["intersection"] <= got["grow-diag"] <= got[final] <= got["union"]
    assert got["intersection"] == frozenset(fwd & rev)
    assert got["union"] == frozenset(fwd | rev)
