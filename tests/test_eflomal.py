"""eflomal aligner: quality on a synthetic corpus, determinism, edge cases, extra parallel text."""

from __future__ import annotations

import json
import random

import pytest

from xlner.align.eflomal import MAX_TOKENS, EflomalAligner, find_parallel_files, run_eflomal
from xlner.align.tokenize import tokenize
from xlner.errors import InputError, XlnerError
from xlner.registry import registry


def synthetic_corpus(n_pairs: int, seed: int = 1):
    """Word-for-word translations (a random lexicon) with adjacent words swapped
    at random, so the true links are known and not simply monotone."""
    rng = random.Random(seed)
    lexicon = {f"s{k}": f"T{k}" for k in range(40)}
    pairs, gold = [], []
    for _ in range(n_pairs):
        src = [f"s{rng.randrange(40)}" for _ in range(rng.randint(3, 9))]
        order = list(range(len(src)))
        for k in range(0, len(order) - 1, 2):
            if rng.random() < 0.5:
                order[k], order[k + 1] = order[k + 1], order[k]
        tgt = [lexicon[src[i]] for i in order]
        pairs.append((src, tgt))
        gold.append(frozenset((i, j) for j, i in enumerate(order)))
    return pairs, gold


def f1(pred, gold):
    hits = sum(len(p & g) for p, g in zip(pred, gold))
    precision = hits / max(1, sum(map(len, pred)))
    recall = hits / max(1, sum(map(len, gold)))
    return 2 * precision * recall / max(1e-9, precision + recall)


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus(300)


def test_recovers_known_links_and_is_deterministic(corpus):
    pairs, gold = corpus
    aligner = registry.aligners.create("eflomal", progress=False)
    first = aligner.align(pairs)
    assert len(first) == len(pairs)
    assert f1(first, gold) > 0.9
    assert aligner.align(pairs) == first  # same input + seed -> same output
    assert EflomalAligner(progress=False, seed=0).align(pairs) == first


def test_directional_links_are_in_source_target_orientation():
    pairs = [(["a", "b"], ["w", "x", "y", "z"]), (["c", "d", "e"], ["q"])] * 5
    forward, reverse = EflomalAligner(progress=False).align_directional(pairs)
    for (src, tgt), f, r in zip(pairs, forward, reverse):
        for i, j in f | r:
            assert 0 <= i < len(src) and 0 <= j < len(tgt)
        # forward links each target word at most once, reverse each source word
        assert len({j for _, j in f}) == len(f)
        assert len({i for i, _ in r}) == len(r)


@pytest.mark.slow
def test_empty_long_and_unusual_tokens(corpus):
    pairs, gold = corpus
    long_src = [f"s{k % 40}" for k in range(MAX_TOKENS + 300)]
    long_tgt = [f"T{k % 40}" for k in range(MAX_TOKENS + 200)]
    odd = (["你好", "，", "世界", "!", "🙂", "ሰላም", "a b"], ["مرحبا", "،", "العالم", "!", "🙂", "ሰላም", "\\"])
    extended = [([], ["T1"]), (["s1"], []), ([], []), (long_src, long_tgt), odd] + pairs[:100]
    result = EflomalAligner(progress=False).align(extended)
    assert result[:3] == [frozenset()] * 3
    # a pair longer than eflomal's limit is aligned in windows (xlner.align.long): links in range, beyond the limit too
    assert result[3] and all(i < len(long_src) and j < len(long_tgt) for i, j in result[3])
    assert any(i >= MAX_TOKENS for i, _ in result[3])
    assert all(i < 7 and j < 7 for i, j in result[4])
    assert f1(result[5:], gold[:100]) > 0.8


def test_mismatched_counts_name_both():
    with pytest.raises(XlnerError, match=r"\(2\).*\(1\)"):
        run_eflomal([["a"], ["b"]], [["c"]])


def test_config_is_a_plain_dict():
    config = EflomalAligner(extra_parallel=["x"], src_lang="en", tgt_lang="de", seed=3).config()
    assert config["seed"] == 3 and config["extra_parallel"] == ["x"] and config["aligner"] == "eflomal"
    json.dumps(config)
    assert EflomalAligner(seed=1).config() != EflomalAligner(seed=2).config()
    with pytest.raises(XlnerError, match="symmetrization"):
        EflomalAligner(symmetrization="diag")


def write_parallel(folder, name, src_lines, tgt_lines, src_lang="en", tgt_lang="de"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.{src_lang}").write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    (folder / f"{name}.{tgt_lang}").write_text("\n".join(tgt_lines) + "\n", encoding="utf-8")


def test_extra_parallel_text_helps(tmp_path, corpus):
    pairs, gold = corpus
    extra_pairs, _ = synthetic_corpus(2000, seed=7)
    write_parallel(
        tmp_path / "corpus" / "en-de",
        "train",
        [" ".join(s) for s, _ in extra_pairs],
        [" ".join(t) for _, t in extra_pairs],
    )
    (tmp_path / "corpus" / "en-fr").mkdir()
    (tmp_path / "corpus" / "en-fr" / "train.en").write_text("ignored\n")
    # Two-word swapped pairs: alone, eflomal cannot tell s1->T1 from s1->T2;
    # the extra text's lexicon decides.
    small = [(["s1", "s2"], ["T2", "T1"]), (["s3", "s4"], ["T4", "T3"]), (["s5", "s6"], ["T5", "T6"])]
    aligner = EflomalAligner(extra_parallel=[tmp_path / "corpus"], src_lang="en", tgt_lang="de", progress=False)
    assert aligner.align(small) == [
        frozenset({(0, 1), (1, 0)}),
        frozenset({(0, 1), (1, 0)}),
        frozenset({(0, 0), (1, 1)}),
    ]
    assert len(aligner.extra_pairs()) == 2000
    capped = EflomalAligner(extra_parallel=[tmp_path / "corpus"], src_lang="en", tgt_lang="de", max_extra_pairs=10)
    assert len(capped.extra_pairs()) == 10


def test_find_parallel_files(tmp_path):
    write_parallel(tmp_path / "b", "dev", ["x"], ["y"])
    write_parallel(tmp_path / "a", "test", ["x"], ["y"])
    (tmp_path / "a" / "lonely.en").write_text("x\n")
    found = find_parallel_files([tmp_path], "en", "de")
    assert [(s.name, t.name) for s, t in found] == [("test.en", "test.de"), ("dev.en", "dev.de")]
    for spelling in ("a/test", "a/test.en", "a/test.de"):
        assert find_parallel_files([tmp_path / spelling], "en", "de") == [found[0]]
    with pytest.raises(InputError, match="lonely.de"):
        find_parallel_files([tmp_path / "a" / "lonely.en"], "en", "de")
    with pytest.raises(XlnerError, match="src_lang and tgt_lang"):
        find_parallel_files([tmp_path], None, None)
    with pytest.raises(InputError, match=r"no files \*\.en with a \*\.fr"):
        find_parallel_files([tmp_path], "en", "fr")


def test_unequal_parallel_files_are_an_error(tmp_path):
    write_parallel(tmp_path, "bad", ["one", "two"], ["eins"])
    aligner = EflomalAligner(extra_parallel=[tmp_path / "bad"], src_lang="en", tgt_lang="de", progress=False)
    with pytest.raises(InputError, match=r"bad\.en.*2 lines.*bad\.de has 1"):
        aligner.align([(["a"], ["b"])])


def test_tokenize_splits_punctuation_in_any_script():
    assert tokenize("Hello, world!") == ["Hello", ",", "world", "!"]
    assert tokenize("It costs 3.5 euros (1,000 in total).") == [
        "It",
        "costs",
        "3.5",
        "euros",
        "(",
        "1,000",
        "in",
        "total",
        ")",
        ".",
    ]
    assert tokenize("नमस्ते दुनिया।") == ["नमस्ते", "दुनिया", "।"]
    assert tokenize("مرحبا، بالعالم؟") == ["مرحبا", "،", "بالعالم", "؟"]
    assert tokenize("  ") == []


def test_iterations_read_from_text_and_checked():
    from xlner.align.eflomal import EflomalAligner
    from xlner.errors import XlnerError

    assert EflomalAligner(n_iterations="8, 8,32").n_iterations == (8, 8, 32)  # as --aligner-option gives it
    assert EflomalAligner(n_iterations=[4, 4, 16]).n_iterations == (4, 4, 16)
    for bad in ("8,8", "a,b,c", (1.5, 2, 3), (1, -1, 2), 5):
        with pytest.raises(XlnerError, match="three whole numbers"):
            EflomalAligner(n_iterations=bad)
