"""Projection option types (xlner.project.validate), config-file checks (xlner.config) and fast hub errors (xlner.hub)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import List, Optional

import pytest

from xlner import hub
from xlner.config import check_config, command_params
from xlner.errors import XlnerError
from xlner.project.config import HEURISTIC_OPTIONS, MATCHING_OPTIONS, PRESETS, resolve_options
from xlner.project.validate import HEURISTIC_TYPES, MATCHING_TYPES, check_options


def test_every_option_has_a_declared_type_and_its_default_passes():
    for method, table, types in (
        ("heuristic", HEURISTIC_OPTIONS, HEURISTIC_TYPES),
        ("ilp", MATCHING_OPTIONS, MATCHING_TYPES),
    ):
        assert set(table) == set(types), f"declare the type of each {method} option in xlner.project.validate"
        defaults = {name: default for name, (default, _) in table.items()}
        assert check_options(method, defaults) == defaults


def test_every_preset_passes_its_methods_and_names_them_for_the_others():
    for name, preset in PRESETS.items():
        assert preset.methods in (("heuristic",), ("ilp", "greedy")), name
        for method in ("heuristic", "ilp", "greedy"):
            if method in preset.methods:
                resolve_options(method, {"preset": name})
                continue
            with pytest.raises(XlnerError) as caught:
                resolve_options(method, {"preset": name})
            assert f"preset {name!r} is for method {' or '.join(preset.methods)}, not {method!r}" in str(caught.value)


@pytest.mark.parametrize("value", [None, "None", "none", "null", "NULL"])
def test_none_words_mean_none_where_none_is_allowed(value):
    assert resolve_options("heuristic", {"top_k": value})["top_k"] is None
    assert resolve_options("ilp", {"exact_match_score": value})["exact_match_score"] is None


def test_coercion_of_unambiguous_strings():
    opts = resolve_options(
        "ilp", {"threshold": "0.5", "max_words": "3", "ngrams": "false", "weights": {"alignment": "2"}}
    )
    assert (opts["threshold"], opts["max_words"], opts["ngrams"], opts["weights"]) == (
        0.5,
        3,
        False,
        {"alignment": 2.0},
    )


@pytest.mark.parametrize(
    "method, options, words",
    [
        ("ilp", {"threshold": "abc"}, ["threshold", "number"]),
        ("ilp", {"threshold": float("nan")}, ["threshold"]),
        ("ilp", {"max_words": 0}, ["max_words", ">= 1"]),
        ("ilp", {"max_words": True}, ["max_words", "integer"]),
        ("ilp", {"weights": 3}, ["weights", "table"]),
        ("ilp", {"weights": {"alignment": "x"}}, ["weights.alignment"]),
        ("ilp", {"weights": {"strin": 1.0}}, ["strin"]),
        ("ilp", {"normalize": "max"}, ["normalize", "entity-max"]),
        ("ilp", {"constraint": "one"}, ["constraint"]),
        ("ilp", {"solver": "nope"}, ["solver"]),
        ("ilp", {"ngrams": "maybe"}, ["ngrams", "true or false"]),
        ("heuristic", {"top_k": 0}, ["top_k", ">= 1", "None"]),
        ("heuristic", {"merge_distance": -1}, ["merge_distance", ">= 0"]),
        ("heuristic", {"keep": "long"}, ["keep", "longest"]),
    ],
)
def test_bad_values_name_the_option(method, options, words):
    with pytest.raises(XlnerError) as caught:
        resolve_options(method, options)
    for word in words:
        assert word in str(caught.value)


def _command(
    lang: Optional[str] = None,
    ignore: Optional[List[str]] = None,
    extra_parallel: Optional[List[Path]] = None,
    batch_size: Optional[int] = None,
    evaluate: bool = False,
    min_confidence: Optional[float] = None,
    option: Optional[List[str]] = None,
    map_: Optional[List[str]] = None,
) -> None:
    """A stand-in for a CLI command: only its signature matters."""


def test_config_strings_become_one_list_element_never_characters(tmp_path):
    params = command_params(_command)
    assert set(params) == {
        "lang",
        "ignore",
        "extra_parallel",
        "batch_size",
        "evaluate",
        "min_confidence",
        "option",
        "map",
    }
    config = check_config(
        {"ignore": "MISC", "extra_parallel": "/data/parallel", "map": ["DATE=O"], "option": "threshold=0.3"},
        params,
        tmp_path / "c.toml",
    )
    assert config == {
        "ignore": ["MISC"],
        "extra_parallel": ["/data/parallel"],
        "map": ["DATE=O"],
        "option": {"threshold": 0.3},
    }


@pytest.mark.parametrize(
    "config, words",
    [
        ({"extra_paralel": "/x"}, ["extra_paralel", "did you mean extra_parallel"]),
        ({"batch_size": "many"}, ["batch_size", "integer"]),
        ({"batch_size": 2.5}, ["batch_size", "integer"]),
        ({"evaluate": "yes"}, ["evaluate", "true or false"]),
        ({"min_confidence": "high"}, ["min_confidence", "number"]),
        ({"ignore": [{"a": 1}]}, ["ignore", "string"]),
        ({"option": 3}, ["option", "KEY=VALUE"]),
    ],
)
def test_config_errors_name_the_key_and_the_file(tmp_path, config, words):
    with pytest.raises(XlnerError) as caught:
        check_config(config, command_params(_command), tmp_path / "run.toml")
    assert str(caught.value).startswith(str(tmp_path / "run.toml"))
    for word in words:
        assert word in str(caught.value)


@pytest.fixture()
def no_hub(monkeypatch):
    """A hub that cannot be reached (a closed local port), offline mode unset."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    hub._reachable.cache_clear()
    yield
    hub._reachable.cache_clear()


def test_check_model(no_hub, tmp_path, monkeypatch):
    with pytest.raises(XlnerError, match="not found"):
        hub.check_model(tmp_path / "missing")
    (tmp_path / "model").mkdir()
    hub.check_model(tmp_path / "model")  # a folder is fine, whatever it holds
    with pytest.raises(XlnerError, match="cannot be reached"):
        hub.check_model("fake-org/no-such-model-xlner")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(XlnerError, match="HF_HUB_OFFLINE is set"):
        hub.check_model("fake-org/no-such-model-xlner")


def test_from_pretrained_tries_the_cache_first(no_hub):
    calls = []

    def load(name, **options):
        calls.append(options)
        return "model"

    assert hub.from_pretrained(load, "org/cached", use_fast=True) == "model"
    assert calls == [{"use_fast": True, "local_files_only": True}]  # found in the cache: the hub is never asked


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs the hf extra")
@pytest.mark.parametrize("loader", ["translator", "tagger", "encoder"])
def test_uncached_model_with_unreachable_hub_fails_within_seconds(no_hub, loader):
    from xlner.registry import registry

    name = "fake-org/no-such-model-xlner"
    started = time.perf_counter()
    with pytest.raises(XlnerError) as caught:
        if loader == "translator":
            from xlner.translate.hf import load_seq2seq

            load_seq2seq(name)
        elif loader == "tagger":
            registry.taggers.create("hf", model=name)
        else:
            registry.encoders.create("hf", name_or_path=name).embed_words([["a"]])
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    for word in (name, "folder", "HF_HOME", "HF_HUB_OFFLINE=1"):
        assert word in message, message
