"""The translate-train benchmark on a slice of the real data (hau), and its agreement measure."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn_crfsuite")

from xlner.bench.translate_train import (
    SYSTEMS,
    TPROJECTION,
    attach_marks,
    average_bootstrap,
    load_pairs,
    render,
    run_language,
    silver_agreement,
)
from xlner.types import Sentence, Span

SMALL_CRF = {"c1": 0.1, "c2": 0.1, "max_iterations": 20, "seed": 0}


def test_silver_agreement_counts_spans_and_identical_sentences():
    reference = [[Span(0, 1, "PER")], [Span(1, 3, "LOC")], [], [Span(0, 1, "ORG"), Span(2, 3, "LOC")]]
    other = [[Span(0, 1, "PER")], [Span(1, 2, "LOC")], [], [Span(2, 3, "LOC"), Span(0, 1, "ORG")]]
    f1, identical = silver_agreement(reference, other)
    assert f1 == pytest.approx(0.75)  # 3 of 4 spans on each side
    assert identical == 0.75  # span order does not matter
    assert silver_agreement(reference, reference) == (1.0, 1.0)


def test_attach_marks_glues_diacritics_and_moves_spans():
    acute, dot = "\u0301", "\u0323"
    tokens = [acute, "Wo", acute, "n", "mu", "LO", dot, "DINI", "."]
    spans = [Span(0, 1, "PER"), Span(2, 3, "ORG"), Span(5, 6, "LOC")]
    glued = attach_marks(Sentence(tokens, spans, "7"))
    assert glued.tokens == [acute, "Wo" + acute, "n", "mu", "LO" + dot, "DINI", "."]
    assert glued.spans == [Span(0, 1, "PER"), Span(1, 2, "ORG"), Span(4, 5, "LOC")] and glued.id == "7"
    plain = Sentence(["Bello", "ya", "je", "Kano"], [Span(3, 4, "LOC")])
    assert attach_marks(plain) == plain


def test_pairs_are_parallel(shared_data):
    english, target = load_pairs("hau", max_train=50)
    assert len(english) == len(target) == 50
    assert [s.id for s in english] == [t.id for t in target]
    assert english[1].tokens == ["Peter", "Blackburn"] and english[1].spans == [Span(0, 2, "PER")]


@pytest.mark.slow
def test_small_run_on_hau(shared_data, tmp_path):
    options = dict(max_train=300, max_test=300, extra=False, crf_options=SMALL_CRF, n_bootstrap=200)
    result = run_language("hau", tmp_path, **options)
    assert result.pairs == 300 and result.test_sentences == 300 and result.extra_pairs == 0
    assert set(result.f1) == set(SYSTEMS)
    assert all(0.0 <= f1 <= 1.0 for f1 in result.f1.values())
    # a CRF trained on 300 silver sentences finds some entities
    assert result.f1[TPROJECTION] > 0.1
    for key, (delta, low, high, p) in result.bootstrap.items():
        assert key != TPROJECTION and low <= delta <= high and 0.0 <= p <= 1.0
        assert delta == pytest.approx(result.f1[key] - result.f1[TPROJECTION])
    # over one language, the averaged bootstrap is the paired bootstrap of xlner.metrics
    assert average_bootstrap([result], "ilp", n_samples=200) == pytest.approx(result.bootstrap["ilp"])
    # two projections of the same gold onto the same tokens mostly agree
    for f1, identical in result.agreement.values():
        assert 0.6 < f1 <= 1.0 and 0.5 < identical <= 1.0
    assert result.silver_sentences["ilp-confident"] <= result.silver_sentences["ilp"] == 300
    # the second run reads every stage from the cache and gives the same numbers
    again = run_language("hau", tmp_path, **options)
    assert again.f1 == result.f1 and again.agreement == result.agreement
    markdown = render([[result]], "xlner bench translate-train --langs hau")
    assert "| T-Projection (published silver) |" in markdown and "average" in markdown
