"""The offline default recipe, chosen over every public evaluation set, with seed means.

    xlner bench defaults [--seeds 0 1 2] [--sets ...] [--crf] [--cache-dir DIR] [--output FILE | --no-write]

Every public set of ../shared/data: Europarl-NER en->de and en->es (gold
English spans onto the human translation, F1 against its gold, MISC kept),
MasakhaNER 2.0 bam translate-test (the published English predictions
projected with xlner's own eflomal alignments, and with the published
TransAlign alignments; DATE->O) and translate-train hau, ibo, swa, yor (the
English gold projected onto the machine translation; span agreement with
T-Projection's silver labels, and with ``--crf`` the CRF F1 on MasakhaNER 2.0
test). eflomal runs once per (set, segmentation, seed); every recipe
(symmetrization x projection method x rules) is scored on the same links,
and each eflomal-based number is the mean and spread over the seeds.

Tables (section "defaults" of docs/benchmarks.md): recipes x sets with the
average over all sets; the projected-label statistics per set (typology
check: label shares, one-word and lowercase-initial spans).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from xlner.bench.links import VOTE, recipe_segmentation, seed_cell
from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.data import shared_data_dir
from xlner.metrics import evaluate_spans
from xlner.recipe import BENCH_SEEDS
from xlner.tags import LabelMap
from xlner.types import Alignment, SentencePair, Span

DATE_O = LabelMap.from_options(maps=["DATE=O"])
NO_LABEL_MAP = LabelMap.from_options()
SEEDS = list(BENCH_SEEDS)
ALL_SETS = ["europarl-de", "europarl-es", "bam", "tt-hau", "tt-ibo", "tt-swa", "tt-yor"]


@dataclass
class EvalSet:
    """One public evaluation set: English source tokens + spans, target tokens, what to score against."""

    name: str
    tgt_lang: str
    src_tokens: list[list[str]]
    src_spans: list[list[Span]]
    tgt_tokens: list[list[str]]
    reference: list[list[Span]]  # target gold (europarl, bam) or T-Projection's silver (translate-train)
    label_map: LabelMap
    metric: str  # "F1" or "agreement"
    published: dict[str, list[Alignment]] = field(default_factory=dict)  # alignments that come with the set
    extra: Any = None  # per-kind data (translate-train: its sentences and test set)

    @property
    def token_pairs(self) -> list[tuple[list[str], list[str]]]:
        return list(zip(self.src_tokens, self.tgt_tokens))


def _evalset(
    name: str, lang: str, source: Sequence[Any], target: Sequence[Any], label_map: LabelMap, metric: str, **more: Any
) -> EvalSet:
    """An :class:`EvalSet` of source and target sentences (tokens and spans)."""
    return EvalSet(
        name,
        lang,
        [s.tokens for s in source],
        [list(s.spans) for s in source],
        [t.tokens for t in target],
        [list(t.spans) for t in target],
        label_map,
        metric,
        **more,
    )


def load_set(name: str) -> EvalSet:
    """Read one public set from ../shared/data."""
    from xlner.io import read_conll

    data = shared_data_dir()
    if name.startswith("europarl-"):
        lang = name.split("-", 1)[1]
        src = read_conll(data / "europarl-ner" / "en.test.conll").sentences
        tgt = read_conll(data / "europarl-ner" / f"{lang}.test.conll").sentences
        return _evalset(name, lang, src, tgt, NO_LABEL_MAP, "F1")
    if name == "bam":
        from xlner.bench.bam import load_inputs

        inputs = load_inputs()
        published = {"TransAlign": inputs.alignments["TransAlign"]}
        return _evalset(name, "bam", inputs.english, inputs.gold, DATE_O, "F1", published=published)
    if name.startswith("tt-"):
        from xlner.bench.translate_train import load_pairs

        lang = name.split("-", 1)[1]
        english, target = load_pairs(lang)
        extra = {"english": english, "target": target}
        return _evalset(name, lang, english, target, NO_LABEL_MAP, "agreement", extra=extra)
    raise ValueError(f"unknown evaluation set {name!r}: known {', '.join(ALL_SETS)}")


def links_of(evalset: EvalSet, seed: int, subword: str, cache_dir: Path | None) -> tuple[list, list, float, int]:
    """eflomal forward / reverse links of the set (shared benchmark cache, see :mod:`xlner.bench.links`)."""
    from xlner.bench.links import directional_links

    return directional_links(evalset.name, evalset.token_pairs, evalset.tgt_lang, seed, cache_dir, subword)


def projected_pairs(evalset: EvalSet, alignments: Sequence[Alignment]) -> list[SentencePair]:
    return [
        SentencePair(s, t, list(spans), a)
        for s, t, spans, a in zip(evalset.src_tokens, evalset.tgt_tokens, evalset.src_spans, alignments)
    ]


def score(evalset: EvalSet, predicted: Sequence[Sequence[Span]]) -> float:
    """F1 against the gold, or span agreement with T-Projection's silver."""
    return evaluate_spans(evalset.reference, predicted, label_map=evalset.label_map).micro.f1


def typology(spans_of: Sequence[Sequence[Span]], tokens_of: Sequence[Sequence[str]]) -> dict[str, float]:
    """Share of each label, of one-word spans and of lowercase-initial spans among projected spans."""
    spans = [(s, tokens) for spans, tokens in zip(spans_of, tokens_of) for s in spans]
    total = len(spans) or 1
    stats: dict[str, float] = {"spans": float(len(spans))}
    for label in sorted({s.label for s, _ in spans}):
        stats[label] = sum(s.label == label for s, _ in spans) / total
    stats["one-word"] = sum(s.end - s.start == 1 for s, _ in spans) / total
    first = [next((c for c in "".join(tokens[s.start : s.end]) if c.isalpha()), "") for s, tokens in spans]
    stats["lowercase-initial"] = sum(c.islower() for c in first) / total
    return stats


@dataclass(frozen=True)
class Recipe:
    """One offline recipe: alignment symmetrization + projection method and options."""

    name: str
    symmetrization: str
    method: str
    options: dict[str, Any]


INT, GDFA, GD = "intersection", "grow-diag-final-and", "grow-diag"
#: The recipes compared; the first is the default the table chose.
RECIPES: list[Recipe] = [
    Recipe("ILP offline, intersection", INT, "ilp", {"preset": "offline"}),
    Recipe("ILP offline, grow-diag", GD, "ilp", {"preset": "offline"}),
    Recipe("ILP offline, grow-diag-final-and", GDFA, "ilp", {"preset": "offline"}),
    Recipe(
        "ILP offline + lowercase->MISC rule (old default), intersection",
        INT,
        "ilp",
        {"preset": "offline", "lowercase_word_label": "MISC"},
    ),
    Recipe(
        "ILP offline without exact-copy score, intersection",
        INT,
        "ilp",
        {"preset": "offline", "exact_match_score": None},
    ),
    Recipe("ILP offline without mark gluing, intersection", INT, "ilp", {"preset": "offline", "glue_marks": False}),
    Recipe("heuristic garcia2022, intersection", INT, "heuristic", {"preset": "garcia2022"}),
    Recipe("heuristic garcia2022, grow-diag-final-and", GDFA, "heuristic", {"preset": "garcia2022"}),
    Recipe("heuristic politov2025, intersection", INT, "heuristic", {"preset": "politov2025"}),
    Recipe("heuristic politov2025, grow-diag-final-and", GDFA, "heuristic", {"preset": "politov2025"}),
]

Key = tuple[str, str, str]  # (recipe name, column, segmentation)


def _alignments(
    evalset: EvalSet, seed: int, segmentation: str, symmetrizations: set[str], cache_dir: Path | None
) -> dict[str, list[Alignment]]:
    """Symmetrization -> the set's alignments for ``segmentation`` (see :mod:`xlner.bench.links`)."""
    from xlner.bench.links import alignments_by_symmetrization

    pairs = evalset.token_pairs
    return alignments_by_symmetrization(
        evalset.name, pairs, evalset.tgt_lang, seed, cache_dir, segmentation, symmetrizations
    )[0]


def evaluate_recipes(
    sets: Sequence[EvalSet],
    recipes: Sequence[Recipe],
    seeds: Sequence[int],
    subwords: Sequence[str],
    cache_dir: Path,
    keep: Callable[[Recipe, EvalSet], bool] = lambda recipe, evalset: False,
) -> tuple[dict[Key, list[float]], dict[tuple[Key, int], list[list[Span]]]]:
    """Scores over seeds per (recipe, column, segmentation); the projections that ``keep`` asks for, by seed."""
    from xlner.project import project

    results: dict[Key, list[float]] = {}
    kept: dict[tuple[Key, int], list[list[Span]]] = {}
    for evalset in sets:
        for subword in subwords:
            for seed in seeds:
                by_sym = _alignments(evalset, seed, subword, {r.symmetrization for r in recipes}, cache_dir)
                for recipe in recipes:
                    sym = recipe.symmetrization
                    predicted = project(projected_pairs(evalset, by_sym[sym]), recipe.method, **recipe.options)
                    key = (recipe.name, evalset.name, subword)
                    results.setdefault(key, []).append(score(evalset, predicted))
                    if keep(recipe, evalset):
                        kept[key, seed] = predicted
        for aligner, links in evalset.published.items():
            for recipe in recipes:
                predicted = project(projected_pairs(evalset, links), recipe.method, **recipe.options)
                results[(recipe.name, f"{evalset.name} ({aligner})", "published")] = [score(evalset, predicted)]
    return results, kept


def crf_scores(
    evalset: EvalSet, silver_spans: Sequence[Sequence[Span]] | None, cache_dir: Path | None
) -> tuple[float, Any]:
    """CRF trained on the silver spans (T-Projection's when None), F1 on MasakhaNER 2.0 test; and a result record."""
    from xlner.bench.translate_train import (
        CRF_OPTIONS,
        EVAL_MAP,
        TPROJECTION,
        LanguageResult,
        _drop_overlaps,
        bench_cache,
        train_and_tag,
    )
    from xlner.datasets import load_dataset
    from xlner.types import Sentence

    target = evalset.extra["target"]
    test = load_dataset("masakhaner2", evalset.tgt_lang, "test", label_map=EVAL_MAP)
    if silver_spans is None:
        silver = list(target)
    else:
        silver = [Sentence(t.tokens, _drop_overlaps(s), t.id) for t, s in zip(target, silver_spans)]
    predicted, _ = train_and_tag(silver, test, bench_cache(cache_dir), dict(CRF_OPTIONS))
    gold = [s.spans for s in test]
    record = LanguageResult(evalset.tgt_lang, len(target), 0, len(test), 0, gold=gold)
    record.predictions[TPROJECTION if silver_spans is None else "xlner"] = predicted
    return evaluate_spans(gold, predicted, EVAL_MAP).micro.f1, record


def precompute(sets: Sequence[str], seeds: Sequence[int], subwords: Sequence[str], cache_dir: Path) -> None:
    """Compute (and cache) every set's eflomal links, printing the time each took."""
    for name in sets:
        evalset = load_set(name)
        for subword in subwords:
            for seed in seeds:
                started = time.perf_counter()
                links_of(evalset, seed, subword.removesuffix(VOTE), cache_dir)
                print(f"{name} subword={subword} seed={seed}: {time.perf_counter() - started:.1f} s", flush=True)


def run(
    set_names: Sequence[str],
    seeds: Sequence[int],
    subwords: Sequence[str],
    cache_dir: Path,
    crf_recipes: Sequence[str],
    command: str,
    crf_subwords: Sequence[str] | None = None,
) -> str:
    """Score every recipe on every set; CRF F1 for ``crf_recipes``; markdown of the section."""
    from xlner.bench.translate_train import TPROJECTION, average_bootstrap

    sets = [load_set(name) for name in set_names]
    default, old = RECIPES[0], RECIPES[3]
    wanted = set(crf_recipes)

    def keep(recipe: Recipe, evalset: EvalSet) -> bool:
        return recipe.name in (default.name, old.name) or (evalset.name.startswith("tt-") and recipe.name in wanted)

    results, kept = evaluate_recipes(sets, RECIPES, seeds, subwords, cache_dir, keep)
    columns = [(e.name, False) for e in sets] + [(f"{e.name} ({a})", True) for e in sets for a in e.published]
    rows = []
    for recipe in RECIPES:
        for subword in subwords:
            cells: list[str] = []
            per_seed: list[list[float]] = [[] for _ in seeds]
            for column, published in columns:
                values = results[recipe.name, column, "published" if published else subword]
                cells.append(seed_cell(values))
                for k in range(len(seeds)):
                    per_seed[k].append(values[k] if len(values) > 1 else values[0])
            averages = [statistics.fmean(v) for v in per_seed]
            rows.append([recipe.name, subword, *cells, seed_cell(averages)])
    header = ["recipe", "subword", *(c for c, _ in columns), "average"]

    crf_rows, boot_rows = [], []
    tt_sets = [e for e in sets if e.name.startswith("tt-")]
    if tt_sets and crf_recipes:
        reference = {e.name: crf_scores(e, None, cache_dir) for e in tt_sets}
        crf_rows.append(
            [
                "T-Projection (published silver)",
                "",
                *(f"{reference[e.name][0]:.3f}" for e in tt_sets),
                f"{statistics.fmean(reference[e.name][0] for e in tt_sets):.3f}",
            ]
        )
        for name in crf_recipes:
            for subword in crf_subwords or subwords:
                per_lang: dict[str, list[float]] = {e.name: [] for e in tt_sets}
                averages, p_values, deltas = [], [], []
                for seed in seeds:
                    records = []
                    for e in tt_sets:
                        value, record = crf_scores(e, kept[(name, e.name, subword), seed], cache_dir)
                        record.predictions[TPROJECTION] = reference[e.name][1].predictions[TPROJECTION]
                        per_lang[e.name].append(value)
                        records.append(record)
                    averages.append(statistics.fmean(per_lang[e.name][-1] for e in tt_sets))
                    delta, _, _, p = average_bootstrap(records, "xlner")
                    deltas.append(delta)
                    p_values.append(p)
                crf_rows.append([name, subword, *(seed_cell(per_lang[e.name]) for e in tt_sets), seed_cell(averages)])
                boot_rows.append([name, subword, *(f"{d:+.3f} (p {p:.3f})" for d, p in zip(deltas, p_values))])

    chosen = recipe_segmentation()
    shown = chosen if chosen in subwords else subwords[0]
    typology_rows = []
    for evalset in sets:
        source = typology(evalset.src_spans, evalset.src_tokens)
        typology_rows.append([evalset.name, "source (English)", *_typology_cells(source)])
        for recipe in (default, old):
            stats = typology(kept[(recipe.name, evalset.name, shown), seeds[0]], evalset.tgt_tokens)
            typology_rows.append([evalset.name, recipe.name, *_typology_cells(stats)])

    text = [
        f"Command: `{command}`",
        "",
        "Every public evaluation set, offline: eflomal with the extra parallel text of ../shared/data/parallel "
        f"(seeds {', '.join(map(str, seeds))}; each cell is the mean ± the range max-min over the seeds), then "
        "the recipe's symmetrization and projection. Europarl-NER de/es: F1 against the human translation's gold, "
        "MISC kept. bam: MasakhaNER 2.0 bam test, the published English predictions projected with xlner's own "
        "eflomal links (and with the published TransAlign links, no seed), F1 with DATE->O. tt-*: translate-train, "
        "the English CoNLL-2003 gold projected onto the machine translation, span agreement (F1) with "
        "T-Projection's silver labels. The average is over all columns (its range: the per-seed averages). "
        "+vote: subword and word links, kept when 3 of the 4 directional alignments share them "
        "(xlner.align.eflomal.vote; sets under the subword rule's size limit, bam here, align words only). "
        f"Chosen default (xlner.recipe): **{default.name}, {chosen}**, the best average of the recipes without a "
        "language-specific rule; no set is worse than with words beyond its seed range.",
        "",
        markdown_table(header, rows),
    ]
    if crf_rows:
        text += [
            "",
            "Translate-train, CRF trained on each silver set (xlner.downstream.train_crf, as in the translate-train "
            "benchmark), strict span F1 on MasakhaNER 2.0 test with DATE->O, mean ± range over the alignment seeds:",
            "",
            markdown_table(["silver data", "subword", *(e.name for e in tt_sets), "average"], crf_rows),
            "",
            "Average over languages, xlner minus T-Projection, per seed (paired bootstrap over test sentences, "
            "1,000 resamples, one-sided p):",
            "",
            markdown_table(["silver data", "subword", *(f"seed {s}" for s in seeds)], boot_rows),
        ]
    text += [
        "",
        f"Typology check (seed {seeds[0]}, {shown}): share of each label, of one-word spans and of spans "
        "whose first letter is lowercase, among the English source spans and the projected ones. A rule that "
        "misfires on one language family shows here as a label or lowercase share far from the source's.",
        "",
        markdown_table(["set", "spans of", "spans", *TYPOLOGY_LABELS, "one-word", "lowercase-initial"], typology_rows),
    ]
    return "\n".join(text)


TYPOLOGY_LABELS = ["PER", "ORG", "LOC", "MISC", "DATE"]


def _typology_cells(stats: dict[str, float]) -> list[str]:
    return [
        f"{int(stats['spans'])}",
        *(f"{stats.get(label, 0.0):.3f}" for label in TYPOLOGY_LABELS),
        f"{stats['one-word']:.3f}",
        f"{stats['lowercase-initial']:.3f}",
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench defaults", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=ALL_SETS, choices=ALL_SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=SEEDS)
    parser.add_argument(
        "--subword",
        nargs="+",
        default=["none", "auto", "auto" + VOTE],
        help=f"segmentations to compare: none, auto, a vocabulary size; SPEC{VOTE} votes with word links",
    )
    parser.add_argument(
        "--crf",
        nargs="*",
        default=[RECIPES[0].name],
        metavar="RECIPE",
        help="recipes whose translate-train silver trains a CRF (default: the chosen default)",
    )
    parser.add_argument(
        "--crf-subword",
        nargs="*",
        default=None,
        metavar="SEGMENTATION",
        help="segmentations whose silver trains a CRF (default: every --subword)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default $XLNER_CACHE or ~/.cache/xlner)"
    )
    parser.add_argument("--precompute", action="store_true", help="only compute and cache the eflomal links")
    add_output_options(parser)
    args = parser.parse_args(argv)
    if args.precompute:
        precompute(args.sets, args.seeds, args.subword, args.cache_dir)
        return
    unknown = sorted(set(args.crf) - {r.name for r in RECIPES})
    if unknown:
        parser.error(f"unknown recipe(s) for --crf: {unknown}; known: {[r.name for r in RECIPES]}")
    markdown = run(
        args.sets, args.seeds, args.subword, args.cache_dir, args.crf, command_line("defaults", argv), args.crf_subword
    )
    partial = args.sets != ALL_SETS or len(args.seeds) < 3
    publish("defaults", "The offline default recipe, over every public set", markdown, args, partial)


if __name__ == "__main__":
    main()
