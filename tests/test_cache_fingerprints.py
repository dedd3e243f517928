"""Cache keys that know the code and the model folders: edits recompute, unchanged code and files hit."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap

import pytest

import xlner.cache
from xlner.cache import StepCache, cached_map, code_fingerprint, describe_code, describe_folder, describe_options
from xlner.pipeline import Component, Context, translate_test
from xlner.registry import registry
from xlner.types import Sentence, Span

ITEMS = [f"sentence {i}" for i in range(6)]
CALLS: list[int] = []

TRANSLATOR_SOURCE = '''
CALLS = []


class EchoTranslator:
    """Returns its inputs; records batch sizes."""

    def translate(self, sentences, src_lang, tgt_lang):
        CALLS.append(len(sentences))
        return list(sentences)


def make(**options) -> "EchoTranslator":
    return EchoTranslator()
'''


def counting(batch: list[str]) -> list[str]:
    CALLS.append(len(batch))
    return [text.upper() for text in batch]


class Upper:
    """A component class defined here (its fingerprint is this file's)."""


TAGGED: list[int] = []


class CapitalsTagger:
    """PER for every capitalised word; records batch sizes."""

    def tag(self, sentences):
        TAGGED.append(len(sentences))
        return [[Span(i, i + 1, "PER") for i, w in enumerate(s) if w[:1].isupper()] for s in sentences]


class DiagonalAligner:
    """Links word i to word i."""

    def align(self, pairs):
        return [frozenset((i, i) for i in range(min(len(src), len(tgt)))) for src, tgt in pairs]


registry.taggers.register("test-fingerprint-capitals")(lambda **options: CapitalsTagger())
registry.aligners.register("test-diagonal")(lambda **options: DiagonalAligner())


def _run(cache: StepCache | None, **options) -> int:
    CALLS.clear()
    assert cached_map(counting, ITEMS, cache=cache, batch_size=2, **options) == [t.upper() for t in ITEMS]
    return len(CALLS)


@pytest.fixture
def echo_module(tmp_path, monkeypatch):
    """A translator module written to a file of its own, registered as ``test-echo``; returns its path."""
    folder = tmp_path / "src"
    folder.mkdir()
    path = folder / "xlner_test_echo_translator.py"
    path.write_text(TRANSLATOR_SOURCE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, path.stem, raising=False)
    module = importlib.import_module(path.stem)
    monkeypatch.setitem(registry.translators._factories, "test-echo", module.make)
    yield path
    sys.modules.pop(path.stem, None)


def test_editing_the_component_module_recomputes_only_its_step(tmp_path, echo_module):
    module = sys.modules[echo_module.stem]
    targets = [Sentence(f"Ada met Bob {k}".split(), id=str(k)) for k in range(5)]
    kwargs = dict(lang="hau", translator="test-echo", tagger="test-fingerprint-capitals", aligner="test-diagonal")

    def run() -> tuple[int, int]:
        module.CALLS.clear()
        TAGGED.clear()
        result = translate_test(targets, cache_dir=tmp_path / "c", batch_size=2, **kwargs)
        assert [s.spans for s in result.sentences] == [[Span(0, 1, "PER"), Span(2, 3, "PER")]] * 5
        return len(module.CALLS), len(TAGGED)

    assert run() == (3, 3)
    assert run() == (0, 0)  # unchanged code: all from the cache
    echo_module.write_text(TRANSLATOR_SOURCE + "\n# a new version\n")
    assert run() == (3, 0)  # the translator's module changed; the tagger's did not
    assert run() == (0, 0)


def test_a_changed_module_fingerprint_recomputes(tmp_path, monkeypatch):
    def open_cache() -> StepCache:
        return StepCache.open(tmp_path, "tag", "upper", {"model": "m"}, code=Upper)

    assert _run(open_cache()) == 3
    assert _run(open_cache()) == 0
    real = xlner.cache.module_fingerprint
    monkeypatch.setattr(
        xlner.cache, "module_fingerprint", lambda name, whole=False: "v2" if name == __name__ else real(name, whole)
    )
    changed = open_cache()
    assert json.loads((changed.folder / "code.json").read_text())[__name__] == "v2"
    assert _run(changed) == 3
    assert _run(open_cache()) == 0


def test_context_keys_on_the_component_factory(tmp_path, monkeypatch):
    ctx = Context(tmp_path)
    first = ctx.cache("tag", Component("taggers", "test-fingerprint-capitals"))
    assert first is not None and _run(first) == 3
    again = ctx.cache("tag", Component("taggers", "test-fingerprint-capitals"))
    assert again is not None and again.folder == first.folder and _run(again) == 0
    real = xlner.cache.module_fingerprint
    monkeypatch.setattr(
        xlner.cache,
        "module_fingerprint",
        lambda name, whole=False: "edited" if name == __name__ else real(name, whole),
    )
    edited = ctx.cache("tag", Component("taggers", "test-fingerprint-capitals"))
    assert edited is not None and edited.folder != first.folder and _run(edited) == 3
    assert Context(tmp_path, use_cache=False).cache("tag", Component("taggers", "test-fingerprint-capitals")) is None


def test_cached_map_code_keys_the_batches(tmp_path, monkeypatch):
    cache = StepCache.open(tmp_path, "tag", "upper", {})
    assert _run(cache, code=counting) == 3
    assert _run(cache, code=counting) == 0
    assert _run(cache) == 3  # no code: other shard names
    monkeypatch.setattr(xlner.cache, "module_fingerprint", lambda name, whole=False: "other")
    assert _run(cache, code=counting) == 3


def test_a_model_folder_replaced_in_place_is_recomputed(tmp_path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    weights = model / "sub" / "weights.bin"
    weights.write_bytes(b"1234")

    def open_cache() -> StepCache:
        return StepCache.open(tmp_path / "c", "translate", "hf", {"model": str(model)})

    assert _run(open_cache()) == 3
    assert _run(open_cache()) == 0  # unchanged folder: cached
    weights.write_bytes(b"12345")  # same path, other size
    assert _run(open_cache()) == 3
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same size, other mtime
    assert _run(open_cache()) == 3
    (model / "tokenizer.json").write_text("{}")  # a new file
    assert _run(open_cache()) == 3
    (model / ".hidden").write_text("x")  # hidden entries do not count
    assert _run(open_cache()) == 0
    meta = json.loads((open_cache().folder / "meta.json").read_text())
    assert [name for name, _, _ in meta["options"]["model"]["files"]] == [
        "config.json",
        "sub/weights.bin",
        "tokenizer.json",
    ]


def test_a_working_folder_counts_by_its_path(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "state").write_text("1")
    assert describe_options({"folder": str(work)}) == {"folder": str(work)}
    (work / "calls").mkdir()
    (work / "calls" / "one.txt").write_text("x")  # what a component writes there does not miss the cache
    assert describe_options({"folder": str(work)}) == {"folder": str(work)}
    (work / "model.safetensors").write_bytes(b"w")
    files = describe_options({"folder": str(work)})["folder"]["files"]
    assert [name for name, _, _ in files] == ["calls/one.txt", "model.safetensors", "state"]


def test_folder_listing_is_bounded_and_sorted(tmp_path, monkeypatch):
    for name in ["b", "a", "c", "d"]:
        (tmp_path / name).write_text(name)
    deep = tmp_path / "e" / "f"
    deep.mkdir(parents=True)
    (deep / "g").write_text("g")
    assert [f[0] for f in describe_folder(tmp_path)["files"]] == ["a", "b", "c", "d", "e/f/g"]
    assert "truncated" not in describe_folder(tmp_path)
    monkeypatch.setattr(xlner.cache, "MAX_FOLDER_FILES", 3)
    described = describe_folder(tmp_path)
    assert [f[0] for f in described["files"]] == ["a", "b", "c"] and described["truncated"] is True
    monkeypatch.setattr(xlner.cache, "MAX_FOLDER_FILES", 100)
    monkeypatch.setattr(xlner.cache, "MAX_FOLDER_DEPTH", 2)
    described = describe_folder(tmp_path)
    assert [f[0] for f in described["files"]] == ["a", "b", "c", "d"] and described["truncated"] is True


def test_describe_code_names_modules_versions_and_bases(echo_module):
    import numpy

    module = sys.modules[echo_module.stem]
    described = describe_code(module.make)  # a factory counts with the class it builds
    assert set(described) == {"xlner", echo_module.stem}
    assert described["xlner"] == importlib.metadata.version("xlner")
    assert described[echo_module.stem].startswith("sha256:")
    assert describe_code(numpy.ndarray)["numpy"] == f"numpy=={numpy.__version__}"
    assert describe_code(json.dumps)["json"].startswith("python ")
    assert set(describe_code(type("Sub", (Upper, Span), {}))) == {"xlner", __name__, "xlner.types"}
    assert set(describe_code(xlner.cache)) == {"xlner", "xlner.cache"}
    assert describe_code(importlib.import_module("xlner.io"))["xlner.io/*"].startswith("sha256:")  # a whole package
    assert describe_code(None) == {"xlner": described["xlner"]}


def test_fingerprints_are_the_same_in_another_process(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"abc")
    script = textwrap.dedent(
        f"""
        import json
        import xlner.pipeline
        from xlner.cache import code_fingerprint, describe_options
        from xlner.registry import registry
        from xlner.types import Sentence
        code = code_fingerprint(registry.translators.get("hf"), xlner.pipeline.Context, Sentence)
        print(json.dumps([code, describe_options({{"model": {str(model)!r}}})]))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env).stdout
    import xlner.pipeline

    here = code_fingerprint(registry.translators.get("hf"), xlner.pipeline.Context, Sentence)
    assert json.loads(out) == [here, describe_options({"model": str(model)})]
    assert len(here) == 64 and here != code_fingerprint(Sentence)


def test_bench_crf_cache_follows_the_code(tmp_path, monkeypatch):
    import xlner.downstream
    from xlner.bench.translate_train import train_and_tag

    trained: list[int] = []

    class Fake:
        def tag(self, token_lists):
            return [[Span(0, 1, "PER")] for _ in token_lists]

    monkeypatch.setattr(xlner.downstream, "train_crf", lambda silver, **options: trained.append(len(silver)) or Fake())
    silver = [Sentence(["Obama", "came"], [Span(0, 1, "PER")])]
    test = [Sentence(["Merkel", "left"])]
    assert train_and_tag(silver, test, tmp_path, {"c1": 0.1})[0] == [[Span(0, 1, "PER")]]
    assert train_and_tag(silver, test, tmp_path, {"c1": 0.1})[0] == [[Span(0, 1, "PER")]]
    assert trained == [1]
    real = xlner.cache.module_fingerprint
    monkeypatch.setattr(
        xlner.cache,
        "module_fingerprint",
        lambda name, whole=False: "edited" if name == "xlner.downstream" else real(name, whole),
    )
    train_and_tag(silver, test, tmp_path, {"c1": 0.1})
    assert trained == [1, 1]
    assert (tmp_path / "crf").is_dir()
