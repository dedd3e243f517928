"""The "ner" score and NER-predicted candidates, with a tiny random BERT token classifier."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.errors import XlnerError
from xlner.project import project_detailed
from xlner.project.candidates import Candidates, generate_candidates
from xlner.registry import registry
from xlner.types import SentencePair, Span

pytest.importorskip("transformers")

TARGETS = [
    "Barack Obama ya ziyarci Kano a ranar Litinin .".split(),
    "Aliko Dangote ya ziyarci Kano".split(),
    "Microsoft and Google opened offices in Nairobi .".split(),
]


@pytest.fixture(scope="module")
def ner_path(tmp_path_factory):
    from tiny_models import tiny_token_classifier

    return str(tiny_token_classifier(tmp_path_factory.mktemp("ner")))


@pytest.fixture
def fresh(monkeypatch):
    """Forget loaded models so a test can change one's weights without touching the others."""
    from xlner.project.scorers.ner import load_ner_model

    load_ner_model.cache_clear()
    yield load_ner_model
    load_ner_model.cache_clear()


def _pairs() -> list[SentencePair]:
    src = "Barack Obama visited Kano on Monday .".split()
    return [
        SentencePair(src, TARGETS[0], [Span(0, 2, "PER"), Span(3, 4, "LOC")], frozenset({(0, 0), (1, 1), (3, 4)})),
        SentencePair(
            "Aliko Dangote visited Kano".split(),
            TARGETS[1],
            [Span(0, 2, "PER"), Span(3, 4, "ORG")],
            frozenset({(0, 0), (1, 1)}),
        ),
        SentencePair("Microsoft opened offices".split(), TARGETS[2], [Span(0, 1, "ORG")], frozenset({(0, 0)})),
    ]


def _set_head(model, probs: dict[str, float]) -> None:
    """Every sub-token gets these label probabilities (zero weights, log-probability biases)."""
    import torch

    head = model.tagger.model.classifier
    rest = (1.0 - sum(probs.values())) / (len(model.labels) - len(probs))
    with torch.no_grad():
        head.weight.zero_()
        for k, label in enumerate(model.labels):
            head.bias[k] = float(np.log(probs.get(label, rest)))


def test_label_types_and_begin_inside_maps(ner_path, fresh):
    model = fresh(ner_path)
    assert model.types == ["LOC", "ORG", "PER"]
    assert model.labels == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    per = model.types.index("PER")
    assert model.begin[model.labels.index("B-PER"), per] == 1 and model.begin[model.labels.index("I-PER"), per] == 0
    assert model.inside[model.labels.index("I-PER"), per] == 1 and model.inside[:, per].sum() == 1


def test_io_labels_stand_in_for_begin(tmp_path, fresh):
    from tiny_models import tiny_token_classifier

    model = fresh(str(tiny_token_classifier(tmp_path, labels=["O", "PER", "LOC"])))
    assert model.types == ["LOC", "PER"]
    assert model.begin[model.labels.index("I-PER"), 1] == 1 and model.inside[model.labels.index("I-PER"), 1] == 1


def test_word_probs_use_the_first_subtoken_and_match_a_plain_forward_pass(ner_path, fresh):
    import torch

    model = fresh(ner_path)
    probs = model.word_probs(TARGETS)
    tok, net = model.tagger.tokenizer, model.tagger.model
    for words, got in zip(TARGETS, probs):
        enc = tok(words, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            ref = net(**enc).logits.softmax(-1)[0].numpy()
        first = {}
        for position, w in enumerate(enc.word_ids()):
            if w is not None:
                first.setdefault(w, position)
        assert got.shape == (len(words), len(model.labels))
        np.testing.assert_allclose(got, ref[[first[w] for w in range(len(words))]], atol=1e-5)


def test_score_is_mean_of_begin_and_inside_probabilities(ner_path, fresh):
    model = fresh(ner_path)
    _set_head(model, {"B-PER": 0.5, "I-PER": 0.2, "B-LOC": 0.1, "I-LOC": 0.05})
    pairs = _pairs()
    cands = [Candidates.from_ranges([(0, 1), (0, 2), (0, 3), (4, 5)]) for _ in pairs]
    scorer = registry.scorers.create("ner", model=ner_path)
    got = scorer.score(pairs, cands)
    assert [m.shape for m in got] == [(2, 4), (2, 4), (1, 4)]
    per = np.array([0.5, (0.5 + 0.2) / 2, (0.5 + 0.4) / 3, 0.5])
    loc = np.array([0.1, (0.1 + 0.05) / 2, (0.1 + 0.1) / 3, 0.1])
    np.testing.assert_allclose(got[0][0], per, atol=1e-5)
    np.testing.assert_allclose(got[0][1], loc, atol=1e-5)
    orgs = (1 - 0.85) / 3  # B-ORG and I-ORG share what is left with O
    np.testing.assert_allclose(got[2][0], np.array([orgs, orgs, orgs, orgs]), atol=1e-5)
    agnostic = registry.scorers.create("ner", model=ner_path, mode="any").score(pairs, cands)
    np.testing.assert_allclose(
        agnostic[1][1],
        [0.5 + 0.1 + orgs, (0.6 + orgs + 0.25 + orgs) / 2, (0.6 + orgs + 2 * (0.25 + orgs)) / 3, 0.6 + orgs],
        atol=1e-5,
    )
    dropped = registry.scorers.create("ner", model=ner_path, min_score=0.4).score(pairs, cands)
    np.testing.assert_allclose(dropped[0][0], [0.5, 0, 0, 0.5], atol=1e-6)
    assert not dropped[0][1].any()


def test_boost_lifts_exactly_the_predicted_entity(ner_path, fresh):
    model = fresh(ner_path)
    _set_head(model, {"B-PER": 0.6, "I-PER": 0.1})  # arg-max: every word is a one-word PER
    pairs = _pairs()[:1]
    cands = [Candidates.from_ranges([(0, 1), (0, 2)])]
    plain = registry.scorers.create("ner", model=ner_path).score(pairs, cands)[0]
    boosted = registry.scorers.create("ner", model=ner_path, boost=0.5).score(pairs, cands)[0]
    assert boosted[0, 0] == pytest.approx(plain[0, 0] + 0.5 * (1 - plain[0, 0]))
    assert boosted[0, 1] == pytest.approx(plain[0, 1])  # two words are not one predicted entity
    assert boosted[1, 0] == pytest.approx(plain[1, 0])  # the LOC entity: the prediction is PER


def test_label_map_and_unknown_types(ner_path, fresh, caplog):
    pairs = [SentencePair(["Obama"], ["Obama"], [Span(0, 1, "PERSON"), Span(0, 1, "DATE")], frozenset({(0, 0)}))]
    cands = [Candidates.from_ranges([(0, 1)])]
    fresh(ner_path)
    mapped = registry.scorers.create("ner", model=ner_path, label_map={"PERSON": "PER"}).score(pairs, cands)[0]
    assert mapped[0, 0] > 0 and mapped[1, 0] == 0
    assert "no type 'DATE'" in caplog.text
    aliased = registry.scorers.create("ner", model=ner_path).score(pairs, cands)[0]  # PERSON -> PER by default
    assert aliased[0, 0] == pytest.approx(mapped[0, 0])


def test_one_forward_pass_per_distinct_sentence_and_batching_is_equivalent(ner_path, fresh):
    model = fresh(ner_path, "cpu", 8)
    pairs = _pairs() * 3
    cands = generate_candidates(pairs, max_words=4)
    batched = registry.scorers.create("ner", model=ner_path, batch_size=8).score(pairs, cands)
    assert len(model._cache) == 3
    one_by_one = registry.scorers.create("ner", model=ner_path, batch_size=1)
    for k, (pair, cand) in enumerate(zip(pairs, cands)):
        np.testing.assert_allclose(one_by_one.score([pair], [cand])[0], batched[k], atol=1e-5)


def test_ner_candidates_any_or_label_matched(ner_path, fresh):
    from xlner.project.scorers.ner import (
        add_ner_candidates,
        merge_candidates,
        ner_candidates,
    )

    model = fresh(ner_path)
    _set_head(model, {"B-LOC": 0.9})  # every word is a one-word LOC
    pairs = _pairs()
    found = ner_candidates(pairs, ner_path)
    assert [c.spans() for c in found] == [[(i, i + 1) for i in range(len(t))] for t in TARGETS]
    matched = ner_candidates(pairs, ner_path, labels="match")
    assert [len(c) for c in matched] == [len(TARGETS[0]), 0, 0]  # only sentence 0 has a LOC entity
    merged = merge_candidates([Candidates.from_ranges([(0, 2), (0, 1)])] * 3, found)
    assert merged[1].spans() == [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (4, 5)]
    only = add_ner_candidates(pairs, [Candidates.from_ranges([(0, 2)])] * 3, "only", ner_path)
    assert all((0, 2) not in c.spans() for c in only)
    with pytest.raises(XlnerError, match="'add' or 'only'"):
        add_ner_candidates(pairs, found, "all", ner_path)


def test_project_with_ner_score_and_ner_candidates(ner_path, fresh):
    model = fresh(ner_path)
    _set_head(model, {"B-PER": 0.7, "I-PER": 0.2})
    results = project_detailed(
        _pairs(),
        "ilp",
        weights={"ner": 1.0},
        ner_model=ner_path,
        ner_candidates="only",
        threshold=0.3,
    )
    for pair, result in zip(_pairs(), results):
        for span in result.spans:  # one-word NER spans only, labelled from their source entity
            assert span.end - span.start == 1 and span.label in {s.label for s in pair.src_spans}
    assert results[0].spans and results[0].spans[0].label == "PER"


def test_missing_model_is_a_clear_error():
    with pytest.raises(XlnerError, match="ner_model"):
        project_detailed(_pairs(), "ilp", weights={"ner": 1.0})
    with pytest.raises(XlnerError, match="mode"):
        registry.scorers.create("ner", model="x", mode="per-class")
