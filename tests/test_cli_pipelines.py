"""`xlner translate-test` / `translate-train` end to end on real data (bam translate-test, hau translate-train).

Translations are the published NLLB-200 ones (bam-translate-test/PROVENANCE.md); the
English tagger is ``gold`` over the published English predictions; the aligner is eflomal
(few iterations, to stay fast). Re-runs and resumed runs are checked by counting calls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.io import read_conll, write_conll
from xlner.registry import registry
from xlner.translate.detok import detokenize

N_SENTENCES = 80
EFLOMAL_FAST = ["--aligner-option", "n_iterations=[2,2,4]"]
runner = CliRunner()

CALLS: list[int] = []
FAIL_AFTER: list[int] = []  # a batch count after which the lookup translator dies (empty: never)


class LookupTranslator:
    """A batchable translator answering from a JSON {source text: translation} file; counts batches."""

    def __init__(self, path: str):
        self.table = json.loads(Path(path).read_text(encoding="utf-8"))

    def translate(self, sentences, src_lang, tgt_lang):
        if FAIL_AFTER and len(CALLS) >= FAIL_AFTER[0]:
            raise RuntimeError("translator killed")
        CALLS.append(len(sentences))
        return [self.table[s] for s in sentences]


registry.translators.register("test-lookup")(lambda path: LookupTranslator(path))


@pytest.fixture(scope="module")
def bam(shared_data, tmp_path_factory) -> dict[str, Path]:
    """The first sentences of MasakhaNER 2.0 bam test (DATE->O) with their English translations and tags."""
    sample = shared_data / "bam-translate-test" / "transalign" / "sample_data"
    english_tokens = (
        shared_data
        / "bam-translate-test"
        / "devil-in-details"
        / "data"
        / "intermediate"
        / "nllb"
        / "masakhaner"
        / "test-translate-bam-en"
        / "en-tokens.txt"
    )
    folder = tmp_path_factory.mktemp("bam")
    target = read_conll(sample / "test-bam.txt").sentences[:N_SENTENCES]
    english = read_conll(sample / "test-translate-bam-en-preds.txt", policy="repair").sentences[:N_SENTENCES]
    lines = english_tokens.read_text(encoding="utf-8").splitlines()[:N_SENTENCES]
    assert [line.split() for line in lines] == [s.tokens for s in english]  # as PROVENANCE.md says
    paths = {
        "bam": folder / "bam.conll",
        "en_tags": folder / "en-tags.conll",
        "en_txt": folder / "en.txt",
        "table": folder / "table.json",
    }
    write_conll(paths["bam"], target)
    write_conll(paths["en_tags"], english)
    paths["en_txt"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = {detokenize(t.tokens, "bam"): line for t, line in zip(target, lines)}
    paths["table"].write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return paths


def _translate_test(bam: dict[str, Path], out: Path, cache: Path, *extra: str):
    args = [
        "translate-test",
        str(bam["bam"]),
        "--lang",
        "bam",
        "-o",
        str(out),
        "--input-format",
        "conll",
        "--tokenizer",
        "whitespace",
        "--tagger",
        "gold",
        "--tagger-labels",
        str(bam["en_tags"]),
        "--aligner",
        "eflomal",
        *EFLOMAL_FAST,
        "--cache-dir",
        str(cache),
        "--batch-size",
        "16",
        *extra,
    ]
    return runner.invoke(app, args, catch_exceptions=True)


def test_translate_test_end_to_end_with_precomputed_translations(bam, tmp_path):
    out = tmp_path / "out.conll"
    result = _translate_test(
        bam,
        out,
        tmp_path / "cache",
        "--translator",
        "file",
        "--translations",
        str(bam["en_txt"]),
        "--gold",
        str(bam["bam"]),
    )
    assert result.exit_code == 0, result.output
    predicted = read_conll(out).sentences
    gold = read_conll(bam["bam"]).sentences
    assert [p.tokens for p in predicted] == [g.tokens for g in gold]
    n_spans = sum(len(p.spans) for p in predicted)
    assert 0.5 * sum(len(g.spans) for g in gold) < n_spans  # most entities find a place
    assert "micro avg" in result.output and f"with {n_spans} entities" in result.output
    from xlner.metrics import evaluate_spans

    f1 = evaluate_spans([g.spans for g in gold], [p.spans for p in predicted]).micro.f1
    assert f1 > 0.15  # far above chance even with a briefly trained aligner (the published full run: 0.55)


def test_rerun_does_no_translation_work(bam, tmp_path):
    CALLS.clear()
    cache = tmp_path / "cache"
    first = _translate_test(
        bam, tmp_path / "a.conll", cache, "--translator", "test-lookup", "--translator-option", f"path={bam['table']}"
    )
    assert first.exit_code == 0, first.output
    assert CALLS == [16] * (N_SENTENCES // 16) + ([N_SENTENCES % 16] if N_SENTENCES % 16 else [])
    CALLS.clear()
    second = _translate_test(
        bam, tmp_path / "b.conll", cache, "--translator", "test-lookup", "--translator-option", f"path={bam['table']}"
    )
    assert second.exit_code == 0, second.output
    assert CALLS == []
    assert (tmp_path / "a.conll").read_bytes() == (tmp_path / "b.conll").read_bytes()


def test_killed_run_resumes_with_byte_identical_output(bam, tmp_path):
    options = ("--translator", "test-lookup", "--translator-option", f"path={bam['table']}")
    reference = _translate_test(bam, tmp_path / "reference.conll", tmp_path / "cache-ref", *options)
    assert reference.exit_code == 0, reference.output
    CALLS.clear()
    FAIL_AFTER.append(2)
    try:
        killed = _translate_test(bam, tmp_path / "out.conll", tmp_path / "cache", *options)
    finally:
        FAIL_AFTER.clear()
    assert killed.exit_code != 0 and isinstance(killed.exception, RuntimeError)
    assert not (tmp_path / "out.conll").exists() and len(CALLS) == 2
    CALLS.clear()
    resumed = _translate_test(bam, tmp_path / "out.conll", tmp_path / "cache", *options)
    assert resumed.exit_code == 0, resumed.output
    assert sum(CALLS) == N_SENTENCES - 2 * 16  # only what the killed run had not done
    assert (tmp_path / "out.conll").read_bytes() == (tmp_path / "reference.conll").read_bytes()


def test_config_file_with_flag_override(bam, tmp_path, monkeypatch):
    import xlner.pipeline

    methods = []
    real_step_project = xlner.pipeline.step_project

    def recording_step_project(pairs, method, options):
        methods.append(method)
        return real_step_project(pairs, method, options)

    monkeypatch.setattr(xlner.pipeline, "step_project", recording_step_project)
    config = tmp_path / "run.yaml"
    config.write_text(
        f"lang: bam\ntranslator: file\ntranslations: {bam['en_txt']}\ntokenizer: whitespace\ntagger: gold\n"
        f"tagger-labels: {bam['en_tags']}\ninput_format: conll\nmethod: greedy\naligner_option:\n  n_iterations: [2, 2, 4]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        [
            "translate-test",
            str(bam["bam"]),
            "-o",
            str(out),
            "--config",
            str(config),
            "--method",
            "heuristic",
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert methods == ["heuristic"]  # the flag overrides the config's method
    assert len(out.read_text(encoding="utf-8").splitlines()) == N_SENTENCES


def test_wrong_number_of_translations_names_both_counts(bam, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("one line\n", encoding="utf-8")
    result = _translate_test(
        bam, tmp_path / "o.conll", tmp_path / "c", "--translator", "file", "--translations", str(short)
    )
    assert result.exit_code == 2
    assert "has 1 lines" in result.output and f"the input has {N_SENTENCES} sentences" in result.output


def test_missing_required_options(bam, tmp_path):
    result = runner.invoke(app, ["translate-test", str(bam["bam"]), "-o", str(tmp_path / "o.conll")])
    assert result.exit_code == 2 and "missing --lang" in result.output


def test_translate_train_with_confidence_filter(shared_data, tmp_path):
    folder = shared_data / "translate-train" / "hau"
    english = read_conll(folder / "en.conll").sentences[:60]
    hausa = read_conll(folder / "tgt.conll", policy="repair").sentences[:60]
    write_conll(tmp_path / "en.conll", english)
    (tmp_path / "hau.txt").write_text("".join(" ".join(s.tokens) + "\n" for s in hausa), encoding="utf-8")

    def run(threshold: float) -> list[dict]:
        args = [
            "translate-train",
            str(tmp_path / "en.conll"),
            "--lang",
            "hau",
            "-o",
            str(tmp_path / "silver.conll"),
            "--translator",
            "file",
            "--translations",
            str(tmp_path / "hau.txt"),
            "--tokenizer",
            "whitespace",
            *EFLOMAL_FAST,
            "--min-confidence",
            str(threshold),
            "--details",
            str(tmp_path / "details.jsonl"),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in (tmp_path / "details.jsonl").read_text(encoding="utf-8").splitlines()]

    # a threshold between the confidences this data really gets, so the filter must keep some and drop some
    levels = sorted({d["confidence"] for d in run(0.0)})
    assert len(levels) >= 2
    middle = len(levels) // 2
    threshold = (levels[middle - 1] + levels[middle]) / 2  # strictly between two levels: no rounding ties
    details = run(threshold)
    assert len(details) == 60
    assert all(d["kept"] == (d["confidence"] >= threshold) for d in details)
    silver = read_conll(tmp_path / "silver.conll").sentences
    kept = [d for d in details if d["kept"]]
    assert 0 < len(silver) == len(kept) < 60
    assert [s.tokens for s in silver] == [d["tgt_tokens"] for d in kept]
    assert [s.tokens for s in silver] == [h.tokens for h, d in zip(hausa, details) if d["kept"]]
