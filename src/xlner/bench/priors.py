"""Cached eflomal priors against joint alignment on every public set; long sentence pairs.

    xlner bench priors [--sets ...] [--seeds 0 1 2] [--part priors long] [--cache-dir DIR] [--output FILE | --no-write]

Section "priors": for each public set (as ``xlner bench defaults`` builds and
scores it), F1 (mean ± range over the seeds) of the offline recipe (ILP
offline, intersection, its segmentation) on joint alignment (the input aligned
together with ../shared/data/parallel; links from the shared benchmark cache,
see :mod:`xlner.bench.links`) and on alignment with priors
(``EflomalAligner(priors=True)``: the parallel text aligned once, the input
alone with its priors). Times: the joint alignment, the first priors run
(priors built), a later run (priors read from the cache, new aligner, as a new
process would) and a run on a different 799-pair input.

Section "long-sentences": one pair of about 3,000 and one of about 10,000
tokens (consecutive Europarl-NER en/de test sentences joined), aligned
(windows of :mod:`xlner.align.long`) and projected with the recipe, with and
without cached priors; F1 against the joined gold, and the F1 of the same
sentences aligned one by one for reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Sequence

from xlner.bench.links import cache_root, cached_json, digest, recipe_segmentation, seed_cell
from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.data import shared_data_dir
from xlner.recipe import BENCH_SEEDS, EFLOMAL_PRIORS
from xlner.types import Alignment, Span

#: Bump when the priors path changes its links (cached priors results are then recomputed).
RESULTS_VERSION = 2
#: Pairs in the "different input" run.
OTHER_PAIRS = 799
#: Target sizes (source tokens) of the long pairs.
LONG_SIZES = (3_000, 10_000)
PARTS = ("priors", "long")


def other_input(name: str, evalset: Any) -> tuple[list[tuple[list[str], list[str]]], str]:
    """A different 799-pair input of the set's language pair, and what it is.

    Europarl de/es: CoNLL-2003 English test sentences and their MarianMT translations
    (conll-projection); other sets: their last 799 pairs.
    """
    if name.startswith("europarl-"):
        from xlner.io.conll import read_conll_tokens

        lang = evalset.tgt_lang
        root = shared_data_dir() / "conll-projection"
        english = read_conll_tokens(root / "original" / "en" / "en.conll.test.tsv").sentences
        translated = root / "automatic_projections" / f"en2{lang}" / "MarianMT.50000.awesome.test.tsv"
        target = read_conll_tokens(translated).sentences
        pairs = [
            (list(e.tokens), list(t.tokens))
            for e, t in zip(english, target)
            if e.tokens and t.tokens and e.tokens[0] != "-DOCSTART-"
        ]
        return pairs[:OTHER_PAIRS], f"CoNLL-2003 en test + MarianMT {lang}, first {OTHER_PAIRS}"
    pairs = [(list(s), list(t)) for s, t in evalset.token_pairs][-OTHER_PAIRS:]
    return pairs, f"last {OTHER_PAIRS} pairs of the set"


def _aligner(lang: str, seed: int, priors_root: Path, **options: Any) -> Any:
    from xlner.align.eflomal import EflomalAligner

    return EflomalAligner(
        extra_parallel=[shared_data_dir() / "parallel"],
        src_lang="en",
        tgt_lang=lang,
        seed=seed,
        progress=False,
        priors=True,
        priors_cache=priors_root,
        **options,
    )


def _timed_align(aligner: Any, pairs: Sequence[Any]) -> tuple[list[Alignment], float]:
    from xlner.align import eflomal

    eflomal._PRIORS_MEMO.clear()  # every run reads its priors from disk, as a new process does
    started = time.perf_counter()
    links = aligner.align(pairs)
    return links, time.perf_counter() - started


def priors_run(name: str, evalset: Any, seed: int, cache_dir: Path | None) -> dict[str, Any]:
    """Priors alignment of the set (first and later run) and of a different input; cached as JSON."""
    pairs = [(list(s), list(t)) for s, t in evalset.token_pairs]
    other, other_what = other_input(name, evalset)
    root = cache_root(cache_dir)
    key = digest(pairs, other, evalset.tgt_lang, seed, recipe_segmentation(), RESULTS_VERSION)

    def compute() -> dict[str, Any]:
        import json

        priors_root = root.parent / "eflomal-priors"
        aligner = _aligner(evalset.tgt_lang, seed, priors_root)
        links, first = _timed_align(aligner, pairs)
        folders = {_segmentation(aligner, words).priors_folder() for words in (False, True)}
        metas = [json.loads((f / "meta.json").read_text()) for f in folders if (f / "meta.json").is_file()]
        _, later = _timed_align(_aligner(evalset.tgt_lang, seed, priors_root), pairs)
        _, other_seconds = _timed_align(_aligner(evalset.tgt_lang, seed, priors_root), other)
        return {
            "links": [sorted(a) for a in links],
            "first": first,
            "build": sum(meta["seconds"] for meta in metas),
            "extra_pairs": max(meta["pairs"] for meta in metas),
            "later": later,
            "other": other_seconds,
            "other_pairs": len(other),
            "other_what": other_what,
        }

    return cached_json(root / f"priors-{name}-{key}.json", compute)


def _segmentation(aligner: Any, words: bool) -> Any:
    """The aligner, or (``words``) the word-level aligner its subword vote also runs."""
    from dataclasses import replace

    return replace(aligner, subword="none", subword_vote=False) if words else aligner


def _project_score(evalset: Any, alignments: Sequence[Alignment]) -> float:
    from xlner.bench.defaults import RECIPES, projected_pairs, score
    from xlner.project import project

    recipe = RECIPES[0]
    return score(evalset, project(projected_pairs(evalset, alignments), recipe.method, **recipe.options))


def main_job_run(cache_dir: Path | None, tgt_lang: str = "de") -> dict[str, float]:
    """The README main job (``xlner project`` Europarl-NER en->de with the parallel text) with ``priors=true``,
    run twice as new processes (the first makes sure the priors are cached): the second run's wall and CPU
    seconds (the process and its children), and the alignment time it prints."""
    import re
    import resource
    import subprocess
    import sys
    import tempfile

    data = shared_data_dir()
    priors_root = cache_root(cache_dir).parent / "eflomal-priors"
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            str(Path(sys.executable).with_name("xlner")),
            "project",
            "--source",
            str(data / "europarl-ner" / "en.test.conll"),
            "--target",
            str(data / "europarl-ner" / f"{tgt_lang}.test.conll"),
            "--src-lang",
            "en",
            "--tgt-lang",
            tgt_lang,
            "--extra-parallel",
            str(data / "parallel"),
            "--output",
            str(Path(tmp) / "out.conll"),
            "--aligner-option",
            "priors=true",
            "--aligner-option",
            f"priors_cache={priors_root}",
        ]
        subprocess.run(command, check=True, capture_output=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = re.search(r"align ([0-9.]+) s", done.stdout + done.stderr)
    return {"wall": wall, "cpu": cpu, "align": float(found.group(1)) if found else float("nan")}


def run_priors(set_names: Sequence[str], seeds: Sequence[int], cache_dir: Path | None, command: str) -> str:
    """Markdown of the "priors" section."""
    from xlner.bench.defaults import RECIPES, load_set
    from xlner.bench.links import alignments_for

    rows, verdicts = [], []
    for name in set_names:
        evalset = load_set(name)
        joint_f1, priors_f1, joint_s, first, later, other = [], [], [], [], [], []
        build, extra, other_what = [], 0, ""
        for seed in seeds:
            links, seconds, _ = alignments_for(name, evalset.token_pairs, evalset.tgt_lang, seed, cache_dir)
            joint_f1.append(_project_score(evalset, links))
            joint_s.append(seconds)
            result = priors_run(name, evalset, seed, cache_dir)
            alignments = [frozenset(map(tuple, a)) for a in result["links"]]
            priors_f1.append(_project_score(evalset, alignments))
            first.append(result["first"])
            build.append(result["build"])
            extra = result["extra_pairs"]
            later.append(result["later"])
            other.append(result["other"])
            other_what = f"{result['other_what']} ({result['other_pairs']} pairs)"
            print(f"{name} seed {seed}: joint {joint_f1[-1]:.3f} priors {priors_f1[-1]:.3f}", flush=True)
        holds = statistics.fmean(priors_f1) >= min(joint_f1)
        verdicts.append(holds)
        rows.append(
            [
                name,
                len(evalset.token_pairs),
                extra,
                seed_cell(joint_f1),
                seed_cell(priors_f1),
                "yes" if holds else "no",
                seed_cell(joint_s, 1),
                seed_cell(build, 1),
                seed_cell(later, 1),
                f"{seed_cell(other, 1)}: {other_what}",
            ]
        )
    header = [
        "set",
        "pairs",
        "extra pairs",
        "F1 joint",
        "F1 priors",
        "priors >= worst joint seed",
        "align s joint",
        "priors build s (once)",
        "align s priors, later run",
        "align s priors, different input",
    ]
    text = [
        f"Command: `{command}`",
        "",
        f"Offline recipe ({RECIPES[0].name}, segmentation {recipe_segmentation()}), seeds "
        f"{', '.join(map(str, seeds))}; each cell is the mean ± the range max-min over the seeds. Joint: the input "
        "aligned together with ../shared/data/parallel (today's default, `priors=false`). Priors: "
        "`EflomalAligner(priors=True)`, the parallel text aligned once per seed and segmentation, priors of its "
        "links cached on disk (eflomal's, with lexical priors per direction and fertility 0 counted, "
        "`xlner.align.eflomal.priors_counts`), the input aligned alone with them. Metric as in `xlner bench "
        "defaults` (F1 against gold; translate-train: agreement with T-Projection). Times are wall seconds of "
        "`align()` on this 2-core machine shared with other jobs (load varies). Priors build: aligning the "
        "parallel text and computing its priors (per seed, all segmentations the recipe aligns; a first run costs "
        "this plus a later run); later runs read the priors from disk in a new aligner.",
        "",
        markdown_table(header, rows),
        "",
        f"Priors hold their F1 (mean at least the worst joint seed) on {sum(verdicts)} of {len(verdicts)} sets; "
        "they are the default only if they hold on every public set. "
        f"Default now: `xlner.recipe.EFLOMAL_PRIORS = {EFLOMAL_PRIORS!r}`"
        + (" (joint alignment)." if EFLOMAL_PRIORS is False else "."),
    ]
    if "europarl-de" in set_names:
        job = main_job_run(cache_dir)
        text += [
            "",
            "README main job, second run (`xlner project` Europarl-NER en->de with `--extra-parallel "
            "../shared/data/parallel --aligner-option priors=true`, seed 0, priors cached; a new process): "
            f"alignment {job['align']:.1f} s as the command prints it, whole command {job['wall']:.1f} s wall, "
            f"{job['cpu']:.1f} s CPU (user + system, the command and eflomal). Target: alignment <= 5 s wall.",
        ]
    return "\n".join(text)


def long_pair(size: int) -> tuple[list[str], list[str], list[Span], list[Span], list[Any]]:
    """Consecutive Europarl-NER en/de test sentences joined until the English side has ``size`` tokens."""
    from xlner.io import read_conll

    data = shared_data_dir() / "europarl-ner"
    english = read_conll(data / "en.test.conll").sentences
    german = read_conll(data / "de.test.conll").sentences
    src: list[str] = []
    tgt: list[str] = []
    src_spans: list[Span] = []
    tgt_spans: list[Span] = []
    used = []
    for e, g in zip(english * (1 + size // 10_000), german * (1 + size // 10_000)):
        if len(src) >= size:
            break
        src_spans += [Span(s.start + len(src), s.end + len(src), s.label) for s in e.spans]
        tgt_spans += [Span(s.start + len(tgt), s.end + len(tgt), s.label) for s in g.spans]
        src += list(e.tokens)
        tgt += list(g.tokens)
        used.append((e, g))
    return src, tgt, src_spans, tgt_spans, used


def run_long(cache_dir: Path | None, command: str) -> str:
    """Markdown of the "long-sentences" section."""
    from xlner.align.eflomal import EflomalAligner
    from xlner.align.long import LONG_PAIR_TOKENS, WINDOW_TOKENS
    from xlner.bench.defaults import RECIPES
    from xlner.metrics import evaluate_spans
    from xlner.project import project
    from xlner.types import SentencePair

    recipe = RECIPES[0]
    rows = []
    priors_root = cache_root(cache_dir).parent / "eflomal-priors"
    for size in LONG_SIZES:
        src, tgt, src_spans, tgt_spans, used = long_pair(size)
        for label, aligner in (
            ("no extra text", EflomalAligner(seed=0, progress=False)),
            ("cached priors", _aligner("de", 0, priors_root)),
        ):
            if aligner.uses_priors:  # built (or read) before the clock starts, for every segmentation it aligns
                for words in (False, True):
                    _segmentation(aligner, words).load_priors()
            started = time.perf_counter()
            (links,) = aligner.align([(src, tgt)])
            aligned = time.perf_counter() - started
            (spans,) = project([SentencePair(src, tgt, src_spans, links)], recipe.method, **recipe.options)
            total = time.perf_counter() - started
            f1 = evaluate_spans([tgt_spans], [spans]).micro.f1
            pairs = [(list(e.tokens), list(g.tokens)) for e, g in used]
            one_by_one = aligner.align(pairs)
            sentence_pairs = [SentencePair(e.tokens, g.tokens, list(e.spans), a) for (e, g), a in zip(used, one_by_one)]
            reference = project(sentence_pairs, recipe.method, **recipe.options)
            ref_f1 = evaluate_spans([g.spans for _, g in used], reference).micro.f1
            rows.append(
                [
                    f"{len(src):,} / {len(tgt):,}",
                    len(used),
                    label,
                    f"{aligned:.1f}",
                    f"{total:.1f}",
                    "yes" if total < 30 else "no",
                    f"{f1:.3f}",
                    f"{ref_f1:.3f}",
                ]
            )
            print(rows[-1], flush=True)
    header = [
        "tokens en / de",
        "sentences joined",
        "alignment",
        "align s",
        "align + project s",
        "< 30 s",
        "F1 (one long pair)",
        "F1 (same sentences one by one)",
    ]
    text = [
        f"Command: `{command}`",
        "",
        f"One pair of consecutive Europarl-NER en/de test sentences joined (gold spans shifted along), aligned "
        f"by eflomal (seed 0, the recipe's segmentation) in windows of about {WINDOW_TOKENS} tokens (pairs with "
        f"a side over {LONG_PAIR_TOKENS} tokens; cuts at segment ends both sides share, paired by length, "
        "xlner.align.long) and projected with the offline recipe "
        f"({recipe.name}, `xlner.project.project`). 'no extra text': eflomal on the pair alone (its windows are "
        "the only sentences, so eflomal's schedule gives them 5000/sqrt(windows) iterations); 'cached priors': "
        "with the en-de priors of ../shared/data/parallel (built beforehand, not timed). Wall seconds on this "
        "shared 2-core machine. The last column aligns and projects the same sentences as separate pairs, "
        "for reference.",
        "",
        markdown_table(header, rows),
    ]
    return "\n".join(text)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its sections."""
    from xlner.bench.defaults import ALL_SETS

    parser = argparse.ArgumentParser(prog="xlner bench priors", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=ALL_SETS, choices=ALL_SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(BENCH_SEEDS))
    parser.add_argument("--part", nargs="+", default=list(PARTS), choices=PARTS, help="sections to run")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default $XLNER_CACHE or ~/.cache/xlner)"
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    command = command_line("priors", argv)
    if "priors" in args.part:
        partial = args.sets != ALL_SETS or len(args.seeds) < len(BENCH_SEEDS)
        markdown = run_priors(args.sets, args.seeds, args.cache_dir, command)
        publish("priors", "Cached eflomal priors against joint alignment", markdown, args, partial)
    if "long" in args.part:
        publish("long-sentences", "Long sentence pairs", run_long(args.cache_dir, command), args)


if __name__ == "__main__":
    main()
