"""`xlner align` on the first 50 Europarl-NER sentences, and the Pharaoh file aligner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.io.pharaoh import read_pharaoh
from xlner.io.text import read_sentences
from xlner.registry import registry

runner = CliRunner()


def first_sentences(path, n):
    """The first ``n`` blank-line separated blocks of a CoNLL file."""
    blocks = path.read_text(encoding="utf-8").strip("\n").split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n"


@pytest.fixture
def europarl(shared_data, tmp_path):
    for lang in ("en", "de"):
        text = first_sentences(shared_data / "europarl-ner" / f"{lang}.test.conll", 50)
        (tmp_path / f"{lang}.conll").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.shared_data
def test_align_europarl_sample(europarl):
    out = europarl / "out.pharaoh"
    args = ["align", str(europarl / "en.conll"), str(europarl / "de.conll"), "-o", str(out), "--seed", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "aligned 50 sentence pairs" in result.output
    alignments = read_pharaoh(out)
    en = read_sentences(europarl / "en.conll", labels=False)
    de = read_sentences(europarl / "de.conll", labels=False)
    assert len(alignments) == 50
    for a, s, t in zip(alignments, en, de):
        assert a and all(i < len(s.tokens) and j < len(t.tokens) for i, j in a)
    # the same seed gives the same file; names shared by both sides mostly link
    again = europarl / "again.pharaoh"
    assert runner.invoke(app, [*args[:4], str(again), "--seed", "3"]).exit_code == 0
    assert again.read_text() == out.read_text()
    same, linked = 0, 0
    for a, s, t in zip(alignments, en, de):
        for i, j in a:
            if s.tokens[i][:1].isupper() and s.tokens[i] in t.tokens:
                same += 1
                linked += s.tokens[i] == t.tokens[j]
    assert same > 15 and linked / same > 0.6
    # intersection gives fewer links than union
    counts = {}
    for method in ("intersection", "union"):
        path = europarl / f"{method}.pharaoh"
        result = runner.invoke(app, [*args[:4], str(path), "--symmetrization", method, "--option", "n_samplers=1"])
        assert result.exit_code == 0, result.output
        counts[method] = sum(map(len, read_pharaoh(path)))
    assert counts["intersection"] < counts["union"]


@pytest.mark.shared_data
def test_mismatched_counts(europarl):
    text = first_sentences(europarl / "de.conll", 49)
    (europarl / "short.conll").write_text(text, encoding="utf-8")
    result = runner.invoke(
        app, ["align", str(europarl / "en.conll"), str(europarl / "short.conll"), "-o", str(europarl / "x")]
    )
    assert result.exit_code == 2
    assert "has 50 sentences" in result.output and "has 49" in result.output
    assert not (europarl / "x").exists()


def test_pharaoh_aligner_and_options(tmp_path):
    (tmp_path / "src.txt").write_text("a b c\nd e\n", encoding="utf-8")
    (tmp_path / "tgt.txt").write_text("x y\nz\n", encoding="utf-8")
    (tmp_path / "links.pharaoh").write_text("0-0 2-1\n1-0\n", encoding="utf-8")
    out = tmp_path / "out.pharaoh"
    base = ["align", str(tmp_path / "src.txt"), str(tmp_path / "tgt.txt"), "-o", str(out)]
    result = runner.invoke(app, [*base, "--aligner", "pharaoh", "--option", f"path={tmp_path / 'links.pharaoh'}"])
    assert result.exit_code == 0, result.output
    assert out.read_text() == "0-0 2-1\n1-0\n"
    # eflomal-only flags are refused for other aligners; unknown options are reported
    result = runner.invoke(app, [*base, "--aligner", "pharaoh", "--seed", "1", "--option", "path=x"])
    assert result.exit_code == 2 and "only apply to the eflomal aligner" in result.output
    result = runner.invoke(app, [*base, "--option", "colour=blue"])
    assert result.exit_code == 2 and "bad option for aligner 'eflomal'" in result.output


def test_pharaoh_aligner_checks(tmp_path):
    pairs = [(["a", "b"], ["x"]), (["c"], ["y", "z"])]
    path = tmp_path / "links.txt"
    path.write_text("0-0 1-0\n0-1\n", encoding="utf-8")
    assert registry.aligners.create("pharaoh", path=path).align(pairs) == [{(0, 0), (1, 0)}, {(0, 1)}]
    assert registry.aligners.create("pharaoh", path=path, reverse=True).align(
        [(["x"], ["a", "b"]), (["c", "d"], ["y"])]
    ) == [
        {(0, 0), (0, 1)},
        {(1, 0)},
    ]
    path.write_text("0-0\n0-2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"links\.txt:2: link 0-2 is outside"):
        registry.aligners.create("pharaoh", path=path).align(pairs)
    path.write_text("0-0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"links\.txt: 1 alignment lines for 2 sentence pairs"):
        registry.aligners.create("pharaoh", path=path).align(pairs)
    with pytest.raises(InputError, match="not found"):
        registry.aligners.create("pharaoh", path=tmp_path / "none").align(pairs)
