"""Span metrics: hand-checked cases, agreement with seqeval, bootstrap, rendering."""

from __future__ import annotations

import io
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from xlner.errors import InputError
from xlner.metrics import LabelMap, evaluate_spans, paired_bootstrap, render_markdown, render_report
from xlner.tags import tags_to_spans
from xlner.types import Span


def S(start, end, label):
    return Span(start, end, label)


def test_hand_computed_scores():
    gold = [[S(0, 2, "PER"), S(3, 4, "LOC")], [S(0, 1, "ORG")]]
    pred = [[S(0, 2, "PER"), S(3, 5, "LOC")], [S(0, 1, "ORG"), S(2, 3, "PER")]]
    report = evaluate_spans(gold, pred)
    assert report.sentences == 2
    assert (report.micro.correct, report.micro.support, report.micro.predicted) == (2, 3, 4)
    assert report.micro.precision == 0.5 and report.micro.recall == 2 / 3
    assert report.micro.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert list(report.per_type) == ["LOC", "ORG", "PER"]
    assert report.per_type["LOC"].to_dict() == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "predicted": 1,
        "correct": 0,
    }
    assert report.per_type["PER"].precision == 0.5 and report.per_type["PER"].recall == 1.0


def test_same_span_in_another_sentence_is_not_correct():
    report = evaluate_spans([[S(0, 1, "PER")], []], [[], [S(0, 1, "PER")]])
    assert report.micro.correct == 0 and report.micro.f1 == 0.0


def test_zero_division_gives_zero():
    report = evaluate_spans([[], []], [[], []])
    assert report.per_type == {} and report.micro.f1 == 0.0 and report.macro_f1 == 0.0
    only_pred = evaluate_spans([[]], [[S(0, 1, "PER")]])
    assert only_pred.per_type["PER"].recall == 0.0 and only_pred.micro.precision == 0.0


def test_label_map_applies_to_both_sides():
    gold = [[S(0, 1, "MISC"), S(1, 2, "GPE")]]
    pred = [[S(0, 1, "PER"), S(1, 2, "LOC")]]
    report = evaluate_spans(gold, pred, LabelMap.from_options(ignore=["MISC", "PER"], maps=["GPE=LOC"]))
    assert report.micro.f1 == 1.0 and list(report.per_type) == ["LOC"]
    assert report.labels == "labels: MISC->O, PER->O, GPE->LOC"
    assert evaluate_spans(gold, pred, {"MISC": "O"}).labels == "labels: MISC->O"


def test_sentence_count_mismatch():
    with pytest.raises(InputError, match="2 sentences .* 1"):
        evaluate_spans([[], []], [[]])


def test_to_dict_and_renderers():
    report = evaluate_spans([[S(0, 1, "PER")], [S(0, 2, "LOC")]], [[S(0, 1, "PER")], []], {"MISC": "O"})
    as_dict = report.to_dict()
    assert as_dict["sentences"] == 2 and as_dict["labels"] == "labels: MISC->O"
    assert as_dict["micro"]["recall"] == 0.5 and as_dict["per_type"]["LOC"]["support"] == 1
    buffer = io.StringIO()
    Console(file=buffer, width=120).print(render_report(report, "my run"))
    text = buffer.getvalue()
    assert "my run" in text and "2 sentences; labels: MISC->O" in text
    assert "micro avg" in text and "0.6667" in text  # micro F1 = 2/3
    markdown = render_markdown(report, "my run")
    assert "| micro avg | 1.0000 | 0.5000 | 0.6667 | 2 | 1 |" in markdown
    assert "| LOC | 0.0000 | 0.0000 | 0.0000 | 1 | 0 |" in markdown


# ---------------------------------------------------------------- agreement with seqeval

TAG = st.sampled_from(["O", "O", "O"] + [f"{p}-{l}" for p in "BI" for l in ("PER", "ORG", "LOC", "MISC")])
CORPUS = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(TAG, min_size=1, max_size=10), min_size=n, max_size=n),
        st.lists(st.lists(TAG, min_size=1, max_size=10), min_size=n, max_size=n),
    )
)


def _align_lengths(gold, pred):
    """Give each predicted sentence the gold sentence's length (seqeval needs equal lengths)."""
    return [(p + ["O"] * len(g))[: len(g)] for g, p in zip(gold, pred)]


def _decode(tag_lists):
    return [tags_to_spans(tags, "iob2", "repair")[0] for tags in tag_lists]


def _assert_matches_seqeval(report, gold, pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert report.micro.precision == pytest.approx(precision_score(gold, pred), abs=1e-12)
        assert report.micro.recall == pytest.approx(recall_score(gold, pred), abs=1e-12)
        assert report.micro.f1 == pytest.approx(f1_score(gold, pred), abs=1e-12)
        expected = classification_report(gold, pred, output_dict=True)
    types = {k: v for k, v in expected.items() if not k.endswith(" avg")}
    assert set(report.per_type) == set(types)
    for label, scores in report.per_type.items():
        assert scores.precision == pytest.approx(types[label]["precision"], abs=1e-12)
        assert scores.recall == pytest.approx(types[label]["recall"], abs=1e-12)
        assert scores.f1 == pytest.approx(types[label]["f1-score"], abs=1e-12)
        assert scores.support == types[label]["support"]
    assert report.micro.f1 == pytest.approx(expected["micro avg"]["f1-score"], abs=1e-12)
    assert report.micro.support == expected["micro avg"]["support"]
    if types:
        assert report.macro_f1 == pytest.approx(expected["macro avg"]["f1-score"], abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(CORPUS)
def test_matches_seqeval_on_random_tags(corpus):
    gold, pred = corpus
    pred = _align_lengths(gold, pred)
    _assert_matches_seqeval(evaluate_spans(_decode(gold), _decode(pred)), gold, pred)


@settings(max_examples=200, deadline=None)
@given(CORPUS)
def test_matches_seqeval_with_ignored_label(corpus):
    gold, pred = corpus
    pred = _align_lengths(gold, pred)
    report = evaluate_spans(_decode(gold), _decode(pred), LabelMap.from_options(ignore=["MISC"]))

    def drop(tag_lists):
        return [["O" if tag.endswith("-MISC") else tag for tag in tags] for tags in tag_lists]

    _assert_matches_seqeval(report, drop(gold), drop(pred))


# ---------------------------------------------------------------- paired bootstrap


def _corpus(n, every):
    """Gold with one PER per sentence; a prediction that gets every ``every``-th sentence right."""
    gold = [[S(0, 1, "PER")] for _ in range(n)]
    pred = [[S(0, 1, "PER")] if i % every == 0 else [S(1, 2, "PER")] for i in range(n)]
    return gold, pred


def test_bootstrap_perfect_against_empty():
    gold, _ = _corpus(50, 1)
    delta, low, high, p = paired_bootstrap(gold, gold, [[] for _ in gold], n_samples=200)
    assert (delta, low, high, p) == (1.0, 1.0, 1.0, 0.0)


def test_bootstrap_identical_systems():
    gold, pred = _corpus(40, 2)
    delta, low, high, p = paired_bootstrap(gold, pred, pred, n_samples=100)
    assert (delta, low, high, p) == (0.0, 0.0, 0.0, 1.0)


def test_bootstrap_close_systems_is_deterministic_and_brackets_delta():
    gold, better = _corpus(200, 2)  # half right
    _, worse = _corpus(200, 3)  # a third right
    first = paired_bootstrap(gold, better, worse, n_samples=500, seed=3)
    assert first == paired_bootstrap(gold, better, worse, n_samples=500, seed=3)
    delta, low, high, p = first
    assert delta == pytest.approx(evaluate_spans(gold, better).micro.f1 - evaluate_spans(gold, worse).micro.f1)
    assert low < delta < high and low > 0 and p < 0.05
    reverse = paired_bootstrap(gold, worse, better, n_samples=500, seed=3)
    assert reverse[0] == pytest.approx(-delta) and reverse[3] < 0.05
    noisy = paired_bootstrap(gold[:12], better[:12], worse[:12], n_samples=500, seed=0)
    assert noisy[1] < 0 < noisy[2] and noisy[3] > 0.05


def test_bootstrap_mismatched_inputs():
    gold, pred = _corpus(5, 2)
    with pytest.raises(InputError):
        paired_bootstrap(gold, pred, pred[:4])
