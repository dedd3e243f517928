"""`xlner bench bam` core on the real published bam translate-test inputs."""

from __future__ import annotations

import random

import pytest

from xlner.bench import bam
from xlner.errors import XlnerError


@pytest.fixture(scope="module")
def inputs(shared_data):
    return bam.load_inputs(shared_data)


def test_inputs_are_aligned_and_oriented_english_to_bam(inputs):
    n = len(inputs.gold)
    assert n == 1274 and len(inputs.english) == n and len(inputs.published) == n
    assert set(inputs.alignments) == {"TransAlign", "AccAlign"}
    for name, alignments in inputs.alignments.items():
        assert len(alignments) == n
        for k in range(0, n, 97):
            en, tgt = len(inputs.english[k].tokens), len(inputs.gold[k].tokens)
            assert all(0 <= i < en and 0 <= j < tgt for i, j in alignments[k]), (name, k)
    # sentence 0: English "Dirisa" (4) is linked to bam "Dirisa" (6) in both
    assert inputs.english[0].tokens[4] == inputs.gold[0].tokens[6] == "Dirisa"
    assert all((4, 6) in a[0] for a in inputs.alignments.values())


def test_published_projection_scores_exactly_055(inputs):
    published = bam.f1(inputs.gold, [s.spans for s in inputs.published])
    assert round(published, 4) == 0.5500


def test_methods_on_a_slice_beat_shuffled_alignments(inputs):
    n = 200
    english, gold, spans = inputs.english[:n], inputs.gold[:n], [e.spans for e in inputs.english[:n]]
    links = inputs.alignments["TransAlign"][:n]
    shuffled = links[:]
    random.Random(0).shuffle(shuffled)
    real = bam.run_methods(bam.pairs_for(english, spans, gold, links))
    assert list(real) == [name for name, _, _ in bam.METHODS]
    for name, (predicted, seconds) in real.items():
        value = bam.f1(gold, predicted)
        assert 0.0 <= value <= 1.0 and seconds >= 0
    methods = [m for m in bam.METHODS if m[0] == bam.DEFAULT_METHOD]
    ((baseline, _),) = bam.run_methods(bam.pairs_for(english, spans, gold, shuffled), methods).values()
    assert bam.f1(gold, real[bam.DEFAULT_METHOD][0]) > bam.f1(gold, baseline) + 0.1


def test_spacy_tags_english(inputs):
    try:
        spans, _ = bam.spacy_spans(inputs.english[:20])
    except XlnerError as error:
        pytest.skip(str(error))
    assert len(spans) == 20
    assert {s.label for sent in spans for s in sent} <= {"PER", "ORG", "LOC"}
    assert any(spans)
