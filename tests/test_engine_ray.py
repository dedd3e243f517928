"""Sharded jobs (xlner.engines): shard reading, local vs Ray output identity on real data, resume after a failure.

Ray tests share one local Ray instance (2 CPUs) and skip when Ray is not
installed (``pip install 'xlner[ray]'``).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from xlner.engines import JobFailed, RayOptions
from xlner.engines.jobs import iter_rows, translate_test_job, translate_train_job
from xlner.engines.shards import plan_shards, read_shard
from xlner.io import read_conll, read_sentences, write_conll, write_jsonl
from xlner.pipeline import Component
from xlner.types import Sentence

pytestmark = pytest.mark.slow  # left out of the fast loop (CONTRIBUTING.md)

TESTS = Path(__file__).resolve().parent
N_TRAIN = 200
EFLOMAL = {"progress": False, "seed": 0}


class FlakyAligner:
    """Monotone links; fails while ``folder/fail`` exists for a shard containing ``trigger``; logs each call in ``folder``."""

    def __init__(self, folder: str, trigger: str):
        self.folder = folder
        self.trigger = trigger

    def align(self, pairs):
        first = pairs[0][0][0] if pairs and pairs[0][0] else "-"
        Path(self.folder, "calls", f"{uuid.uuid4().hex}.txt").write_text(first, encoding="utf-8")
        if os.path.exists(os.path.join(self.folder, "fail")) and any(self.trigger in src for src, _ in pairs):
            raise RuntimeError("aligner died")
        return [frozenset((i, i) for i in range(min(len(s), len(t)))) for s, t in pairs]


def _flaky(folder: Path, trigger: str) -> Component:
    component = Component("aligners", "test-flaky", {"folder": str(folder), "trigger": trigger})
    component._instance = FlakyAligner(str(folder), trigger)  # shipped to Ray workers with the stage
    return component


@pytest.fixture(scope="module")
def hau(shared_data, tmp_path_factory) -> dict[str, Path]:
    """The first N_TRAIN translate-train/hau pairs: English CoNLL input and the tokenized translations, one per line."""
    folder = tmp_path_factory.mktemp("hau")
    source = shared_data / "translate-train" / "hau"
    english = read_conll(source / "en.conll").sentences[:N_TRAIN]
    target = read_conll(source / "tgt.conll").sentences[:N_TRAIN]
    write_conll(folder / "en.conll", english)
    (folder / "tgt.txt").write_text("".join(" ".join(s.tokens) + "\n" for s in target), encoding="utf-8")
    return {"en": folder / "en.conll", "tgt": folder / "tgt.txt", "sentences": english}


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])  # workers import this module's classes
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}}, log_to_driver=False)
    yield RayOptions(cpus_per_worker=0.5)
    ray.shutdown()


def _train_options(hau: dict, **extra):
    options = dict(
        lang="hau",
        translator="file",
        translator_options={"path": str(hau["tgt"])},
        aligner="eflomal",
        aligner_options=EFLOMAL,
        method="greedy",
        tokenizer="whitespace",
        use_cache=False,
    )
    options.update(extra)
    return options


def _rows(result) -> list[tuple]:
    return [
        (r["id"], r["tokens"], r["spans"], r["alignment"], r["confidence"], r["kept"])
        for r in iter_rows(result.shard_files)
    ]


# ---------------------------------------------------------------- shards (no Ray needed)


@pytest.mark.parametrize("fmt", ["conll", "jsonl"])
def test_shards_read_exactly_what_the_file_reader_reads(hau, tmp_path, fmt):
    path = hau["en"]
    if fmt == "jsonl":
        path = tmp_path / "en.jsonl"
        write_jsonl(path, [Sentence(s.tokens, s.spans, f"s{k}") for k, s in enumerate(hau["sentences"])])
    shards = plan_shards(path, "auto", 37, side_files={"translations": hau["tgt"]})
    assert [s["count"] for s in shards] == [37] * 5 + [15]
    read = [read_shard(s) for s in shards]
    expected = read_sentences(path, "auto", policy="repair")
    assert [i for r in read for i in r["ids"]] == [s.id for s in expected]
    assert [t for r in read for t in r["tokens"]] == [s.tokens for s in expected]
    assert [sp for r in read for sp in r["spans"]] == [[[x.start, x.end, x.label] for x in s.spans] for s in expected]
    lines = hau["tgt"].read_text(encoding="utf-8").splitlines()
    assert [t for r in read for t in r["translations"]] == lines


def test_parquet_shards_read_rows_ranges(hau, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    sentences = hau["sentences"][:45]
    table = pa.Table.from_pylist(
        [
            {
                "id": f"s{k}",
                "tokens": s.tokens,
                "spans": [{"start": x.start, "end": x.end, "label": x.label} for x in s.spans],
            }
            for k, s in enumerate(sentences)
        ]
    )
    pq.write_table(table, tmp_path / "en.parquet", row_group_size=10)
    shards = plan_shards(tmp_path / "en.parquet", "auto", 20)
    read = [read_shard(s) for s in shards]
    assert [len(r["ids"]) for r in read] == [20, 20, 5]
    assert [i for r in read for i in r["ids"]] == [f"s{k}" for k in range(45)]
    assert [t for r in read for t in r["tokens"]] == [s.tokens for s in sentences]
    assert [sp for r in read for sp in r["spans"]] == [[[x.start, x.end, x.label] for x in s.spans] for s in sentences]


def test_side_file_of_the_wrong_length_is_an_input_error(hau, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("a b\n" * 10, encoding="utf-8")
    with pytest.raises(Exception, match=f"10 translations but the input has {N_TRAIN} sentences"):
        plan_shards(hau["en"], "conll", 50, side_files={"translations": short})


def test_one_shard_local_job_equals_the_in_memory_pipeline(hau, tmp_path):
    from xlner.pipeline import translate_train

    job = translate_train_job(hau["en"], tmp_path / "out.conll", shard_size=N_TRAIN, **_train_options(hau))
    reference = translate_train(hau["sentences"], **_train_options(hau))
    got = read_conll(tmp_path / "out.conll").sentences
    assert [(s.tokens, s.spans) for s in got] == [(s.tokens, s.spans) for s in reference.sentences]
    assert job.computed == [0] and job.sentences == N_TRAIN


# ---------------------------------------------------------------- Ray vs local


def test_translate_train_ray_equals_local_on_real_pairs(hau, tmp_path, ray_instance):
    local = translate_train_job(
        hau["en"], tmp_path / "local.conll", shard_size=50, details=tmp_path / "local.jsonl", **_train_options(hau)
    )
    ray = translate_train_job(
        hau["en"],
        tmp_path / "ray.conll",
        shard_size=50,
        details=tmp_path / "ray.jsonl",
        engine="ray",
        ray_options=ray_instance,
        shard_format="parquet",
        **_train_options(hau),
    )
    assert sorted(ray.computed) == local.computed == [0, 1, 2, 3]
    assert _rows(ray) == _rows(local)
    assert sum(len(r[3]) for r in _rows(ray)) > 1000  # eflomal linked the pairs
    assert (tmp_path / "ray.conll").read_text() == (tmp_path / "local.conll").read_text()
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    assert ray.spans > 200


def test_translate_test_with_tiny_tagger_ray_equals_local(shared_data, tmp_path, ray_instance):
    pytest.importorskip("transformers")
    from tiny_models import tiny_token_classifier

    base = (
        shared_data
        / "bam-translate-test"
        / "devil-in-details"
        / "data"
        / "intermediate"
        / "nllb"
        / "masakhaner"
        / "test-translate-bam-en"
    )
    bam = read_conll(shared_data / "masakhaner2" / "bam" / "test.txt").sentences[:120]
    write_conll(tmp_path / "bam.conll", bam)
    english = (base / "en-tokens.txt").read_text(encoding="utf-8").splitlines()[:120]
    (tmp_path / "en.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    model = tiny_token_classifier(tmp_path / "models")
    options = dict(
        lang="bam",
        translator="file",
        translator_options={"path": str(tmp_path / "en.txt")},
        tagger="hf",
        tagger_options={"model": str(model), "device": "cpu", "max_length": 60},
        aligner="eflomal",
        aligner_options=EFLOMAL,
        method="greedy",
        tokenizer="whitespace",
        use_cache=False,
        shard_size=60,
    )
    local = translate_test_job(tmp_path / "bam.conll", tmp_path / "local.conll", **options)
    ray = translate_test_job(
        tmp_path / "bam.conll", tmp_path / "ray.conll", engine="ray", ray_options=ray_instance, **options
    )
    assert _rows(ray) == _rows(local)
    assert [r[1] for r in _rows(ray)] == [s.tokens for s in bam]  # the target tokens are the input's
    assert local.spans > 0  # the random tagger found something to project
    assert (tmp_path / "ray.conll").read_text() == (tmp_path / "local.conll").read_text()


def test_translate_train_with_tiny_mt_model_ray_equals_local(hau, tmp_path, ray_instance):
    pytest.importorskip("transformers")
    from tiny_models import tiny_m2m100

    model = tiny_m2m100(tmp_path / "models")
    write_conll(tmp_path / "en.conll", hau["sentences"][:40])
    options = dict(
        lang="hau",
        translator="hf",
        translator_options={"model": str(model), "device": "cpu", "max_length": 12, "beam_size": 1},
        aligner="eflomal",
        aligner_options=EFLOMAL,
        method="greedy",
        use_cache=False,
        shard_size=20,
        batch_tokens=120,
    )
    local = translate_train_job(tmp_path / "en.conll", tmp_path / "local.jsonl", **options)
    ray = translate_train_job(
        tmp_path / "en.conll", tmp_path / "ray.jsonl", engine="ray", ray_options=ray_instance, **options
    )
    assert _rows(ray) == _rows(local)
    assert any(r[1] for r in _rows(local))  # the model produced translations
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()


def test_cli_translate_train_engine_ray_equals_local(hau, tmp_path, ray_instance):
    from typer.testing import CliRunner

    from xlner.cli import app

    common = [
        "translate-train",
        str(hau["en"]),
        "-l",
        "hau",
        "--translator",
        "file",
        "--translations",
        str(hau["tgt"]),
        "--tokenizer",
        "whitespace",
        "--method",
        "greedy",
        "--no-cache",
        "--shard-size",
        "100",
        "--aligner-option",
        "seed=0",
    ]
    runner = CliRunner()
    local = runner.invoke(
        app, [*common, "-o", str(tmp_path / "local.conll"), "--details", str(tmp_path / "local.jsonl")]
    )
    assert local.exit_code == 0, local.output
    ray = runner.invoke(
        app, [*common, "--engine", "ray", "-o", str(tmp_path / "ray.conll"), "--details", str(tmp_path / "ray.jsonl")]
    )
    assert ray.exit_code == 0, ray.output
    assert "2 shards computed, 0 reused" in " ".join(ray.output.split())  # rich wraps lines
    assert (tmp_path / "ray.conll").read_text() == (tmp_path / "local.conll").read_text()
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    assert len(read_conll(tmp_path / "ray.conll").sentences) == N_TRAIN
    again = runner.invoke(app, [*common, "--engine", "ray", "-o", str(tmp_path / "ray.conll")])
    assert again.exit_code == 0 and "0 shards computed, 2 reused" in " ".join(again.output.split())


# ---------------------------------------------------------------- failure, retry, resume


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_failed_shard_is_reported_and_a_rerun_computes_only_it(hau, tmp_path, request, engine):
    ray_options = request.getfixturevalue("ray_instance") if engine == "ray" else None
    folder = tmp_path / "flaky"
    (folder / "calls").mkdir(parents=True)
    (folder / "fail").write_text("")
    elsewhere = {t for k, s in enumerate(hau["sentences"]) if not 100 <= k < 150 for t in s.tokens}
    trigger = next(t for s in hau["sentences"][100:150] for t in s.tokens if t not in elsewhere)  # only in shard 2
    options = _train_options(
        hau, aligner=_flaky(folder, trigger), shard_size=50, retries=1, engine=engine, ray_options=ray_options
    )
    with pytest.raises(JobFailed) as failed:
        translate_train_job(hau["en"], tmp_path / "out.conll", **options)
    assert [f.index for f in failed.value.failures] == [2]
    assert failed.value.failures[0].ids == [str(k) for k in range(100, 150)]
    assert "shard 2 (50 sentences, ids 100, 101, 102, ... 149) failed in align: RuntimeError: aligner died" in str(
        failed.value
    )
    assert not (tmp_path / "out.conll").exists()
    shards = sorted((tmp_path / "out.conll.shards").iterdir())
    assert len(shards) == 3 and "-00002-" not in " ".join(p.name for p in shards)
    mtimes = {p.name: p.stat().st_mtime_ns for p in shards}
    assert len(list((folder / "calls").iterdir())) == 3 + 2  # three good shards, the bad one tried twice

    (folder / "fail").unlink()
    for call in (folder / "calls").iterdir():
        call.unlink()
    resumed = translate_train_job(hau["en"], tmp_path / "out.conll", **options)
    assert sorted(resumed.computed) == [2] and resumed.skipped == [0, 1, 3]
    assert len(list((folder / "calls").iterdir())) == 1  # only the failed shard was aligned again
    assert {p.name: p.stat().st_mtime_ns for p in shards} == mtimes  # finished shards untouched
    fresh = translate_train_job(hau["en"], tmp_path / "fresh.conll", **{**options, "engine": "local"})
    assert fresh.computed == [0, 1, 2, 3]
    assert (tmp_path / "out.conll").read_text() == (tmp_path / "fresh.conll").read_text()
    assert len(read_conll(tmp_path / "out.conll").sentences) == N_TRAIN


def test_changed_options_do_not_reuse_shards(hau, tmp_path):
    folder = tmp_path / "flaky"
    (folder / "calls").mkdir(parents=True)
    first = translate_train_job(
        hau["en"], tmp_path / "out.jsonl", **_train_options(hau, aligner=_flaky(folder, "@@"), shard_size=100)
    )
    again = translate_train_job(
        hau["en"], tmp_path / "out.jsonl", **_train_options(hau, aligner=_flaky(folder, "@@"), shard_size=100)
    )
    confidences = sorted(r["confidence"] for r in iter_rows(first.shard_files))
    threshold = next(c for c in confidences if c > confidences[0])  # drops at least the least confident
    other = translate_train_job(
        hau["en"],
        tmp_path / "out.jsonl",
        **_train_options(hau, aligner=_flaky(folder, "@@"), shard_size=100, min_confidence=threshold),
    )
    assert first.computed == [0, 1] and again.computed == [] and other.computed == [0, 1]
    assert first.config_hash == again.config_hash != other.config_hash
    kept = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(kept) == other.kept == sum(c >= threshold for c in confidences) < N_TRAIN


# ---------------------------------------------------------------- the scale benchmark


def test_scale_benchmark_pieces(shared_data, tmp_path):
    from xlner.bench.scale import run_one, synthetic_alignment, synthetic_spans

    assert synthetic_spans("the man met Angela Merkel in Berlin".split()) == [
        [3, 5, synthetic_spans("x Angela Merkel".split())[0][2]],
        [6, 7, synthetic_spans("x Berlin".split())[0][2]],
    ]
    assert synthetic_alignment("a Obama b c".split(), "x y Obama z w".split()) == [[0, 0], [1, 2], [2, 3], [3, 4]]
    result = run_one(250, "local", 1, 100, "heuristic", tmp_path)
    assert result["sentences"] == 250 and not result["failures"]
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3 and sum(len(p.read_text().splitlines()) for p in files) == 250
