"""eflomal priors: cache keyed on corpus contents and options, links of the priors path, CLI flag, bad values."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from typer.testing import CliRunner

from xlner.align import eflomal
from xlner.align.eflomal import EflomalAligner, parse_priors
from xlner.cli import app
from xlner.errors import XlnerError
from xlner.io.pharaoh import read_pharaoh

LEXICON = {f"s{k}": f"T{k}" for k in range(30)}


def write_corpus(folder, n_pairs, seed=1):
    """Line-aligned en/de files of word-for-word translations (adjacent words swapped at random)."""
    rng = random.Random(seed)
    src_lines, tgt_lines = [], []
    for _ in range(n_pairs):
        src = [f"s{rng.randrange(30)}" for _ in range(rng.randint(3, 8))]
        order = list(range(len(src)))
        for k in range(0, len(order) - 1, 2):
            if rng.random() < 0.5:
                order[k], order[k + 1] = order[k + 1], order[k]
        src_lines.append(" ".join(src))
        tgt_lines.append(" ".join(LEXICON[src[i]] for i in order))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.en").write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    (folder / "corpus.de").write_text("\n".join(tgt_lines) + "\n", encoding="utf-8")
    return folder


def aligner(corpus, cache, **options):
    options = {"subword": "none", "subword_vote": False, **options}
    return EflomalAligner(
        extra_parallel=[corpus],
        src_lang="en",
        tgt_lang="de",
        priors=True,
        priors_cache=cache,
        progress=False,
        **options,
    )


@pytest.fixture
def spy_builds(monkeypatch):
    """Counts how often priors are computed (cached entries are read, not built)."""
    calls = []
    real = EflomalAligner._build_priors

    def build(self, folder, on_progress):
        calls.append(folder)
        return real(self, folder, on_progress)

    monkeypatch.setattr(EflomalAligner, "_build_priors", build)
    eflomal._PRIORS_MEMO.clear()
    return calls


INPUT = [(["s1", "s2", "s3"], ["T1", "T2", "T3"]), (["s4", "s5"], ["T5", "T4"]), (["s7"], ["T7"])]


def test_priors_alone_give_the_lexicon_links(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 200)
    links = aligner(corpus, tmp_path / "cache").align(INPUT)
    assert links == [frozenset({(0, 0), (1, 1), (2, 2)}), frozenset({(0, 1), (1, 0)}), frozenset({(0, 0)})]
    assert len(spy_builds) == 1


def test_cache_hit_on_same_corpus_and_options(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 100)
    first = aligner(corpus, tmp_path / "cache").align(INPUT)
    eflomal._PRIORS_MEMO.clear()
    assert aligner(corpus, tmp_path / "cache").align(INPUT) == first
    assert len(spy_builds) == 1
    # the same bytes under another name are the same corpus
    copy = write_corpus(tmp_path / "copy", 100)
    assert aligner(copy, tmp_path / "cache").priors_key() == aligner(corpus, tmp_path / "cache").priors_key()


def test_changed_corpus_or_options_recompute(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 100)
    base = aligner(corpus, tmp_path / "cache")
    base.align(INPUT)
    keys = {base.priors_key()}
    for changed in (
        aligner(corpus, tmp_path / "cache", seed=1),
        aligner(corpus, tmp_path / "cache", lowercase=False),
        aligner(corpus, tmp_path / "cache", null_prior=0.3),
        aligner(corpus, tmp_path / "cache", runs=3),
        aligner(corpus, tmp_path / "cache", subword=40),
        aligner(corpus, tmp_path / "cache", max_extra_pairs=50),
    ):
        keys.add(changed.priors_key())
    assert len(keys) == 7
    with open(corpus / "corpus.en", "a", encoding="utf-8") as out:
        out.write("s1 s2\n")
    with open(corpus / "corpus.de", "a", encoding="utf-8") as out:
        out.write("T1 T2\n")
    edited = aligner(corpus, tmp_path / "cache")
    assert edited.priors_key() not in keys
    edited.align(INPUT)
    assert len(spy_builds) == 2


def test_symmetrization_and_cache_folder_do_not_change_the_key(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 20)
    key = aligner(corpus, tmp_path / "a").priors_key()
    assert aligner(corpus, tmp_path / "b", symmetrization="union").priors_key() == key
    assert aligner(corpus, tmp_path / "a").priors_folder().parent == tmp_path / "a"


def test_subwords_vote_and_runs_use_priors_per_segmentation(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 150)
    voted = aligner(corpus, tmp_path / "cache", subword=40, subword_vote=True, runs=3)
    links = voted.align(INPUT)
    assert len(spy_builds) == 2  # subword priors and word priors
    assert (spy_builds[0] / "src.model").is_file() and (spy_builds[0] / "tgt.model").is_file()
    assert all(i < len(s) and j < len(t) for (s, t), a in zip(INPUT, links) for i, j in a)
    assert (0, 0) in links[2]
    eflomal._PRIORS_MEMO.clear()
    assert voted.align(INPUT) == links
    assert len(spy_builds) == 2


def test_config_marks_priors_only_when_used(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 10)
    assert "priors" not in EflomalAligner(progress=False).config()
    assert "priors" not in EflomalAligner(progress=False, priors="auto").config()
    assert aligner(corpus, tmp_path).config()["priors"] is True
    assert "priors_cache" not in aligner(corpus, tmp_path).config()
    plain = EflomalAligner(extra_parallel=[corpus], src_lang="en", tgt_lang="de", progress=False, priors=False)
    assert "priors" not in plain.config() and not plain.uses_priors


@pytest.mark.parametrize("value", ["maybe", 2, 0.5, ["true"]])
def test_bad_priors_values_are_clear_errors(value):
    with pytest.raises(XlnerError, match="priors must be true, false or auto"):
        EflomalAligner(priors=value)


def test_priors_true_needs_extra_text():
    with pytest.raises(XlnerError, match="needs extra parallel text"):
        EflomalAligner(priors=True)


@pytest.mark.parametrize(
    ("value", "parsed"), [(True, True), ("on", True), ("False", False), (None, False), ("AUTO", "auto"), (0, False)]
)
def test_parse_priors(value, parsed):
    assert parse_priors(value) == parsed


def test_cli_align_priors_flag(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 100)
    (tmp_path / "in.en").write_text("s1 s2 s3\ns4 s5\n", encoding="utf-8")
    (tmp_path / "in.de").write_text("T1 T2 T3\nT5 T4\n", encoding="utf-8")
    args = ["align", str(tmp_path / "in.en"), str(tmp_path / "in.de"), "-o", str(tmp_path / "out.pharaoh")]
    args += ["--extra-parallel", str(corpus), "--src-lang", "en", "--tgt-lang", "de", "--subword", "none"]
    args += ["--aligner-option", f"priors_cache={tmp_path / 'cache'}"]
    runner = CliRunner()
    result = runner.invoke(app, [*args, "--priors", "true"])
    assert result.exit_code == 0, result.output
    assert len(spy_builds) == 1 and spy_builds[0].parent == tmp_path / "cache"
    assert read_pharaoh(tmp_path / "out.pharaoh") == [{(0, 0), (1, 1), (2, 2)}, {(0, 1), (1, 0)}]
    bad = runner.invoke(app, [*args, "--priors", "sometimes"])
    assert bad.exit_code != 0 and "priors must be true, false or auto" in bad.output


def test_cli_project_passes_the_priors_option(tmp_path, spy_builds):
    corpus = write_corpus(tmp_path / "corpus", 100)
    (tmp_path / "src.conll").write_text("s1 B-PER\ns2 O\ns3 O\n\ns4 O\ns5 B-LOC\n", encoding="utf-8")
    (tmp_path / "tgt.txt").write_text("T1 T2 T3\nT5 T4\n", encoding="utf-8")
    args = ["project", "--source", str(tmp_path / "src.conll"), "--target", str(tmp_path / "tgt.txt")]
    args += ["--src-lang", "en", "--tgt-lang", "de", "--extra-parallel", str(corpus)]
    args += ["--output", str(tmp_path / "out.conll"), "--aligner-option", "subword=none"]
    args += ["--aligner-option", "priors=true", "--aligner-option", f"priors_cache={tmp_path / 'cache'}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(spy_builds) == 1 and spy_builds[0].parent == tmp_path / "cache"
    assert (tmp_path / "out.conll").read_text(encoding="utf-8").split("\n")[0].split()[-1] == "B-PER"


def test_bench_priors_is_registered(capsys):
    import importlib

    from xlner.bench import BENCHMARKS

    module = importlib.import_module(BENCHMARKS["priors"])
    with pytest.raises(SystemExit) as done:
        module.main(["--help"])
    assert done.value.code == 0 and "--part" in capsys.readouterr().out


def test_unwritable_priors_cache_is_a_clear_error(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 20)
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(XlnerError, match="priors cache .* cannot create a folder"):
        aligner(corpus, tmp_path / "file").align(INPUT)


def write_compound_corpus(folder, n_pairs, seed=2):
    """en/de pairs where the word pair "s0 s1" is one target word "T01" (a compound); other words one to one."""
    rng = random.Random(seed)
    src_lines, tgt_lines = [], []
    for _ in range(n_pairs):
        words = [f"s{rng.randrange(2, 30)}" for _ in range(rng.randint(2, 6))]
        at = rng.randrange(len(words) + 1)
        src_lines.append(" ".join([*words[:at], "s0", "s1", *words[at:]]))
        tgt_lines.append(" ".join([*(LEXICON[w] for w in words[:at]), "T01", *(LEXICON[w] for w in words[at:])]))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.en").write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    (folder / "corpus.de").write_text("\n".join(tgt_lines) + "\n", encoding="utf-8")
    return folder


def test_each_direction_has_lexical_priors_of_its_own_links(tmp_path):
    """Lexical priors count each direction's own links; fertilities count every word, unlinked ones as 0."""
    corpus = write_compound_corpus(tmp_path / "corpus", 300)
    tool = aligner(corpus, tmp_path / "cache")
    tool.align(INPUT)
    lex, _, _, src_fertility, tgt_fertility, reverse_lex = eflomal._read_priors_index(tool.priors_folder())
    extra = tool.extra_pairs()
    plain = EflomalAligner(subword="none", subword_vote=False, progress=False)
    for table, links in zip((lex, reverse_lex), plain.align_directional(extra)):
        counts = Counter((s[i], t[j]) for (s, t), a in zip(extra, links) for i, j in a)
        assert {(e, f): n for e, row in table.items() for f, n in row.items()} == counts
    # every word of the extra text counts once in the fertility tables, unlinked ones as fertility 0
    for table, side in ((src_fertility, 0), (tgt_fertility, 1)):
        words = Counter(w for pair in extra for w in pair[side])
        assert {w: sum(row.values()) for w, row in table.items()} == words
    assert src_fertility["s0"].get(0, 0) > 250  # s0 is never linked forward
    # the compound t01 is one source word's in each direction, not the same one's
    assert set(lex["s1"]) == {"t01"} and set(reverse_lex["s0"]) == {"t01"}
    assert "s0" not in lex and "s1" not in reverse_lex


def test_one_process_per_direction_gives_the_same_links_as_one_for_both(tmp_path, monkeypatch):
    """Split runs (each direction its own priors file) equal one joint process when the two priors agree."""
    corpus = write_corpus(tmp_path / "corpus", 150)
    tool = aligner(corpus, tmp_path / "cache")
    priors, _ = tool.load_priors(None)
    same = (*priors[:5], priors[0])
    src = [s for s, _ in INPUT * 20]
    tgt = [t for _, t in INPUT * 20]
    runs = {}
    for split in (True, False):
        monkeypatch.setattr(eflomal, "REVERSE_LEX_PRIORS", split)
        runs[split] = eflomal._eflomal_runs(src, tgt, 3, (2, 2, 4), 2, 1.0, 0.2, [0, 1], len(src), priors=same)
    assert runs[True] == runs[False]
    assert any(runs[True][0][0])
