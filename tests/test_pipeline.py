"""Pipelines with small deterministic components registered here: plumbing, caching, resume, filtering."""

from __future__ import annotations

import pytest

from xlner.errors import XlnerError
from xlner.pipeline import Component, translate_test, translate_train
from xlner.registry import registry
from xlner.types import Sentence, Span

# A word-by-word "translation" between Hausa-ish and English, both ways.
HAU_EN = {
    "ya": "has",
    "ziyarci": "visited",
    "a": "in",
    "jiya": "yesterday",
    "zuwa": "to",
    "Jamus": "Germany",
    "ta": "she",
    "tafi": "went",
}
EN_HAU = {v: k for k, v in HAU_EN.items()}
CALLS: list[tuple[str, str, int]] = []


class DictTranslator:
    """Translates word by word; records (src, tgt, batch size); raises after ``fail_after`` batches."""

    def __init__(self, fail_after: int | None = None):
        self.fail_after = fail_after
        self.batches = 0

    def translate(self, sentences, src_lang, tgt_lang):
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise RuntimeError("translator died")
        self.batches += 1
        CALLS.append((src_lang, tgt_lang, len(sentences)))
        table = HAU_EN if src_lang == "hau" else EN_HAU
        return [" ".join(table.get(w, w) for w in s.split()) for s in sentences]


class NameTagger:
    """PER for Obama/Merkel, LOC for Kano/Germany/Abuja."""

    LABELS = {"Obama": "PER", "Merkel": "PER", "Kano": "LOC", "Germany": "LOC", "Abuja": "LOC"}

    def tag(self, sentences):
        return [[Span(i, i + 1, self.LABELS[w]) for i, w in enumerate(s) if w in self.LABELS] for s in sentences]


class MonotoneAligner:
    """Links word i to word i, except in pairs whose source contains 'Germany' (no links at all)."""

    def align(self, pairs):
        return [
            frozenset() if "Germany" in src else frozenset((i, i) for i in range(min(len(src), len(tgt))))
            for src, tgt in pairs
        ]


registry.translators.register("test-dict")(lambda **options: DictTranslator(**options))
registry.taggers.register("test-names")(lambda **options: NameTagger())
registry.aligners.register("test-monotone")(lambda **options: MonotoneAligner())

BASE = ["Obama ya ziyarci Kano jiya", "Merkel ta tafi Abuja", "ya tafi"]
TARGETS = [Sentence(f"{BASE[k % 3]} {k}".split(), id=str(k)) for k in range(9)]  # 9 distinct sentences
EXPECTED = [[Span(0, 1, "PER"), Span(3, 4, "LOC")], [Span(0, 1, "PER"), Span(3, 4, "LOC")], []] * 3


def _test(tmp_path, **options):
    kwargs = dict(
        lang="hau",
        translator="test-dict",
        tagger="test-names",
        aligner="test-monotone",
        cache_dir=tmp_path / "cache",
        batch_size=2,
    )
    kwargs.update(options)
    return translate_test(TARGETS, **kwargs)


def test_translate_test_projects_english_spans_onto_the_target(tmp_path):
    CALLS.clear()
    gold = [Sentence(s.tokens, spans, s.id) for s, spans in zip(TARGETS, EXPECTED)]
    result = _test(tmp_path, gold=gold)
    assert [s.spans for s in result.sentences] == EXPECTED
    assert [s.tokens for s in result.sentences] == [s.tokens for s in TARGETS]
    assert result.pairs[0].src_tokens == "Obama has visited Kano yesterday 0".split()
    assert result.pairs[0].src_spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
    assert {(src, tgt) for src, tgt, _ in CALLS} == {("hau", "en")}
    assert [n for _, _, n in CALLS] == [2, 2, 2, 2, 1]
    assert result.report.micro.f1 == 1.0


def test_rerun_does_no_translation_or_tagging_work(tmp_path, monkeypatch):
    first = _test(tmp_path)
    CALLS.clear()
    tagged = []
    monkeypatch.setattr(NameTagger, "tag", lambda self, s: tagged.append(s) or [])
    second = _test(tmp_path)
    assert CALLS == [] and tagged == []
    assert [s.spans for s in second.sentences] == [s.spans for s in first.sentences]


def test_other_options_miss_the_cache(tmp_path):
    _test(tmp_path)
    CALLS.clear()
    _test(tmp_path, translator_options={"fail_after": 100})
    assert len(CALLS) == 5


def test_interrupted_run_resumes_with_identical_output(tmp_path):
    reference = _test(tmp_path / "ref")
    CALLS.clear()
    component = Component("translators", "test-dict", {}, key_options={})
    component._instance = DictTranslator(fail_after=2)
    with pytest.raises(RuntimeError, match="translator died"):
        _test(tmp_path / "run", translator=component)
    assert len(CALLS) == 2
    CALLS.clear()
    resumed = _test(tmp_path / "run")
    assert [n for _, _, n in CALLS] == [2, 2, 1]  # the three batches not done before
    assert [(s.tokens, s.spans) for s in resumed.sentences] == [(s.tokens, s.spans) for s in reference.sentences]


def test_no_cache_writes_nothing(tmp_path):
    _test(tmp_path, use_cache=False)
    assert not (tmp_path / "cache").exists()


def test_translate_train_filters_by_confidence(tmp_path):
    english = [
        Sentence("Obama has visited Kano".split(), [Span(0, 1, "PER"), Span(3, 4, "LOC")], "a"),
        Sentence("she went to Germany".split(), [Span(3, 4, "LOC")], "b"),
    ]
    kwargs = dict(lang="hau", translator="test-dict", aligner="test-monotone", cache_dir=tmp_path, batch_size=1)
    everything = translate_train(english, **kwargs)
    assert everything.kept == [0, 1]
    assert everything.sentences[0].tokens == "Obama ya ziyarci Kano".split()
    assert everything.sentences[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
    assert everything.confidences[1] < everything.confidences[0]
    threshold = (everything.confidences[0] + everything.confidences[1]) / 2
    filtered = translate_train(english, min_confidence=threshold, **kwargs)
    assert filtered.kept == [0] and [s.id for s in filtered.sentences] == ["a"]
    assert len(filtered.pairs) == 2 and filtered.pairs[1].tgt_tokens == "ta tafi zuwa Jamus".split()
    with pytest.raises(XlnerError, match="min_confidence"):
        translate_train(english, min_confidence=1.5, **kwargs)


def test_bad_component_options_are_clear(tmp_path):
    with pytest.raises(XlnerError, match="bad options"):
        _test(tmp_path, tagger_options={"no_such_option": 1}, tagger="spacy")
    with pytest.raises(XlnerError, match="unknown translator"):
        _test(tmp_path, translator="no-such-translator")


def test_backtranslation_translates_back_and_wraps_the_aligner(tmp_path):
    if "backtranslation" not in registry.aligners.names():
        pytest.skip("the backtranslation aligner is not registered yet")
    CALLS.clear()
    result = _test(tmp_path, backtranslation=True)
    assert {(src, tgt) for src, tgt, _ in CALLS} == {("hau", "en"), ("en", "hau")}  # English translated back
    assert [s.spans for s in result.sentences] == EXPECTED
    cached = {p.name.split("-")[0] for p in (tmp_path / "cache" / "align").iterdir()}
    assert cached == {"backtranslation"}
    CALLS.clear()
    english = [Sentence("Obama has visited Kano".split(), [Span(0, 1, "PER"), Span(3, 4, "LOC")], "a")]
    train = translate_train(
        english, lang="hau", translator="test-dict", aligner="test-monotone", backtranslation=True, cache_dir=tmp_path
    )
    assert {(src, tgt) for src, tgt, _ in CALLS} == {("en", "hau"), ("hau", "en")}
    assert train.sentences[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]


def test_backtranslation_with_precomputed_translations_needs_a_file(tmp_path):
    if "backtranslation" not in registry.aligners.names():
        pytest.skip("the backtranslation aligner is not registered yet")
    english = [Sentence("Obama has visited Kano".split(), [Span(0, 1, "PER"), Span(3, 4, "LOC")], "a")]
    (tmp_path / "hau.txt").write_text("Obama ya ziyarci Kano\n", encoding="utf-8")
    kwargs = dict(
        lang="hau",
        translator="file",
        translator_options={"path": str(tmp_path / "hau.txt")},
        aligner="test-monotone",
        backtranslation=True,
        cache_dir=tmp_path,
    )
    with pytest.raises(XlnerError, match="--back-translations"):
        translate_train(english, **kwargs)
    (tmp_path / "back.txt").write_text("Obama has visited Kano\n", encoding="utf-8")
    result = translate_train(english, back_translations=tmp_path / "back.txt", **kwargs)
    assert result.sentences[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
    (tmp_path / "back.txt").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(XlnerError, match="2 back-translations but the input has 1"):
        translate_train(english, back_translations=tmp_path / "back.txt", **kwargs)
