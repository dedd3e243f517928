"""Marker-based projection: inserting markers, parsing (broken) marked translations, and the pipelines."""

from __future__ import annotations

import re

import pytest

from xlner.errors import XlnerError
from xlner.pipeline import translate_test, translate_train
from xlner.project.markers import (
    MarkerReport,
    insert_markers,
    locate_phrase,
    parse_markers,
    project_with_markers,
)
from xlner.registry import registry
from xlner.types import Sentence, Span

ENTITIES = [["Barack", "Obama"], ["Paris"]]
LABELS = ["PER", "LOC"]


def _parse(text, entities=ENTITIES, labels=LABELS, **options):
    return parse_markers(text, entities, labels, "ha", **options)


def test_insert_markers_around_entities():
    tokens = "Barack Obama visited Paris .".split()
    text, marked = insert_markers(tokens, [Span(0, 2, "PER"), Span(3, 4, "LOC")], "en")
    assert text == "[Barack Obama] visited [Paris]."
    assert marked == [0, 1]
    text, marked = insert_markers(tokens, [Span(3, 4, "LOC"), Span(0, 2, "PER"), Span(1, 2, "PER")], "en", ("<<", ">>"))
    assert text.count("<<") == text.count(">>") == 2 and marked == [1, 0]  # the overlapping entity is not marked
    with pytest.raises(XlnerError, match="markers"):
        insert_markers(tokens, [], "en", ("[", "["))


@pytest.mark.parametrize(
    "text, spans, repaired, recovered, lost",
    [
        ("[Barack Obama] ya ziyarci [Paris].", [(0, 2, "PER"), (4, 5, "LOC")], 0, 0, 0),
        ("[Barack Obama ya ziyarci [Paris].", [(0, 2, "PER"), (4, 5, "LOC")], 1, 0, 0),  # first never closed
        ("Barack Obama] ya ziyarci Paris].", [(0, 2, "PER"), (4, 5, "LOC")], 2, 0, 0),  # no opening markers
        ("[Barack Obama] ya ziyarci [Paris", [(0, 2, "PER"), (4, 5, "LOC")], 1, 0, 0),  # open at the end
        ("[Obama] ya ziyarci Paris .", [(0, 1, "PER"), (3, 4, "LOC")], 0, 1, 0),  # lost markers, fuzzy match
        ("ya ziyarci [Pariis] tare da Barack Obama.", [(2, 3, "LOC"), (5, 7, "PER")], 0, 1, 0),  # order by similarity
        ("[] ya ziyarci [Paris]", [(2, 3, "LOC")], 0, 0, 1),  # empty markers, entity not in the text
        ("[Shugaba Obama] da [Faransa] [Paris]", [(0, 2, "PER"), (4, 5, "LOC")], 0, 0, 0),  # one marked span too many
    ],
)
def test_parse_broken_markers(text, spans, repaired, recovered, lost):
    parsed = _parse(text)
    assert [(s.start, s.end, s.label) for s in parsed.spans] == spans
    assert "[" not in parsed.tokens and "]" not in parsed.tokens
    assert (parsed.report.repaired, parsed.report.recovered, parsed.report.lost) == (repaired, recovered, lost)
    assert parsed.report.entities == 2 and parsed.report.projected == 2 - lost


def test_labels_follow_marker_order_when_counts_agree():
    parsed = _parse("[Kasar Faransa] ta karbi [shugaban]")  # nothing similar: order decides
    assert [(s.start, s.end, s.label) for s in parsed.spans] == [(0, 2, "PER"), (4, 5, "LOC")]


def test_custom_markers_and_locate_phrase():
    parsed = _parse("<<Barack Obama>> ya ziyarci <<Paris>> [sic]", markers=("<<", ">>"))
    assert [(s.start, s.end) for s in parsed.spans] == [(0, 2), (4, 5)]
    assert "[" in parsed.tokens  # other brackets are text
    tokens = "Shugaba Barack Obama ya je Paris".split()
    assert locate_phrase(tokens, ["barack", "obama"]) == (1, 3)
    assert locate_phrase(tokens, ["Pariss"], threshold=0.5) == (5, 6)
    assert locate_phrase(tokens, ["Paris"], taken=[(5, 6)]) is None
    assert locate_phrase(tokens, ["London"]) is None


def test_report_adds_up():
    total = MarkerReport(2, 1, 0, 1, 1) + MarkerReport(3, 3, 1, 0, 0)
    assert total == MarkerReport(5, 4, 1, 1, 1)
    assert "4 of 5" in total.summary() and "1 lost" in total.summary()


# ---------------------------------------------------------------- pipelines with small fake components

EN_HA = {
    "visited": "ya ziyarci",
    "on": "a",
    "Monday": "ranar Litinin",
    "the": "",
    "city": "birnin",
    "met": "sun hadu da",
}
HA_EN = {"ya": "", "ziyarci": "visited", "a": "on", "ranar": "", "Litinin": "Monday", "birnin": "the city"}


class WordTranslator:
    """Word by word with a dictionary (unknown words copied), markers kept; ``drop`` removes that marker."""

    def __init__(self, drop: str | None = None):
        self.drop = drop
        self.calls: list[list[str]] = []

    def translate(self, sentences, src_lang, tgt_lang):
        self.calls.append(list(sentences))
        table = EN_HA if src_lang == "en" else HA_EN
        out = []
        for text in sentences:
            words = [table.get(w, w) for w in re.findall(r"\[|\]|[^\s\[\]]+", text) if w != self.drop]
            out.append(re.sub(r"\s+", " ", " ".join(words)).strip())
        return out


class CapitalTagger:
    """Each maximal run of capitalised words (but 'Monday') is a PER entity (LOC if it is 'Paris' or 'Kano')."""

    def tag(self, sentences):
        out = []
        for words in sentences:
            spans, start = [], None
            for i, w in enumerate(list(words) + [""]):
                name = w[:1].isupper() and w != "Monday"
                if name and start is None:
                    start = i
                elif not name and start is not None:
                    label = "LOC" if words[start] in ("Paris", "Kano") else "PER"
                    spans.append(Span(start, i, label))
                    start = None
            out.append(spans)
        return out


registry.translators.register("test-words")(lambda drop=None: WordTranslator(drop))
registry.taggers.register("test-capitals")(lambda: CapitalTagger())


def test_project_with_markers_translate_train_direction():
    sentences = [Sentence("Obama visited Paris on Monday".split(), [Span(0, 1, "PER"), Span(2, 3, "LOC")], "s1")]
    out, report = project_with_markers(sentences, WordTranslator(), "en", "ha")
    assert out[0].tokens == "Obama ya ziyarci Paris a ranar Litinin".split()
    assert out[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")] and out[0].id == "s1"
    assert report == MarkerReport(2, 2, 0, 0, 0)
    broken, report = project_with_markers(sentences, WordTranslator(drop="]"), "en", "ha")
    assert broken[0].spans == out[0].spans and report.repaired == 2


def test_translate_test_with_markers_and_model_transfer(tmp_path):
    targets = [
        Sentence("Obama ya ziyarci Kano a ranar Litinin".split(), [], "a"),
        Sentence("Buhari ya ziyarci birnin Paris".split(), [], "b"),
        Sentence("ya ziyarci".split(), [], "c"),
    ]
    gold = [
        Sentence(targets[0].tokens, [Span(0, 1, "PER"), Span(3, 4, "LOC")]),
        Sentence(targets[1].tokens, [Span(0, 1, "PER"), Span(4, 5, "LOC")]),
        Sentence(targets[2].tokens, []),
    ]
    common = dict(
        lang="ha",
        translator="test-words",
        tagger="test-capitals",
        tokenizer="whitespace",
        cache_dir=tmp_path,
        gold=gold,
    )
    result = translate_test(targets, method="markers", **common)
    assert [s.spans for s in result.sentences] == [g.spans for g in gold]
    assert [s.tokens for s in result.sentences] == [t.tokens for t in targets]
    assert result.report.micro.f1 == pytest.approx(1.0)
    assert result.pairs[0].src_tokens == "Obama visited Kano on Monday".split() and result.confidences == [
        1.0,
        1.0,
        1.0,
    ]
    broken = translate_test(
        targets,
        method="markers",
        translator_options={"drop": "["},
        method_options={"markers": "[ ]"},
        **{**common, "cache_dir": tmp_path / "broken"},
    )
    assert [s.spans for s in broken.sentences] == [g.spans for g in gold]
    direct = translate_test(targets, method="model-transfer", **common)
    # The tagger runs on the Hausa input itself: "Litinin" (Monday) is capitalised there.
    assert [s.spans for s in direct.sentences] == [gold[0].spans + [Span(6, 7, "PER")], gold[1].spans, []]
    assert direct.report.micro.precision == pytest.approx(4 / 5)
    with pytest.raises(XlnerError, match="fuzzy_threshold"):
        translate_test(targets, method="markers", method_options={"treshold": 0.5}, **common)


def test_translate_train_with_markers(tmp_path):
    sentences = [
        Sentence("Obama visited Paris".split(), [Span(0, 1, "PER"), Span(2, 3, "LOC")], "x"),
        Sentence("the city".split(), [], "y"),
    ]
    result = translate_train(
        sentences,
        lang="ha",
        translator="test-words",
        method="markers",
        tokenizer="whitespace",
        cache_dir=tmp_path,
        min_confidence=0.5,
    )
    assert result.sentences[0].tokens == "Obama ya ziyarci Paris".split()
    assert result.sentences[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
    assert result.kept == [0, 1] and result.sentences[1].tokens == ["birnin"]


def test_cli_translate_test_markers_and_model_transfer(tmp_path):
    from typer.testing import CliRunner

    from xlner.cli import app
    from xlner.io import read_sentences

    source = tmp_path / "in.txt"
    source.write_text("Obama ya ziyarci Kano a ranar Litinin\nBuhari ya ziyarci birnin Paris\n", encoding="utf-8")
    for method, first in (
        ("markers", [Span(0, 1, "PER"), Span(3, 4, "LOC")]),
        ("model-transfer", [Span(0, 1, "PER"), Span(3, 4, "LOC"), Span(6, 7, "PER")]),
    ):
        out = tmp_path / f"{method}.conll"
        args = [
            "translate-test",
            str(source),
            "--lang",
            "ha",
            "--translator",
            "test-words",
            "--tagger",
            "test-capitals",
            "--tokenizer",
            "whitespace",
            "--method",
            method,
            "--input-format",
            "text",
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        labelled = read_sentences(out)
        assert labelled[0].spans == first and labelled[1].spans == [Span(0, 1, "PER"), Span(4, 5, "LOC")]
