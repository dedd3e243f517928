"""The step cache: keys, per-batch shards, resume after an interruption, atomic and inspectable files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlner.cache import CACHE_VERSION, StepCache, cached_map, default_cache_dir, fingerprint


class Counting:
    """Upper-cases a batch; counts calls; raises once ``fail_after`` batches were done."""

    def __init__(self, fail_after: int | None = None):
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, batch):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated Ctrl-C")
        self.calls += 1
        return [text.upper() for text in batch]


ITEMS = [f"sentence {i}" for i in range(10)]


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XLNER_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("XLNER_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "xlner"


def test_keys_depend_on_step_component_and_options(tmp_path):
    a = StepCache.open(tmp_path, "translate", "hf", {"model": "m", "beam_size": 4})
    assert StepCache.open(tmp_path, "translate", "hf", {"beam_size": 4, "model": "m"}).folder == a.folder
    others = {
        StepCache.open(tmp_path, "translate", "hf", {"model": "m", "beam_size": 5}).folder,
        StepCache.open(tmp_path, "translate", "ctranslate2", {"model": "m", "beam_size": 4}).folder,
        StepCache.open(tmp_path, "tag", "hf", {"model": "m", "beam_size": 4}).folder,
    }
    assert a.folder not in others and len(others) == 3
    meta = json.loads((a.folder / "meta.json").read_text())
    assert meta == {
        "version": CACHE_VERSION,
        "step": "translate",
        "component": "hf",
        "options": {"beam_size": 4, "model": "m"},
    }


def test_files_named_in_options_count_by_content_change(tmp_path):
    path = tmp_path / "labels.conll"
    path.write_text("a O\n")
    first = StepCache.open(tmp_path / "c", "tag", "gold", {"path": str(path)}).folder
    path.write_text("a B-PER\n")
    assert StepCache.open(tmp_path / "c", "tag", "gold", {"path": str(path)}).folder != first


def test_rerun_does_no_work(tmp_path):
    cache = StepCache.open(tmp_path, "translate", "fake", {})
    fn = Counting()
    first = cached_map(fn, ITEMS, cache=cache, batch_size=3)
    assert first == [t.upper() for t in ITEMS] and fn.calls == 4
    again = Counting()
    assert cached_map(again, ITEMS, cache=cache, batch_size=3) == first
    assert again.calls == 0
    shards = sorted(cache.folder.glob("*.jsonl"))
    assert len(shards) == 4
    records = [json.loads(line) for shard in shards for line in shard.read_text().splitlines()]
    assert sorted(r["in"] for r in records) == sorted(ITEMS)  # human-inspectable: input next to output
    assert all(r["out"] == r["in"].upper() for r in records)


def test_interrupted_run_resumes_and_loses_nothing(tmp_path):
    cache = StepCache.open(tmp_path, "translate", "fake", {})
    with pytest.raises(KeyboardInterrupt):
        cached_map(Counting(fail_after=2), ITEMS, cache=cache, batch_size=3)
    assert len(list(cache.folder.glob("*.jsonl"))) == 2
    assert not [p for p in cache.folder.iterdir() if p.name.endswith(".tmp")]
    resumed = Counting()
    out = cached_map(resumed, ITEMS, cache=cache, batch_size=3)
    assert resumed.calls == 2  # only the two missing batches
    assert out == [t.upper() for t in ITEMS]


def test_damaged_shard_is_recomputed(tmp_path):
    cache = StepCache.open(tmp_path, "translate", "fake", {})
    cached_map(Counting(), ITEMS, cache=cache, batch_size=5)
    shard = sorted(cache.folder.glob("*.jsonl"))[0]
    shard.write_text('{"in": "x", "out"')
    fn = Counting()
    assert cached_map(fn, ITEMS, cache=cache, batch_size=5) == [t.upper() for t in ITEMS]
    assert fn.calls == 1


def test_no_cache_and_one_batch(tmp_path):
    fn = Counting()
    assert cached_map(fn, ITEMS, cache=None, batch_size=None) == [t.upper() for t in ITEMS]
    assert fn.calls == 1
    assert cached_map(fn, [], cache=None, batch_size=4) == []


def test_outputs_round_trip_through_json(tmp_path):
    cache = StepCache.open(tmp_path, "align", "fake", {})
    to_json = lambda links: sorted([i, j] for i, j in links)  # noqa: E731
    from_json = lambda value: frozenset(map(tuple, value))  # noqa: E731
    fresh = cached_map(
        lambda b: [frozenset({(0, 1), (1, 0)})] * len(b),
        ["a", "b"],
        cache=cache,
        batch_size=1,
        to_json=to_json,
        from_json=from_json,
    )
    cached = cached_map(lambda b: 1 / 0, ["a", "b"], cache=cache, batch_size=1, to_json=to_json, from_json=from_json)
    assert fresh == cached == [frozenset({(0, 1), (1, 0)})] * 2


def test_fingerprint_is_stable_and_order_sensitive():
    assert fingerprint(["a", "b"], {"x": 1, "y": 2}) == fingerprint(["a", "b"], {"y": 2, "x": 1})
    assert fingerprint(["a", "b"]) != fingerprint(["b", "a"])
