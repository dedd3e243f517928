"""User errors through the CLI: exit 2, exactly one ``error:`` line, no traceback, and before any work.

Every case runs with the work itself booby-trapped: reading inputs, creating
an aligner or translator, and running an experiment fail the test when called,
so a check that happens late (after alignment or translation) fails here.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner import hub
from xlner.cli import app
from xlner.registry import registry

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class WorkStarted(AssertionError):
    """Raised by the booby-trapped work: the command did work before validating."""


def _boom(*args, **kwargs):
    raise WorkStarted("work started before the options were checked")


def _trapped(factory):
    """``factory`` with its signature, failing the test when called."""
    return functools.wraps(factory)(lambda *args, **kwargs: _boom())


@pytest.fixture()
def files(tmp_path, monkeypatch) -> dict[str, Path]:
    """Tiny inputs, and every kind of work replaced by :func:`_boom`."""
    paths = {
        "src": tmp_path / "src.conll",
        "tgt": tmp_path / "tgt.txt",
        "links": tmp_path / "links.txt",
        "out": tmp_path / "out.conll",
        "tr": tmp_path / "translations.txt",
    }
    paths["src"].write_text("John\tB-PER\nlives\tO\nin\tO\nBerlin\tB-LOC\n\n", encoding="utf-8")
    paths["tgt"].write_text("John wohnt in Berlin\n", encoding="utf-8")
    paths["tr"].write_text("John wohnt in Berlin\n", encoding="utf-8")
    paths["links"].write_text("0-0 1-1 2-2 3-3\n", encoding="utf-8")
    import xlner.experiment
    import xlner.io.text

    for module, reader in ((xlner.io, "read_sentences"), (xlner.io, "read_corpus"), (xlner.io.text, "read_corpus")):
        if hasattr(module, reader):
            monkeypatch.setattr(module, reader, _boom)
    monkeypatch.setattr(xlner.experiment, "run_experiment", _boom)
    for kind in (registry.aligners, registry.translators, registry.taggers):
        kind.names()  # load the real factories, then trap each one
        for name in list(kind._factories):
            monkeypatch.setitem(kind._factories, name, _trapped(kind._factories[name]))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a closed port: the hub is unreachable, fast
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub._reachable.cache_clear()
    return paths


def _project(f: dict[str, Path], *extra: str) -> list[str]:
    return [
        "project",
        "-s",
        str(f["src"]),
        "-t",
        str(f["tgt"]),
        "-o",
        str(f["out"]),
        "--alignment",
        str(f["links"]),
        *extra,
    ]


def _train(f: dict[str, Path], *extra: str) -> list[str]:
    return [
        "translate-train",
        str(f["src"]),
        "--lang",
        "deu",
        "-o",
        str(f["out"]),
        "--translator",
        "file",
        "--translations",
        str(f["tr"]),
        "--tokenizer",
        "whitespace",
        "--no-cache",
        *extra,
    ]


def _train_hf(f: dict[str, Path], *extra: str) -> list[str]:
    return ["translate-train", str(f["src"]), "-o", str(f["out"]), "--translator", "hf", "--no-cache", *extra]


def _test(f: dict[str, Path], *extra: str) -> list[str]:
    return [
        "translate-test",
        str(f["tgt"]),
        "--lang",
        "hau",
        "-o",
        str(f["out"]),
        "--tagger",
        "gold",
        "--tagger-labels",
        str(f["src"]),
        "--no-cache",
        *extra,
    ]


def _error_line(result, *expected: str) -> str:
    """The one ``error:`` line of a failed command, after checking exit 2 and no traceback."""
    text = result.output
    assert result.exit_code == 2, text
    assert not isinstance(result.exception, WorkStarted), text
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    for word in expected:
        assert word in lines[0], lines[0]
    return lines[0]


# (name, argument builder, extra arguments, words the error line must contain)
CASES = [
    ("threshold-abc", _project, ["--option", "threshold=abc"], ["threshold", "number"]),
    ("top_k-word", _project, ["--method", "heuristic", "--option", "top_k=many"], ["top_k", "integer"]),
    ("weights-3", _project, ["--option", "weights=3"], ["weights", "table"]),
    ("weights-unknown-scorer", _project, ["--option", "weights={alignmnt: 1}"], ["alignmnt", "scorer"]),
    ("max_words-negative", _project, ["--option", "max_words=-5"], ["max_words", ">= 1"]),
    ("constraint", _project, ["--option", "constraint=at most one"], ["constraint"]),
    ("unknown-option", _project, ["--option", "tresh=1"], ["tresh"]),
    ("unknown-method", _project, ["--method", "ilpp"], ["ilpp"]),
    ("preset-method-fit", _project, ["--method", "heuristic", "--preset", "offline"], ["offline", "heuristic"]),
    ("unknown-preset", _project, ["--preset", "nope"], ["nope"]),
    ("aligner-option", ["project"], ["--aligner-option", "foo=1"], ["--aligner-option", "foo"]),
    ("batch-size-0", _train, ["--batch-size", "0"], ["--batch-size", ">= 1"]),
    ("batch-size-negative", _train, ["--batch-size", "-1"], ["--batch-size"]),
    ("shard-size-0", _train, ["--shard-size", "0"], ["--shard-size"]),
    ("train-method", _train, ["--method", "nope"], ["--method", "nope"]),
    ("train-method-option-name", _train, ["--method-option", "treshold=0.3"], ["treshold"]),
    ("train-method-option-type", _train, ["--method-option", "threshold=abc"], ["threshold", "number"]),
    ("train-max-words", _train, ["--method-option", "max_words=-5"], ["max_words"]),
    ("train-aligner-option", _train, ["--aligner-option", "foo=1"], ["foo"]),
    ("train-markers-option", _train, ["--method", "markers", "--method-option", "fuzzy_threshold=abc"], ["markers"]),
    ("train-min-confidence", _train, ["--min-confidence", "2"], ["--min-confidence"]),
    ("train-tokenizer", _train, ["--tokenizer", "mosez"], ["mosez", "moses"]),
    ("train-lang-hf", _train_hf, ["--lang", "xxx"], ["--lang", "xxx"]),
    ("train-translations-missing", _train, ["--translations", "/nonexistent/tr.txt"], ["/nonexistent/tr.txt"]),
    ("test-lang-hf", _test, ["--lang", "xxx"], ["--lang", "xxx"]),
    (
        "test-method",
        _test,
        ["--translator", "file", "--translations", "TR", "--method", "model-transfr"],
        ["model-transfr"],
    ),
    (
        "test-tagger-option",
        _test,
        ["--translator", "file", "--translations", "TR", "--tagger-option", "colour=1"],
        ["colour"],
    ),
    ("test-shard-size", _test, ["--translator", "file", "--translations", "TR", "--shard-size", "0"], ["--shard-size"]),
]


@pytest.mark.parametrize("name, build, extra, words", CASES, ids=[c[0] for c in CASES])
def test_user_error_is_one_line_before_any_work(files, name, build, extra, words):
    extra = [str(files["tr"]) if x == "TR" else x for x in extra]
    if isinstance(build, list):  # a command run with an aligner instead of --alignment
        args = ["project", "-s", str(files["src"]), "-t", str(files["tgt"]), "-o", str(files["out"]), *extra]
    else:
        args = build(files, *extra)
    _error_line(runner.invoke(app, args), *words)


def test_none_none_and_null_all_mean_none():
    from xlner.config import parse_key_values

    assert parse_key_values(["top_k=None", "a=none", "b=null", "c=~", "d=0.5", "e=!?.;:"]) == {
        "top_k": None,
        "a": None,
        "b": None,
        "c": None,
        "d": 0.5,
        "e": "!?.;:",
    }


@pytest.mark.parametrize("how", ["file", "unwritable", "under-a-file"])
def test_cache_dir_that_cannot_be_used(files, tmp_path, how):
    cache = {"file": files["src"], "unwritable": Path("/proc/xlner-cache"), "under-a-file": files["src"] / "cache"}[how]
    args = [a for a in _train(files) if a != "--no-cache"] + ["--cache-dir", str(cache)]
    _error_line(runner.invoke(app, args), "--cache-dir")


def test_config_file_errors(files, tmp_path):
    cases = {
        "latin1.toml": ('lang = "d\xe9"\n'.encode("latin-1"), ["latin1.toml", "UTF-8"]),
        "unknown.toml": (b'extra_paralel = "/data"\n', ["unknown.toml", "extra_paralel", "extra_parallel"]),
        "type.toml": (b'batch_size = "many"\n', ["type.toml", "batch_size", "integer"]),
        "bool.yaml": (b"no_cache: 3\n", ["bool.yaml", "no_cache"]),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        _error_line(runner.invoke(app, [*_train(files), "--config", str(path)]), *words)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"option = 3\n")
    _error_line(runner.invoke(app, [*_project(files), "--config", str(bad)]), "bad.toml", "option")


def test_experiment_errors(files, tmp_path):
    base = (EXAMPLES / "multimodal.toml").read_text(encoding="utf-8")
    base = re.sub(r"(?m)^bootstrap_samples\s*=.*$", "", base)
    many = tmp_path / "many.toml"
    many.write_text('bootstrap_samples = "many"\n' + base, encoding="utf-8")
    _error_line(
        runner.invoke(app, ["experiment", str(many), "-o", str(tmp_path / "res")]), "many.toml", "bootstrap_samples"
    )
    good = tmp_path / "good.toml"
    good.write_text(base, encoding="utf-8")
    _error_line(runner.invoke(app, ["experiment", str(good), "-o", str(tmp_path / "res"), "--limit", "-5"]), "--limit")
    _error_line(
        runner.invoke(app, ["experiment", str(good), "-o", str(tmp_path / "res"), "--cache-dir", str(files["src"])]),
        "--cache-dir",
    )


needs_hf = pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs the hf extra")


@needs_hf
@pytest.mark.parametrize("flag", ["--model", "--tagger-model"])
def test_unreachable_hub_model_fails_fast_naming_the_model(files, flag):
    args = _test(files, "--translator", "hf", "--model", "fake-org/no-such-model-xlner")
    if flag == "--tagger-model":
        args = [
            "translate-test",
            str(files["tgt"]),
            "--lang",
            "hau",
            "-o",
            str(files["out"]),
            "--translator",
            "file",
            "--translations",
            str(files["tr"]),
            "--tagger",
            "hf",
            "--tagger-model",
            "fake-org/no-such-ner-xlner",
        ]
    started = time.perf_counter()
    line = _error_line(runner.invoke(app, args), "fake-org/no-such-", "HF_HOME", "HF_HUB_OFFLINE=1", "folder")
    assert time.perf_counter() - started < 10, line


@needs_hf
def test_missing_model_folder(files, tmp_path):
    _error_line(runner.invoke(app, _test(files, "--model", str(tmp_path / "no-model"))), "no-model", "not found")
