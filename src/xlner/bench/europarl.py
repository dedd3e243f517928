"""Europarl-NER intrinsic benchmark: project gold English spans onto the human
German / Spanish translation and score against their gold, with offline components.

    xlner bench europarl [--langs de es] [--seeds 0 1 2] [--cache-dir DIR] [--output FILE | --no-write]

Tables (printed and written to docs/benchmarks.md, section "europarl"), each
eflomal-based cell the mean and range over the seeds:
1. methods under the offline default alignment (eflomal + extra parallel text, the recipe's symmetrization);
2. heuristic and ILP F1 for eflomal without / with extra parallel text, per symmetrization;
3. time per stage.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from xlner.align.symmetrize import METHODS as SYMMETRIZATIONS
from xlner.bench import PROJECTION_METHODS
from xlner.bench.links import alignments_for, describe_recipe, directional_links, seed_cell, symmetrized
from xlner.bench.report import (
    BENCHMARKS_MD,
    add_output_options,
    bar_plot,
    command_line,
    markdown_table,
    plots_wanted,
    publish,
)
from xlner.data import shared_data_dir
from xlner.io import read_conll
from xlner.metrics import evaluate_spans
from xlner.project import project
from xlner.recipe import BENCH_SEEDS
from xlner.tags import LabelMap
from xlner.types import SentencePair

METHODS = PROJECTION_METHODS
#: Best published F1 on these inputs (Politov et al. 2025, neural mBERT aligners).
PUBLISHED_BEST = {"de": 0.921, "es": 0.916}
NO_MISC = LabelMap.from_options(ignore=["MISC"])


def f1s(gold, predicted) -> tuple[float, float]:
    """Micro F1 with all labels and with MISC->O."""
    return evaluate_spans(gold, predicted).micro.f1, evaluate_spans(gold, predicted, label_map=NO_MISC).micro.f1


def run(
    langs: list[str], cache_dir: Path | None, command: str, plot: bool = True, seeds: tuple[int, ...] = BENCH_SEEDS
) -> str:
    data_dir = shared_data_dir() / "europarl-ner"
    src = read_conll(data_dir / "en.test.conll").sentences
    scores: dict[tuple, list[float]] = {}  # (lang, extra, symmetrization, method row, MISC kept?) -> per seed
    time_rows: list[list] = []
    n_extra_of: dict[str, int] = {}
    for lang in langs:
        tgt = read_conll(data_dir / f"{lang}.test.conll").sentences
        gold = [t.spans for t in tgt]
        token_pairs = [(s.tokens, t.tokens) for s, t in zip(src, tgt)]
        for extra in (False, True):
            align_seconds = []
            for seed in seeds:
                name = f"europarl-{lang}" if extra else f"europarl-{lang}-plain"
                fwd, rev, took, n_extra = directional_links(name, token_pairs, lang, seed, cache_dir, extra=extra)
                align_seconds.append(took)
                if extra:
                    n_extra_of[lang] = n_extra
                for sym in SYMMETRIZATIONS:  # eflomal on words, every symmetrization
                    alignments = symmetrized(fwd, rev, token_pairs, sym)
                    pairs = [
                        SentencePair(s.tokens, t.tokens, list(s.spans), a) for s, t, a in zip(src, tgt, alignments)
                    ]
                    for row, method, options in [m for m in METHODS if m[0] in SWEPT]:
                        for misc, value in zip((True, False), f1s(gold, project(pairs, method, **options))):
                            scores.setdefault((lang, extra, sym, row, misc), []).append(value)
                if not extra:
                    continue
                alignments, took, _ = alignments_for(name, token_pairs, lang, seed, cache_dir)  # the offline recipe
                align_seconds[-1] = took
                pairs = [SentencePair(s.tokens, t.tokens, list(s.spans), a) for s, t, a in zip(src, tgt, alignments)]
                for row, method, options in METHODS:
                    started = time.perf_counter()
                    predicted = project(pairs, method, **options)
                    seconds = time.perf_counter() - started
                    for misc, value in zip((True, False), f1s(gold, predicted)):
                        scores.setdefault((lang, RECIPE, row, misc), []).append(value)
                    if seed == seeds[0]:
                        time_rows.append([f"en->{lang}", row, seconds * 1000, seconds * 1000 / len(pairs) * 1000])
            if extra:
                took = statistics.fmean(align_seconds)
                time_rows.append(
                    [
                        f"en->{lang}",
                        f"alignment ({describe_recipe()}) + {n_extra_of[lang]:,} extra pairs, mean of {len(seeds)} seeds",
                        took * 1000,
                        took * 1000 / len(src) * 1000,
                    ]
                )
    method_rows = {
        row: [
            row,
            *(seed_cell(scores[lang, RECIPE, row, misc]) for lang in langs for misc in (True, False)),
        ]
        for row, _, _ in METHODS
    }
    align_rows = [
        [
            f"en->{lang}",
            f"{n_extra_of[lang]:,}" if extra else "none",
            sym,
            *(seed_cell(scores[lang, extra, sym, row, misc]) for row in SWEPT for misc in (True, False)),
        ]
        for lang in langs
        for extra in (False, True)
        for sym in SYMMETRIZATIONS
    ]
    header = ["method"] + [f"en->{lang} {cols}" for lang in langs for cols in ("F1", "F1 MISC->O")]
    text = [
        f"Command: `{command}`",
        "",
        "Europarl-NER (799 sentence-parallel sentences): gold English spans projected onto the human "
        "translation, strict span F1 (seqeval) against its gold, PER/ORG/LOC/MISC and with MISC->O. "
        f"Offline only: the offline recipe's alignment ({describe_recipe()}, chosen in the defaults section) "
        f"with the extra parallel text of ../shared/data/parallel; seeds {', '.join(map(str, seeds))}, each cell "
        "the mean ± the range (max - min) over the seeds. Best published (neural mBERT aligners): de 0.921, "
        "es 0.916." + (" Plot: [europarl.png](europarl.png) (same command, seed means)." if plot else ""),
        "",
        markdown_table(header, list(method_rows.values())),
        "",
        "Alignment settings: heuristic (garcia2022) and ILP (offline preset) F1 per symmetrization, "
        "eflomal on words, without and with the extra parallel text.",
        "",
        markdown_table(
            [
                "pair",
                "extra pairs",
                "symmetrization",
                "heuristic F1",
                "heuristic F1 MISC->O",
                "ILP F1",
                "ILP F1 MISC->O",
            ],
            align_rows,
        ),
        "",
        f"Time (this 2-core machine, one process; projection = candidates + scores + solve for ILP/greedy, seed {seeds[0]}):",
        "",
        markdown_table(["pair", "stage", "ms (799 sentences)", "ms per 1,000 sentences"], time_rows),
    ]
    if plot:
        means = {
            row: [
                row,
                *(statistics.fmean(scores[lang, RECIPE, row, misc]) for lang in langs for misc in (True, False)),
            ]
            for row, _, _ in METHODS
        }
        plot_methods(langs, means)
    return "\n".join(text)


#: Key of the scores under the offline recipe's alignment.
RECIPE = "recipe"
#: The method rows of the symmetrization table.
SWEPT = ("heuristic, preset garcia2022", "ILP, alignment + string (offline default)")


def plot_methods(langs: list[str], method_rows: dict[str, list]) -> None:
    """docs/europarl.png: F1 per method and language, with the best published F1 as a line."""
    tables = {
        f"en->{lang}": {name: {"F1": row[1 + 2 * k], "F1 MISC->O": row[2 + 2 * k]} for name, row in method_rows.items()}
        for k, lang in enumerate(langs)
    }
    references = {
        f"en->{lang}": [("best published (neural aligner)", PUBLISHED_BEST[lang])]
        for lang in langs
        if lang in PUBLISHED_BEST
    }
    bar_plot(
        BENCHMARKS_MD.parent / "europarl.png",
        tables,
        references,
        ylabel="span F1 vs gold",
        title="Europarl-NER: gold English spans projected onto the human translation (offline)",
        ylim=(0.6, 1.0),
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench europarl", description=__doc__.splitlines()[0])
    parser.add_argument("--langs", nargs="+", default=["de", "es"])
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=list(BENCH_SEEDS), help="eflomal seeds (at least 3 to publish)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default $XLNER_CACHE or ~/.cache/xlner)"
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    partial = sorted(args.langs) != ["de", "es"] or len(args.seeds) < 3
    markdown = run(
        args.langs, args.cache_dir, command_line("europarl", argv), plots_wanted(args, partial), tuple(args.seeds)
    )
    publish("europarl", "Europarl-NER projection (en -> de, es)", markdown, args, partial)


if __name__ == "__main__":
    main()
