"""`xlner project` end to end on real Europarl sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.io import read_conll, write_conll, write_pharaoh, write_tokenized
from xlner.types import Sentence

runner = CliRunner()
N = 60


@pytest.fixture()
def europarl(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    """The first N sentences of Europarl-NER en and de, copied to tmp_path."""
    paths = {}
    for lang in ("en", "de"):
        sentences = read_conll(shared_data / "europarl-ner" / f"{lang}.test.conll").sentences[:N]
        paths[lang] = tmp_path / f"{lang}.conll"
        write_conll(paths[lang], sentences)
    return paths


def identity_like_alignment(src: list[Sentence], tgt: list[Sentence]) -> list[frozenset]:
    """Links between identical (case-folded) words: enough to project names copied verbatim."""
    alignments = []
    for s, t in zip(src, tgt):
        alignments.append(
            frozenset(
                (i, j)
                for i, a in enumerate(s.tokens)
                for j, b in enumerate(t.tokens)
                if a.lower() == b.lower() and a.isalpha()
            )
        )
    return alignments


def test_project_with_eflomal_writes_target_tokens_unchanged(europarl, tmp_path):
    out = tmp_path / "out.conll"
    result = runner.invoke(
        app,
        [
            "project",
            "--source",
            str(europarl["en"]),
            "--target",
            str(europarl["de"]),
            "--output",
            str(out),
            "--tgt-lang",
            "de",
            "--gold",
            str(europarl["de"]),
        ],
    )
    assert result.exit_code == 0, result.output
    projected = read_conll(out).sentences
    gold = read_conll(europarl["de"]).sentences
    assert [s.tokens for s in projected] == [s.tokens for s in gold]
    assert sum(len(s.spans) for s in projected) > 0
    assert "micro" in result.output.lower()


@pytest.mark.parametrize("method", ["heuristic", "ilp", "greedy"])
def test_project_with_pharaoh_alignment_and_text_target(europarl, tmp_path, method):
    src = read_conll(europarl["en"]).sentences
    tgt = read_conll(europarl["de"]).sentences
    target_text = tmp_path / "de.txt"
    write_tokenized(target_text, [t.tokens for t in tgt])
    pharaoh = tmp_path / "align.pharaoh"
    write_pharaoh(pharaoh, identity_like_alignment(src, tgt))
    out = tmp_path / f"{method}.conll"
    result = runner.invoke(
        app,
        [
            "project",
            "--source",
            str(europarl["en"]),
            "--target",
            str(target_text),
            "--output",
            str(out),
            "--alignment",
            str(pharaoh),
            "--method",
            method,
        ],
    )
    assert result.exit_code == 0, result.output
    projected = read_conll(out).sentences
    assert [s.tokens for s in projected] == [t.tokens for t in tgt]
    # every projected span covers words linked to its source entity's words
    alignments = identity_like_alignment(src, tgt)
    for s, p, links in zip(src, projected, alignments):
        for span in p.spans:
            assert any(span.start <= j < span.end for _, j in links)


def test_project_reads_options_from_config_and_flags_override(europarl, tmp_path):
    src = read_conll(europarl["en"]).sentences
    tgt = read_conll(europarl["de"]).sentences
    pharaoh = tmp_path / "align.pharaoh"
    write_pharaoh(pharaoh, identity_like_alignment(src, tgt))
    config = tmp_path / "run.toml"
    config.write_text(
        f'source = "{europarl["en"]}"\ntarget = "{europarl["de"]}"\nalignment = "{pharaoh}"\n'
        f'output = "{tmp_path / "from-config.conll"}"\nmethod = "no-such-method"\n',
        encoding="utf-8",
    )
    bad = runner.invoke(app, ["project", "--config", str(config)])
    assert bad.exit_code == 2 and "no-such-method" in bad.output
    good = runner.invoke(app, ["project", "--config", str(config), "--method", "heuristic"])
    assert good.exit_code == 0, good.output
    assert (tmp_path / "from-config.conll").exists()


def test_project_rejects_different_sentence_counts(europarl, tmp_path):
    short = tmp_path / "short.conll"
    write_conll(short, read_conll(europarl["de"]).sentences[: N - 1])
    out = tmp_path / "out.conll"
    result = runner.invoke(
        app,
        [
            "project",
            "--source",
            str(europarl["en"]),
            "--target",
            str(short),
            "--output",
            str(out),
            "--tgt-lang",
            "de",
        ],
    )
    assert result.exit_code == 2
    assert f"{N}" in result.output and f"{N - 1}" in result.output
    assert not out.exists()


def test_project_unknown_option_is_a_clear_error(europarl, tmp_path):
    result = runner.invoke(
        app,
        [
            "project",
            "--source",
            str(europarl["en"]),
            "--target",
            str(europarl["de"]),
            "--output",
            str(tmp_path / "o"),
            "--tgt-lang",
            "de",
            "--option",
            "no_such_option=1",
        ],
    )
    assert result.exit_code == 2
    assert "no_such_option" in result.output
