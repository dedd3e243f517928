"""Issue 16 item 5: align_pair / project_pair, token type checks, spaCy Language objects, typed factories, README block."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xlner
from xlner.align.base import TokensError, check_pairs
from xlner.registry import registry
from xlner.types import Span

README = Path(__file__).resolve().parents[1] / "README.md"


def test_import_xlner_stays_light():
    code = "import sys, xlner; print(sorted(m for m in ('numpy', 'scipy', 'typer', 'spacy', 'torch', 'highspy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert {"align_pair", "project_pair"} <= set(xlner.__all__)


def test_project_pair():
    spans = xlner.project_pair(
        ["John", "lives", "in", "Berlin"],
        [(0, 1, "PER"), Span(3, 4, "LOC")],
        ["In", "Berlin", "wohnt", "John"],
        "0-3 1-2 2-0 3-1",
    )
    assert spans == [Span(1, 2, "LOC"), Span(3, 4, "PER")]
    assert xlner.project_pair(["John"], [(0, 1, "PER")], ["Johann"], [(0, 0)], method="heuristic") == [
        Span(0, 1, "PER")
    ]


def test_align_pair_with_an_aligner_object_and_by_name(tmp_path):
    class Diagonal:
        def align(self, pairs):
            return [frozenset((i, i) for i in range(min(len(s), len(t)))) for s, t in pairs]

    assert xlner.align_pair(["a", "b"], ["x", "y", "z"], aligner=Diagonal()) == [(0, 0), (1, 1)]
    links = tmp_path / "one.pharaoh"
    links.write_text("1-0 0-1\n", encoding="utf-8")
    assert xlner.align_pair(["a", "b"], ["x", "y"], aligner="pharaoh", path=links) == [(0, 1), (1, 0)]


@pytest.mark.parametrize(
    "call",
    [
        lambda: xlner.align_pair("the house", ["das", "Haus"]),
        lambda: xlner.project_pair(["a"], [], "das Haus", []),
        lambda: check_pairs([("the house", "das Haus")]),
        lambda: check_pairs((["the"], ["das"])),
    ],
)
def test_a_string_instead_of_tokens_is_an_error_naming_the_fix(call):
    with pytest.raises(TypeError, match=r"split\(\)|align\(\[\(src_tokens, tgt_tokens\)\]\)"):
        call()


def test_aligners_check_their_input(tmp_path):
    links = tmp_path / "one.pharaoh"
    links.write_text("0-0\n", encoding="utf-8")
    aligner = registry.aligners.create("pharaoh", path=links)
    with pytest.raises(TokensError, match=r"pair 0 source tokens is a string .*\.split\(\)"):
        aligner.align([("the house", ["das", "Haus"])])
    backtranslation = registry.aligners.create("backtranslation", base=aligner, back_translations=["x"])
    with pytest.raises(TokensError):
        backtranslation.align([(["a"], "b")])


def test_factories_show_typed_signatures():
    spacy_signature = inspect.signature(registry.taggers.get("spacy"))
    assert {"model", "label_map", "keep_unmapped", "batch_size"} <= set(spacy_signature.parameters)
    assert spacy_signature.parameters["batch_size"].default == 64
    simalign = inspect.signature(registry.aligners.get("simalign")).parameters
    assert "encoder" in simalign and "method" in simalign
    assert "batch_size" in inspect.signature(registry.translators.get("hf")).parameters


def test_spacy_language_object_as_tagger_model():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "John"}, {"label": "GPE", "pattern": "Berlin"}])
    tagger = registry.taggers.create("spacy", model=nlp)
    assert tagger.nlp is nlp
    assert tagger.tag([["John", "lives", "in", "Berlin"]]) == [[Span(0, 1, "PER"), Span(3, 4, "LOC")]]
    from xlner.cache import describe_options

    assert isinstance(describe_options({"model": nlp})["model"], str)  # a cache key, not a crash
    with pytest.raises(xlner.errors.XlnerError, match="spacy.Language"):
        registry.taggers.create("spacy", model=3)


@pytest.mark.shared_data
def test_readme_python_block_runs_from_any_folder(shared_data, tmp_path):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = {**os.environ, "XLNER_SHARED_DATA": str(shared_data)}
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Span(start=0, end=1, label='PER')" in result.stdout
    assert (tmp_path / "de.projected.jsonl").read_text(encoding="utf-8").count("\n") == 50
