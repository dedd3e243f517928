"""One spec per pipeline command: every PipelineSpec field is a flag and a config key, the job hash covers the
whole spec, and the in-memory and sharded runs execute the same steps."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields, replace

import pytest

from xlner.cli import pipelines as cli
from xlner.config import command_params
from xlner.engines.jobs import run_job
from xlner.pipeline import (
    MARKER_METHODS,
    RUN_ONLY_FIELDS,
    UNUSED_FIELDS,
    AlignStep,
    MarkerStep,
    PipelineSpec,
    ProjectStep,
    TagStep,
    TranslateStep,
    build_steps,
)
from xlner.types import Sentence, Span

COMMANDS = {"test": cli.translate_test, "train": cli.translate_train}


def _flags(kind: str) -> set[str]:
    return set(inspect.signature(COMMANDS[kind]).parameters)


@pytest.mark.parametrize("kind", ["test", "train"])
def test_every_spec_field_is_a_flag_and_a_config_key(kind):
    flags, keys = _flags(kind), set(command_params(COMMANDS[kind]))
    for f in fields(PipelineSpec):
        if f.name in UNUSED_FIELDS[kind]:
            continue
        sources = cli.SPEC_SOURCES[f.name]
        reachable = [s for s in sources if s in flags]
        assert reachable, f"PipelineSpec.{f.name} has no flag in translate-{kind}"
        assert all(s.rstrip("_") in keys for s in reachable), f"PipelineSpec.{f.name}: not a config key"
    assert set(cli.SPEC_SOURCES) == {f.name for f in fields(PipelineSpec)}


@pytest.mark.parametrize("kind", ["test", "train"])
def test_every_job_option_is_a_flag(kind):
    job_options = [
        name
        for name, p in inspect.signature(run_job).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "ray_options"
    ]
    assert set(job_options) <= _flags(kind)
    assert {"ray_address", "num_cpus", "workers"} <= _flags(kind)  # the fields of RayOptions the CLI sets


@pytest.mark.parametrize("kind", ["test", "train"])
def test_cli_defaults_are_the_spec_and_job_defaults(kind):
    table = cli.TEST_DEFAULTS if kind == "test" else cli.TRAIN_DEFAULTS
    for f in fields(PipelineSpec):
        if f.name in table and f.default is not MISSING:
            assert table[f.name] == f.default, f.name
    for name, p in inspect.signature(run_job).parameters.items():
        if name in table and name != "shard_size":  # the CLI's None means: no sharding locally, 1000 on ray
            assert table[name] == p.default, name
    assert set(table) <= {k.rstrip("_") for k in _flags(kind)}


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, float):
        return 0.5
    if isinstance(value, int):
        return value + 7
    if isinstance(value, str):
        return value + "x"
    return {"changed": 1}  # None or an options mapping


@pytest.mark.parametrize("kind", ["test", "train"])
def test_the_job_hash_covers_every_field_that_changes_output(kind, tmp_path):
    spec = PipelineSpec(lang="hau", translator="file", translator_options={"path": str(tmp_path / "t.txt")})
    base = spec.describe(kind)
    for f in fields(PipelineSpec):
        value = getattr(spec, f.name)
        if f.name == "back_translations":
            value = None
            new = str(tmp_path / "back.txt")
        elif f.name == "min_confidence":
            new = 0.5
        else:
            new = _changed(value)
        changed = replace(spec, **{f.name: new}).describe(kind)
        if f.name in RUN_ONLY_FIELDS or f.name in UNUSED_FIELDS[kind]:
            assert changed == base, f"{f.name} changes the hash but not the output"
        else:
            assert changed != base, f"{f.name} changes the output but not the job hash"


def test_a_file_named_in_the_spec_counts_by_contents(tmp_path):
    translations = tmp_path / "t.txt"
    translations.write_text("a\n", encoding="utf-8")
    spec = PipelineSpec(lang="hau", translator="file", translator_options={"path": str(translations)})
    before = spec.describe("train")
    translations.write_text("a longer line\n", encoding="utf-8")
    assert spec.describe("train") != before


@pytest.mark.parametrize(
    ("kind", "method", "expected"),
    [
        ("test", "ilp", [TranslateStep, TagStep, AlignStep, ProjectStep]),
        ("train", "heuristic", [TranslateStep, AlignStep, ProjectStep]),
        ("test", "markers", [MarkerStep]),
        ("train", "markers", [MarkerStep]),
        ("test", "model-transfer", [MarkerStep]),
    ],
)
def test_one_list_of_steps_per_kind_and_method(kind, method, expected):
    steps = build_steps(kind, PipelineSpec(lang="hau", method=method))
    assert [type(s.fn) for s in steps] == expected
    assert all(s.model for s in steps if isinstance(s.fn, (TranslateStep, TagStep, MarkerStep)))


def test_model_transfer_is_refused_for_translate_train():
    with pytest.raises(Exception, match="translate-test method"):
        build_steps("train", PipelineSpec(lang="hau", method="model-transfer"))
    assert "model-transfer" in MARKER_METHODS


def test_steps_pickle_and_run_on_a_batch(tmp_path):
    """The steps Ray ships to workers are picklable and turn a Batch into projected pairs."""
    import pickle

    from xlner.pipeline import Batch

    translations = tmp_path / "t.txt"
    translations.write_text("Obama ya tafi Kano\n", encoding="utf-8")
    spec = PipelineSpec(
        lang="hau",
        translator="file",
        translator_options={"path": str(translations)},
        aligner="eflomal",
        aligner_options={"n_iterations": [1, 1, 1]},
        method="heuristic",
        tokenizer="whitespace",
        use_cache=False,
    )
    steps = pickle.loads(pickle.dumps(build_steps("train", spec)))
    batch = Batch([Sentence(["Obama", "went", "to", "Kano"], [Span(0, 1, "PER"), Span(3, 4, "LOC")], "0")])
    for step in steps:
        batch = step.fn(batch)
    (pair, confidence, kept) = batch.outputs()[0]
    assert pair.tgt_tokens == ["Obama", "ya", "tafi", "Kano"] and kept and 0.0 <= confidence <= 1.0
    assert pair.alignment is not None and pair.tgt_spans is not None
