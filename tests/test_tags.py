"""Tag sequences <-> spans, scheme detection and label maps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlner.errors import InputError
from xlner.tags import LabelMap, TagError, detect_scheme, spans_to_tags, tags_to_spans
from xlner.types import Span


def spans(*triples):
    return [Span(*t) for t in triples]


@pytest.mark.parametrize(
    "tags, expected",
    [
        (["O", "O"], []),
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["B-PER", "B-PER"], [(0, 1, "PER"), (1, 2, "PER")]),
        (["B-ORG", "I-ORG", "I-ORG"], [(0, 3, "ORG")]),
        (["B-DATE-TIME", "I-DATE-TIME"], [(0, 2, "DATE-TIME")]),
    ],
)
def test_iob2_valid(tags, expected):
    assert tags_to_spans(tags) == (spans(*expected), 0)


@pytest.mark.parametrize(
    "tags, index, words",
    [
        (["O", "I-PER"], 1, "I-PER after O"),
        (["I-PER"], 0, "I-PER after O"),
        (["B-PER", "I-LOC"], 1, "I-LOC after B-PER"),
    ],
)
def test_iob2_strict_raises_with_position(tags, index, words):
    with pytest.raises(TagError) as info:
        tags_to_spans(tags, "iob2", "strict")
    assert info.value.index == index
    assert words in str(info.value)


def test_iob2_repair_treats_stray_i_as_b_and_counts():
    assert tags_to_spans(["O", "I-PER", "I-PER", "I-LOC", "B-LOC"], policy="repair") == (
        spans((1, 3, "PER"), (3, 4, "LOC"), (4, 5, "LOC")),
        2,
    )


@pytest.mark.parametrize("policy", ["strict", "repair"])
@pytest.mark.parametrize("tag", ["X-PER", "B", "B-", "I_PER", "PER", "E-PER", "b-PER"])
def test_unknown_prefix_is_always_an_error(policy, tag):
    with pytest.raises(TagError, match="unknown tag"):
        tags_to_spans(["O", tag], "iob2", policy)


def test_unknown_scheme_and_policy():
    with pytest.raises(InputError, match="tag scheme"):
        tags_to_spans(["O"], "iob3")
    with pytest.raises(InputError, match="policy"):
        tags_to_spans(["O"], "iob2", "lenient")


def test_iob1_i_starts_entities_b_separates_same_type():
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"]
    assert tags_to_spans(tags, "iob1", "strict") == (
        spans((0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC"), (5, 6, "ORG")),
        0,
    )


@pytest.mark.parametrize("scheme, e, s", [("bioes", "E", "S"), ("bilou", "L", "U")])
def test_bioes_and_bilou_valid(scheme, e, s):
    tags = ["B-PER", "I-PER", f"{e}-PER", f"{s}-LOC", "O", "B-ORG", f"{e}-ORG"]
    assert tags_to_spans(tags, scheme) == (spans((0, 3, "PER"), (3, 4, "LOC"), (5, 7, "ORG")), 0)


@pytest.mark.parametrize(
    "tags, repaired, n",
    [
        (["B-PER", "O"], [(0, 1, "PER")], 1),  # never ended
        (["B-PER", "I-PER"], [(0, 2, "PER")], 1),  # ended by the sentence end
        (["O", "E-PER"], [(1, 2, "PER")], 1),  # stray end
        (["B-PER", "S-LOC"], [(0, 1, "PER"), (1, 2, "LOC")], 1),
    ],
)
def test_bioes_invalid(tags, repaired, n):
    with pytest.raises(TagError):
        tags_to_spans(tags, "bioes", "strict")
    assert tags_to_spans(tags, "bioes", "repair") == (spans(*repaired), n)


@pytest.mark.parametrize(
    "sequences, scheme",
    [
        ([["B-PER", "I-PER", "O"]], "iob2"),
        ([["O", "O"]], "iob2"),
        ([[]], "iob2"),
        ([["I-PER", "I-PER", "B-PER", "O", "I-LOC"]], "iob1"),
        ([["I-PER", "O"], ["B-LOC"]], "iob2"),  # B- after O: an IOB2 file with a stray I-
        ([["B-PER", "E-PER", "S-LOC"]], "bioes"),
        ([["U-PER"], ["B-LOC", "L-LOC"]], "bilou"),
    ],
)
def test_detect_scheme(sequences, scheme):
    assert detect_scheme(sequences) == scheme


def test_detect_scheme_rejects_mixed_bioes_bilou():
    with pytest.raises(InputError, match="mix"):
        detect_scheme([["S-PER", "U-LOC"]])


def test_auto_scheme_in_tags_to_spans():
    assert tags_to_spans(["S-PER", "B-LOC", "E-LOC"], "auto") == (spans((0, 1, "PER"), (1, 3, "LOC")), 0)


def test_spans_to_tags():
    assert spans_to_tags(spans((3, 4, "LOC"), (0, 2, "PER")), 5) == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    assert spans_to_tags([], 2) == ["O", "O"]


@pytest.mark.parametrize(
    "bad, match",
    [
        (spans((0, 2, "PER"), (1, 3, "LOC")), "overlaps"),
        (spans((2, 6, "PER")), "outside"),
        (spans((0, 1, "O")), "invalid label"),
        (spans((0, 1, "A B")), "invalid label"),
    ],
)
def test_spans_to_tags_rejects(bad, match):
    with pytest.raises(InputError, match=match):
        spans_to_tags(bad, 5)


LABELS = st.sampled_from(["PER", "ORG", "LOC", "MISC", "B-X"])


@st.composite
def flat_spans(draw):
    n = draw(st.integers(0, 25))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=12)))
    result = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if start < end:
            result.append(Span(start, end, draw(LABELS)))
    return n, result


@given(flat_spans())
def test_spans_tags_round_trip(case):
    n, original = case
    tags = spans_to_tags(original, n)
    assert len(tags) == n
    assert tags_to_spans(tags, "iob2", "strict") == (sorted(original), 0)


def test_label_map_from_options_and_apply():
    mapping = LabelMap.from_options(ignore=["MISC"], maps=["DATE=O", "GPE=LOC"])
    assert mapping.describe() == "labels: MISC->O, DATE->O, GPE->LOC"
    assert mapping.apply(spans((0, 1, "MISC"), (1, 2, "GPE"), (2, 3, "PER"), (3, 4, "DATE"))) == spans(
        (1, 2, "LOC"), (2, 3, "PER")
    )
    assert LabelMap().describe() == "labels: as given"
    assert not LabelMap()


@pytest.mark.parametrize("maps", [["DATE"], ["=O"], ["A B=C"]])
def test_label_map_bad_option(maps):
    with pytest.raises(InputError, match="label"):
        LabelMap.from_options(maps=maps)
