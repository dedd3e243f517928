"""Subword-aware eflomal (SentencePiece pieces, links mapped back to words) and majority-vote runs."""

from __future__ import annotations

import hashlib
import math
import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xlner.align import eflomal, subword
from xlner.align.eflomal import MAX_TOKENS, EflomalAligner, majority_vote
from xlner.align.subword import (
    auto_vocab_size,
    format_subword,
    parse_subword,
    pieces_to_words,
    segment_sentences,
    train_subword_model,
)
from xlner.align.symmetrize import symmetrize
from xlner.cli import app
from xlner.errors import XlnerError
from xlner.io.pharaoh import read_pharaoh

STEMS = ["wato", "kitab", "nyumba", "shule", "gari", "mti", "soko", "jiji"]
PREFIXES = ["", "ha", "wa", "ku", "ni"]
SUFFIXES = ["", "ni", "wa", "ka", "kwa"]


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    """A private model cache (``$XLNER_CACHE``) per test module."""
    folder = tmp_path_factory.getbasetemp() / "xlner-cache"
    monkeypatch.setenv("XLNER_CACHE", str(folder))
    return folder


def morphology_corpus(n_pairs: int, seed: int = 3):
    """Source words are prefix+stem+suffix; the target has one word per morpheme, in order.

    Returns pairs and gold word links (source word -> its morphemes' target words)."""
    rng = random.Random(seed)
    pairs, gold = [], []
    for _ in range(n_pairs):
        src, tgt, links = [], [], set()
        for i in range(rng.randint(2, 5)):
            parts = [rng.choice(PREFIXES), rng.choice(STEMS), rng.choice(SUFFIXES)]
            src.append("".join(parts))
            for part in filter(None, parts):
                links.add((i, len(tgt)))
                tgt.append(part.upper() + "X")
        pairs.append((src, tgt))
        gold.append(frozenset(links))
    return pairs, gold


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    pairs, _ = morphology_corpus(300)
    counts = subword.word_counts(src for src, _ in pairs)
    return train_subword_model(counts, 40, tmp_path_factory.mktemp("models"))


# ---- options ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, sides",
    [
        ("none", ("none", "none")),
        (None, ("none", "none")),
        (0, ("none", "none")),
        ("auto", ("auto", "auto")),
        (8000, (8000, 8000)),
        ("8000", (8000, 8000)),
        ("tgt=16000", ("none", 16000)),
        ("src=auto, tgt:16000", ("auto", 16000)),
        ({"src": "none", "tgt": 16000}, ("none", 16000)),
        (("none", "8000"), ("none", 8000)),
    ],
)
def test_parse_subword_spellings(value, sides):
    assert parse_subword(value) == sides
    assert parse_subword(format_subword(sides)) == sides


@pytest.mark.parametrize(
    "bad", ["lots", "src=1", "src=8000,src=10", "left=8000", {"source": 8000}, (1, 2, 3), -5, True, 1.5]
)
def test_parse_subword_rejects(bad):
    with pytest.raises(XlnerError, match="subword"):
        parse_subword(bad)


def test_aligner_options_are_canonical_and_checked():
    assert EflomalAligner(subword={"tgt": 16000}).subword == "src=none,tgt=16000"
    assert EflomalAligner(subword=8000).subword == "8000"
    base = EflomalAligner(subword="none", subword_vote=False).config()
    assert {"subword", "runs", "subword_vote"}.isdisjoint(base)  # the plain aligner keeps the old cache keys
    assert EflomalAligner().config()["subword"] == "auto"  # the offline recipe's default is part of the key
    assert EflomalAligner(subword="auto", runs=3, subword_vote=False).config() == {**base, "subword": "auto", "runs": 3}
    for runs in (0, -1, 1.5, True):
        with pytest.raises(XlnerError, match="runs"):
            EflomalAligner(runs=runs)


def test_auto_vocab_size_rule():
    assert auto_vocab_size(9_999, 100_000) is None
    assert auto_vocab_size(10_000, 100_000) == subword.AUTO_VOCAB_SIZE
    assert auto_vocab_size(50_000, 20_000) == int(subword.AUTO_TYPE_FRACTION * 20_000)
    assert auto_vocab_size(50_000, 1) is None


# ---- segmentation and link mapping -----------------------------------------


def test_model_splits_words_into_morphemes(model):
    pairs, _ = morphology_corpus(300)
    words = {w for src, _ in pairs for w in src}
    segmented = {w: model.segment(w) for w in words}
    assert all("".join(p) == w for w, p in segmented.items())
    assert sum(len(p) > 1 for p in segmented.values()) > len(words) / 2
    assert model.vocab_size <= 60


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30) | st.text(alphabet="hawkunitbsje ▁\t", max_size=30))
def test_segmentation_concatenates_to_the_word(model, word):
    pieces = model.segment(word)
    assert "".join(pieces) == word
    assert pieces and (all(pieces) or pieces == [""])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_word_link_comes_from_a_piece_link(data):
    src_words = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=6))
    tgt_words = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=6))
    src_owner = [w for w, n in enumerate(src_words) for _ in range(n)]
    tgt_owner = [w for w, n in enumerate(tgt_words) for _ in range(n)]
    cut_src = data.draw(st.integers(1, len(src_owner)))
    cut_tgt = data.draw(st.integers(1, len(tgt_owner)))
    src_owner, tgt_owner = src_owner[:cut_src], tgt_owner[:cut_tgt]
    src_whole = sum(1 for w in set(src_owner) if src_owner.count(w) == src_words[w])
    tgt_whole = sum(1 for w in set(tgt_owner) if tgt_owner.count(w) == tgt_words[w])
    links = data.draw(st.sets(st.tuples(st.integers(0, len(src_owner) - 1), st.integers(0, len(tgt_owner) - 1))))
    words = pieces_to_words(links, src_owner, tgt_owner, src_whole, tgt_whole)
    for wi, wj in words:
        assert wi < src_whole and wj < tgt_whole
        assert any(src_owner[i] == wi and tgt_owner[j] == wj for i, j in links)
    for i, j in links:
        if src_owner[i] < src_whole and tgt_owner[j] < tgt_whole:
            assert (src_owner[i], tgt_owner[j]) in words
    assert pieces_to_words(links, None, None) == frozenset(links)


def test_truncation_counts_pieces(model):
    long_sentence = ["hawatoni", "kukitabkwa"] * 400  # 800 words, more than 1000 pieces
    (pieces,), (owner,), (whole,) = segment_sentences(model, [long_sentence], MAX_TOKENS)
    assert len(pieces) == len(owner) == MAX_TOKENS
    assert 0 < whole < len(long_sentence)
    assert owner[-1] in (whole - 1, whole)  # the last word kept is whole or cut
    assert owner.count(whole - 1) == len(model.segment(long_sentence[whole - 1]))


def test_models_are_cached_on_disk(tmp_path, monkeypatch):
    counts = {"hawatoni": 3, "kukitab": 2, "soko": 1}
    first = train_subword_model(counts, 100_000, tmp_path)  # far more than the data allows
    assert first is not None and first.path.parent == tmp_path and first.vocab_size < 100
    with monkeypatch.context() as patch:
        patch.setattr(subword, "_MODELS", {})
        patch.setattr("sentencepiece.SentencePieceTrainer.train", lambda **_: pytest.fail("retrained"))
        again = train_subword_model(counts, 100_000, tmp_path)
    assert again.path == first.path and again is not first
    assert train_subword_model({"a\tb": 1}, 10, tmp_path) is None
    tiny = train_subword_model({"ab": 1, "ሰላም": 1}, 2, tmp_path)  # fewer pieces than characters
    assert tiny.segment("ሰላም") and "".join(tiny.segment("ሰላም")) == "ሰላም"


# ---- the aligner -----------------------------------------------------------


def test_subword_alignment_links_words_through_pieces(monkeypatch, cache):
    pairs, _ = morphology_corpus(300)
    seen = {}
    real_runs, real_segment = eflomal._eflomal_runs, subword.segment_sentences

    def runs(*args, **kwargs):
        seen["runs"] = real_runs(*args, **kwargs)
        return seen["runs"]

    def segment(model, sents, max_tokens):
        seen["segments"] = real_segment(model, sents, max_tokens)
        return seen["segments"]

    monkeypatch.setattr(eflomal, "_eflomal_runs", runs)
    monkeypatch.setattr(subword, "segment_sentences", segment)
    aligner = EflomalAligner(progress=False, subword="src=40,tgt=none", symmetrization="union", subword_vote=False)
    forward, reverse = aligner.align_directional(pairs)
    _, owners, _ = seen["segments"]
    assert any(len(o) > len(s) for o, (s, _) in zip(owners, pairs))  # source words were split
    ((piece_fwd, piece_rev),) = seen["runs"]
    for n in range(len(pairs)):
        assert forward[n] == {(owners[n][i], j) for i, j in piece_fwd[n]}
        assert reverse[n] == {(owners[n][i], j) for i, j in piece_rev[n]}
    union = aligner.align(pairs)
    assert union == [f | r for f, r in zip(forward, reverse)]  # symmetrized on words
    assert all(name.startswith("unigram-") for name in os.listdir(cache / "subword"))


def f1(pred, gold):
    hits = sum(len(p & g) for p, g in zip(pred, gold))
    return 2 * hits / max(1, sum(map(len, pred)) + sum(map(len, gold)))


def test_subwords_align_morphemes():
    pairs, gold = morphology_corpus(300)
    words = EflomalAligner(progress=False, subword="none").align(pairs)
    pieces = EflomalAligner(progress=False, subword="src=40,tgt=none", subword_vote=False).align(pairs)
    assert f1(pieces, gold) > 0.85
    assert f1(pieces, gold) > f1(words, gold)
    assert EflomalAligner(progress=False, subword="src=40,tgt=none", subword_vote=False).align(pairs) == pieces


def reference_align(pairs, seed=0, symmetrization="grow-diag-final-and", lowercase=True):
    """The aligner before subwords and runs, verbatim: words, one eflomal call."""
    kept = [n for n, (s, t) in enumerate(pairs) if len(s) and len(t)]
    result = [frozenset()] * len(pairs)
    if not kept:
        return result
    fold = str.lower if lowercase else str
    src = [[fold(w) for w in pairs[n][0][:MAX_TOKENS]] for n in kept]
    tgt = [[fold(w) for w in pairs[n][1][:MAX_TOKENS]] for n in kept]
    iters = max(2, int(round(5000 / math.sqrt(len(src)))))
    quarter = max(1, iters // 4)
    binary = Path(__import__("eflomal").__file__).parent / "bin" / "eflomal"
    env = dict(os.environ, OMP_NUM_THREADS="2,1")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        eflomal._write_text(work / "src", src)
        eflomal._write_text(work / "tgt", tgt)
        shim = eflomal._seed_shim()
        if shim is not None:
            (work / "seed").write_bytes(hashlib.sha256(str(seed).encode()).digest())
            env["XLNER_EFLOMAL_SEED_FILE"] = str(work / "seed")
            env["LD_PRELOAD"] = " ".join(filter(None, [str(shim), env.get("LD_PRELOAD", "")]))
        args = [str(binary), "-q", "-m", "3", "-s", str(work / "src"), "-t", str(work / "tgt"), "-n", "2", "-N", "0.2"]
        args += [
            "-1",
            str(max(2, quarter)),
            "-2",
            str(quarter),
            "-3",
            str(iters),
            "-f",
            str(work / "fwd"),
            "-r",
            str(work / "rev"),
        ]
        subprocess.run(args, env=env, check=True, capture_output=True)
        fwd = eflomal._read_links(work / "fwd", len(src))
        rev = eflomal._read_links(work / "rev", len(src))
    for n, f, r in zip(kept, fwd, rev):
        result[n] = symmetrize(f, r, symmetrization, len(pairs[n][0]), len(pairs[n][1]))
    return result


WORDS = st.sampled_from(["a", "B", "c", "dd", "Ee", "ሰላም", "!", "a b", "x"])


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.tuples(st.lists(WORDS, max_size=5), st.lists(WORDS, max_size=5)), min_size=1, max_size=8),
    st.integers(0, 3),
    st.sampled_from(["grow-diag-final-and", "union", "intersection"]),
    st.booleans(),
)
def test_defaults_equal_the_plain_aligner(pairs, seed, symmetrization, lowercase):
    expected = reference_align(pairs, seed, symmetrization, lowercase)
    options = {"progress": False, "seed": seed, "symmetrization": symmetrization, "lowercase": lowercase}
    assert EflomalAligner(**options).align(pairs) == expected
    assert EflomalAligner(**options, subword="none", runs=1).align(pairs) == expected


def test_runs_take_the_majority_of_seeds():
    pairs, _ = morphology_corpus(120, seed=5)
    single = [EflomalAligner(progress=False, seed=s, n_samplers=1).align_directional(pairs) for s in (7, 8, 9)]
    voted = EflomalAligner(progress=False, seed=7, runs=3, n_samplers=1)
    forward, reverse = voted.align_directional(pairs)
    for d, links in enumerate((forward, reverse)):
        runs = [run[d] for run in single]
        assert links == majority_vote(runs)
        assert links == [frozenset(l for l in set().union(*a) if sum(l in x for x in a) >= 2) for a in zip(*runs)]
    assert any(len({run[0][n] for run in single}) > 1 for n in range(len(pairs)))  # the seeds disagree somewhere
    assert voted.align(pairs) == [symmetrize(f, r, voted.symmetrization) for f, r in zip(forward, reverse)]
    assert majority_vote([[frozenset({(0, 0)})]] * 2 + [[frozenset({(1, 1)})]] * 2) == [frozenset()]


def test_cli_subword_and_runs(tmp_path):
    pairs, _ = morphology_corpus(150)
    (tmp_path / "src.txt").write_text("\n".join(" ".join(s) for s, _ in pairs) + "\n", encoding="utf-8")
    (tmp_path / "tgt.txt").write_text("\n".join(" ".join(t) for _, t in pairs) + "\n", encoding="utf-8")
    out = tmp_path / "out.pharaoh"
    base = ["align", str(tmp_path / "src.txt"), str(tmp_path / "tgt.txt"), "-o", str(out)]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "--subword", "src=40,tgt=none", "--runs", "3"])
    assert result.exit_code == 0, result.output
    expected = EflomalAligner(progress=False, subword="src=40", runs=3).align(pairs)
    assert read_pharaoh(out) == expected
    result = runner.invoke(app, [*base, "--subword", "lots"])
    assert result.exit_code == 2 and "subword" in result.output
    assert runner.invoke(app, [*base, "--runs", "0"]).exit_code == 2


def test_vote_keeps_links_three_of_four_alignments_share():
    from xlner.align.eflomal import vote

    a, b, c, d = (
        frozenset({(0, 0), (1, 1)}),
        frozenset({(0, 0), (1, 2)}),
        frozenset({(0, 0), (1, 1)}),
        frozenset({(1, 1)}),
    )
    assert vote((a, b, c, d), 3) == frozenset({(0, 0), (1, 1)})
    assert vote((a, b, c, d), 4) == frozenset()


def test_subword_vote_combines_word_and_subword_links():
    from xlner.align.eflomal import vote

    pairs, _ = morphology_corpus(150, seed=3)
    sub = EflomalAligner(progress=False, subword="40", n_samplers=1, subword_vote=False)
    words = EflomalAligner(progress=False, n_samplers=1, subword="none")
    expected = [vote(links, 3) for links in zip(*sub.align_directional(pairs), *words.align_directional(pairs))]
    voted = EflomalAligner(progress=False, subword="40", n_samplers=1, subword_vote=True)
    assert voted.align(pairs) == expected
    assert "subword_vote" in voted.config() and "subword_vote" not in sub.config()
    # without subwords the option changes nothing
    assert EflomalAligner(progress=False, n_samplers=1, subword_vote=True).align(pairs) == words.align(pairs)


def test_on_progress_reports_growing_shares_up_to_one_and_leaves_the_links_alone():
    from xlner.align.eflomal import _stage_share

    log = "Aligning with model 1 (4 iterations)\nDone: 0.1 s\nAligning with model 2 (2 iterations)\n"
    assert _stage_share([log], [4, 2, 6]) == pytest.approx(4 / 24)  # one of six stages: model 1 of one direction
    assert _stage_share([log + "Done: 0.1 s\n" * 5], [4, 2, 6]) == 1.0
    # one process per direction (priors): each log's finished stages count
    assert _stage_share([log, "Done: 0.1 s"], [4, 2, 6]) == pytest.approx(8 / 24)
    pairs, _ = morphology_corpus(300, seed=2)
    shares: list[float] = []
    options = dict(progress=False, n_samplers=1, n_iterations=(3000, 3000, 6000), subword="none")
    aligner = EflomalAligner(**options, on_progress=shares.append)
    assert aligner.align(pairs) == EflomalAligner(**options).align(pairs)
    assert "on_progress" not in aligner.config()
    assert shares and shares == sorted(shares) and all(0.0 <= s <= 1.0 for s in shares)
