"""Taggers: HF token classification (word-level labels, aggregation, IOB repair), spaCy, gold."""

from __future__ import annotations

import pytest

from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.types import Sentence, Span

SENTENCES = [
    "Barack Obama visited Paris with Angela Merkel .".split(),
    "Microsoft and Google opened offices in Nairobi .".split(),
    [],
    "Aliko Dangote ya ziyarci Kano".split(),
]


# ---------------------------------------------------------------- Hugging Face


@pytest.fixture(scope="module")
def ner_model(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_models import tiny_token_classifier

    return tiny_token_classifier(tmp_path_factory.mktemp("ner"))


def _force_label(tagger, label: str) -> None:
    """Make every sub-token predict ``label`` (zero weights, one positive bias)."""
    import torch

    head = tagger.model.classifier
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-5.0)
        head.bias[tagger.model.config.label2id[label]] = 5.0


def test_hf_tagger_word_level_labels(ner_model):
    tagger = registry.taggers.create("hf", model=str(ner_model), batch_size=2)
    labels = tagger.word_labels(SENTENCES)
    assert [len(l) for l in labels] == [len(s) for s in SENTENCES]
    assert set(tag for l in labels for tag in l) <= set(tagger.id2label.values())
    _force_label(tagger, "B-PER")
    spans = tagger.tag(SENTENCES)
    assert spans[0] == [Span(i, i + 1, "PER") for i in range(len(SENTENCES[0]))]
    assert spans[2] == []


def test_hf_tagger_repairs_stray_inside_tags(ner_model):
    tagger = registry.taggers.create("hf", model=str(ner_model))
    _force_label(tagger, "I-LOC")  # I-LOC after nothing: repaired into one entity per sentence
    spans = tagger.tag(SENTENCES)
    assert spans[1] == [Span(0, len(SENTENCES[1]), "LOC")]
    relabelled = registry.taggers.create("hf", model=str(ner_model), label_map={"LOC": "O"})
    _force_label(relabelled, "I-LOC")
    assert relabelled.tag(SENTENCES[:1]) == [[]]


def test_hf_tagger_words_split_into_subtokens_map_to_one_label(ner_model):
    tagger = registry.taggers.create("hf", model=str(ner_model))
    words = ["Dangoteeee", "Nairobiiii", "x"]
    encoded = tagger.tokenizer(words, is_split_into_words=True)
    assert len(encoded.input_ids) > len(words) + 2  # some word really has several sub-tokens
    assert len(tagger.word_labels([words])[0]) == len(words)


def test_aggregation_strategies():
    import torch

    from xlner.tag.hf import HFTagger

    tagger = HFTagger.__new__(HFTagger)
    tagger.id2label = {0: "O", 1: "B-PER", 2: "B-LOC"}
    tagger.max_length = 512
    # positions: [CLS] w0a w0b w0c w1 [SEP]
    probs = torch.tensor([[1, 0, 0], [0.1, 0.5, 0.4], [0.0, 0.05, 0.95], [0.1, 0.5, 0.4], [0.9, 0.1, 0.0], [1, 0, 0]])
    word_ids = [None, 0, 0, 0, 1, None]
    tagger.aggregation = "first"
    assert tagger._aggregate(probs, word_ids, 2) == ["B-PER", "O"]
    tagger.aggregation = "max"
    assert tagger._aggregate(probs, word_ids, 2) == ["B-LOC", "O"]
    tagger.aggregation = "average"  # PER 0.35 vs LOC 0.583
    assert tagger._aggregate(probs, word_ids, 2) == ["B-LOC", "O"]
    assert tagger._aggregate(probs, word_ids, 3)[2] == "O"  # a word cut off by max_length


def test_hf_tagger_bad_options(ner_model, tmp_path):
    with pytest.raises(XlnerError, match="aggregation"):
        registry.taggers.create("hf", model=str(ner_model), aggregation="mean")
    with pytest.raises(XlnerError, match="needs model"):
        registry.taggers.create("hf")
    with pytest.raises(XlnerError, match="HF_HUB_OFFLINE"):
        registry.taggers.create("hf", model=str(tmp_path / "missing"))


# ---------------------------------------------------------------- spaCy


@pytest.fixture(scope="module")
def spacy_tagger():
    pytest.importorskip("spacy")
    try:
        return registry.taggers.create("spacy")
    except XlnerError as error:
        pytest.skip(str(error))


def test_spacy_tagger_on_english(spacy_tagger):
    sentences = [
        "Barack Obama visited Paris with Microsoft staff .".split(),
        "The French delegation met Angela Merkel in Berlin on Monday .".split(),
        [],
    ]
    spans = spacy_tagger.tag(sentences)
    assert len(spans) == 3 and spans[2] == []
    assert Span(0, 2, "PER") in spans[0] and Span(3, 4, "LOC") in spans[0] and Span(5, 6, "ORG") in spans[0]
    assert Span(4, 6, "PER") in spans[1] and Span(7, 8, "LOC") in spans[1]
    labels = {s.label for sentence in spans for s in sentence}
    assert labels <= {"PER", "ORG", "LOC"}  # NORP (French) and DATE (Monday) are dropped


def test_spacy_tagger_keeps_given_tokenization(spacy_tagger):
    words = ["U.S.-based", "Apple", "hired", "Tim", "Cook", "in", "New", "York", "."]
    (spans,) = spacy_tagger.tag([words])
    assert all(span.end <= len(words) for span in spans)
    assert Span(6, 8, "LOC") in spans


def test_spacy_label_map_is_configurable():
    pytest.importorskip("spacy")
    try:
        tagger = registry.taggers.create("spacy", label_map={"PERSON": "PER"}, keep_unmapped=True)
    except XlnerError as error:
        pytest.skip(str(error))
    (spans,) = tagger.tag(["The French delegation met Angela Merkel in Berlin on Monday .".split()])
    labels = {s.label for s in spans}
    assert "PER" in labels and "GPE" in labels and "NORP" in labels


def test_spacy_missing_model():
    pytest.importorskip("spacy")
    with pytest.raises(XlnerError, match="cannot load spaCy model 'xx_no_such_model'"):
        registry.taggers.create("spacy", model="xx_no_such_model")


# ---------------------------------------------------------------- gold


def test_gold_tagger_looks_sentences_up_by_tokens(tmp_path):
    from xlner.io import write_conll

    path = tmp_path / "gold.conll"
    write_conll(
        path, [Sentence(["Obama", "visited", "Paris"], [Span(0, 1, "PER"), Span(2, 3, "LOC")]), Sentence(["Hi"], [])]
    )
    tagger = registry.taggers.create("gold", path=path)
    assert tagger.tag([["Hi"], ["Obama", "visited", "Paris"]]) == [[], [Span(0, 1, "PER"), Span(2, 3, "LOC")]]
    with pytest.raises(InputError, match="not in the gold file"):
        tagger.tag([["Obama", "visited", "Rome"]])
    assert registry.taggers.create("gold", path=path, label_map={"LOC": "O"}).tag([["Obama", "visited", "Paris"]]) == [
        [Span(0, 1, "PER")]
    ]


def test_gold_tagger_needs_a_file(tmp_path):
    with pytest.raises(XlnerError, match="needs path"):
        registry.taggers.create("gold")
    with pytest.raises(InputError, match="not found"):
        registry.taggers.create("gold", path=tmp_path / "nope.conll")
