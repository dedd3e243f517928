"""Projection engine benchmark on Europarl-NER: stage times, solvers compared, span F1.

    xlner bench solvers [--langs de es] [--symmetrization intersection] [--cache-dir DIR]

Gold English spans (en.test.conll) are projected onto the human German and
Spanish sentences with eflomal alignments (with the extra parallel text;
seed 0, the benchmarks' shared link cache, see xlner.bench.links), then:

- time per stage of candidate matching (candidates, scores, solve) and of the
  heuristic, for the 799 sentences;
- exact vs greedy vs pairwise on identical (pruned) problems: time and total
  objective (exact >= greedy and exact == dp == pairwise are checked);
- strict span F1 against the gold target spans (all labels, and MISC -> O).

Tables: printed and written to docs/benchmarks.md, section "solvers".
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from xlner.bench.links import alignments_for, describe_recipe, directional_links, symmetrized
from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.data import shared_data_dir
from xlner.io import read_conll
from xlner.metrics import evaluate_spans
from xlner.project import PRESETS, project
from xlner.project.candidates import generate_candidates
from xlner.project.heuristic import project_heuristic
from xlner.project.matching import fused_scores, match, sentence_problem
from xlner.project.scores import PairIndex
from xlner.project.solve import Constraint, MatchingProblem
from xlner.registry import registry
from xlner.tags import LabelMap
from xlner.types import SentencePair

NO_MISC = LabelMap.from_options(ignore=["MISC"])
#: (row name, method, options) of the F1 table.
CONFIGS = [
    ("heuristic, garcia2022", "heuristic", {"preset": "garcia2022"}),
    ("heuristic, politov2025", "heuristic", {"preset": "politov2025"}),
    ("ilp, politov2025-ilp (alignment, links)", "ilp", {"preset": "politov2025-ilp"}),
    ("ilp, offline (alignment + string)", "ilp", {"preset": "offline"}),
    ("greedy, offline (alignment + string)", "greedy", {"preset": "offline"}),
]
#: Error analysis of the offline preset on en->de (tuned on de, checked on es), written with the code;
#: F1 with eflomal + all extra parallel text, intersection. Appended to the section as it is.
NOTES = """\
Error analysis (offline preset, en->de; each change checked, not tuned, on en->es). Before: de 0.886, es 0.897.
Of the 101 gold spans missed on de, 59 had no projection at all (mostly compounds and crossed
links, e.g. "Health and Safety Committee" -> "Arbeitsschutzausschuß", and on es "Member States" ->
"Estados miembros": eflomal's two directions link the entity to the same words, but not word by word,
so the intersection keeps no link), 23 had a wrong boundary (mostly articles and annotation choices)
and 19 a wrong label; 9 more projections were spurious.

| change | de F1 | es F1 | kept |
|---|---|---|---|
| one-word lowercase PER/LOC/ORG projection -> MISC (derived adjectives: "belgischen", "comunitarias") | 0.886 -> 0.898 | 0.897 -> 0.904 | yes (`lowercase_word_label`, offline preset) |
| the same for lowercase spans of any length | 0.898 | 0.889 | no: Spanish ORG such as "gobierno alemán" |
| unaligned words of entity and candidate count as matched (alignment mode) | 0.72-0.88 | 0.84-0.90 | no: German compounds leave source words unaligned |
| entities without any link scored by string similarity alone (>= 0.3) | 0.901 | 0.905 | no: +0.003 / +0.001, spurious short words |
| PER/LOC/ORG candidates may not start with a lowercase word | 0.880 | 0.884 | no: "deutsche Bundesregierung" |
| string weight 0.15-0.4, threshold 0.15-0.3, min word similarity 0.2-0.5, max_words 6-15, entity-max normalisation | 0.893-0.901 | 0.894-0.907 | no: within noise of the tuned defaults |

The remaining gap to the published 0.921 / 0.916 (mBERT aligners) is mostly alignment recall:
the intersection drops compound and crossed links, and union / grow-diag alignments add more wrong
links than they recover (table of symmetrizations in the Europarl section).
"""
STAGES = {
    "candidates": "candidates",
    "scores": "scores (alignment + string, fused)",
    "select": "select (positive pairs, disjoint-best fast path)",
    "solve": "prune + solve the other sentences (exact)",
    "results": "spans and confidences",
}


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def load_pairs(
    lang: str, symmetrization: str | None, extra: bool, cache_dir: Path | None
) -> tuple[list[SentencePair], list]:
    """Europarl en -> ``lang`` pairs with the offline recipe's alignments (seed 0), and the gold target spans.

    ``symmetrization``: None for the recipe's own, or a symmetrization of the word-level eflomal links.
    """
    data_dir = shared_data_dir() / "europarl-ner"
    src = read_conll(data_dir / "en.test.conll").sentences
    tgt = read_conll(data_dir / f"{lang}.test.conll").sentences
    token_pairs = [(s.tokens, t.tokens) for s, t in zip(src, tgt)]
    name = f"europarl-{lang}" if extra else f"europarl-{lang}-plain"
    if symmetrization is None:
        alignments, _, _ = alignments_for(name, token_pairs, lang, 0, cache_dir, extra=extra)
    else:
        fwd, rev, _, _ = directional_links(name, token_pairs, lang, 0, cache_dir, extra=extra)
        alignments = symmetrized(fwd, rev, token_pairs, symmetrization)
    pairs = [SentencePair(s.tokens, t.tokens, list(s.spans), a) for s, t, a in zip(src, tgt, alignments)]
    return pairs, [t.spans for t in tgt]


def matching_options() -> dict[str, Any]:
    """Options of ``match`` under the "offline" preset (without method-level ones)."""
    return {k: v for k, v in PRESETS["offline"].items()}


def stage_times(pairs: list[SentencePair], repeat: int) -> dict[str, float]:
    """Seconds per stage of ``match`` (offline preset, exact solver), each the best of ``repeat``."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        timings: dict[str, float] = {}
        match(pairs, solver="exact", timings=timings, **matching_options())
        for stage, seconds in timings.items():
            best[stage] = min(best.get(stage, float("inf")), seconds)
    return best


def all_problems(pairs: list[SentencePair]) -> tuple[list[MatchingProblem], int]:
    """The pruned problem of every sentence with a positive pair (offline preset, no fast path)."""
    opts = matching_options()
    active = [p for p in pairs if p.src_spans]
    cands = generate_candidates(active)
    index = PairIndex(active, cands)
    fused = fused_scores(index, opts["weights"], opts["alignment_mode"], opts["threshold"])
    kept = np.flatnonzero(fused > 0)
    sent = index.ent_sent[index.pair_ent[kept]]
    bounds = np.searchsorted(sent, np.arange(len(active) + 1))
    constraint = Constraint.parse(opts["constraint"])
    problems = [
        sentence_problem(index, fused, kept[bounds[k] : bounds[k + 1]], len(active[k].tgt_tokens), constraint)[0]
        for k in np.unique(sent).tolist()
    ]
    return problems, sum(len(c) for c in cands)


def _solve_all(solver: Any, problems: list[MatchingProblem], constraint: Constraint) -> list[Any]:
    return [solver.solve(p, constraint) for p in problems]


def compare_solvers(problems: list[MatchingProblem], repeat: int) -> dict[str, tuple[float, float]]:
    """Time and total objective of each solver on the same problems (checks that the exact ones agree)."""
    constraint = Constraint.parse("<=1")
    out = {}
    for name, solver in (
        ("exact (auto)", registry.solvers.create("exact")),
        ("exact (dp)", registry.solvers.create("exact", method="dp")),
        ("exact (highs)", registry.solvers.create("exact", method="highs")),
        ("greedy", registry.solvers.create("greedy")),
        ("pairwise (highs)", registry.solvers.create("pairwise")),
    ):
        seconds, solutions = best_time(partial(_solve_all, solver, problems, constraint), repeat)
        out[name] = (seconds, sum(s.objective for s in solutions))
    exact = out["exact (auto)"][1]
    assert exact >= out["greedy"][1] - 1e-6, out
    assert all(abs(exact - out[k][1]) < 1e-6 for k in ("exact (dp)", "exact (highs)", "pairwise (highs)")), out
    return out


def heuristic_times(pairs: list[SentencePair], repeat: int) -> tuple[float, float]:
    """Seconds of the pure heuristic function and of ``project(..., "heuristic")`` (garcia2022)."""
    opts = PRESETS["garcia2022"]
    alignments = []
    for p in pairs:
        assert p.alignment is not None  # load_pairs aligns every pair
        alignments.append(p.alignment)
    pure, _ = best_time(
        lambda: [
            project_heuristic(p.src_spans, len(p.tgt_tokens), a, tgt_tokens=p.tgt_tokens, **opts)
            for p, a in zip(pairs, alignments)
        ],
        repeat,
    )
    api, _ = best_time(lambda: project(pairs, "heuristic", preset="garcia2022"), repeat)
    return pure, api


def f1_rows(pairs: list[SentencePair], gold: list, repeat: int) -> list[list[object]]:
    rows = []
    for name, method, opts in CONFIGS:
        seconds, predicted = best_time(partial(project, pairs, method, **opts), repeat)
        full = evaluate_spans(gold, predicted).micro.f1
        no_misc = evaluate_spans(gold, predicted, label_map=NO_MISC).micro.f1
        rows.append([name, full, no_misc, seconds * 1000])
    return rows


def language_section(lang: str, args: argparse.Namespace) -> str:
    pairs, gold = load_pairs(lang, args.symmetrization, not args.no_extra, args.cache_dir)
    n = len(pairs)
    stages = stage_times(pairs, args.repeat)
    problems, n_candidates = all_problems(pairs)
    solvers = compare_solvers(problems, args.repeat)
    pure, api = heuristic_times(pairs, args.repeat)
    stage_rows = [
        ["heuristic (garcia2022, pure function)", pure * 1000, pure * 1e6 / n],
        ["heuristic (garcia2022, project())", api * 1000, api * 1e6 / n],
    ]
    stage_rows += [[STAGES[k], stages[k] * 1000, stages[k] * 1e6 / n] for k in STAGES]
    total = sum(stages[k] for k in STAGES)
    stage_rows.append(["candidate matching total (exact)", total * 1000, total * 1e6 / n])
    solver_rows = [[name, seconds * 1000, objective] for name, (seconds, objective) in solvers.items()]
    return "\n".join(
        [
            f"### en -> {lang} ({n} sentences, {n_candidates} candidates, {len(problems)} sentences with a positive pair)",
            "",
            markdown_table(["stage", f"ms / {n} sentences", "ms / 1,000 sentences"], stage_rows),
            "",
            markdown_table(["solver (same pruned problems, every sentence)", "ms", "total objective"], solver_rows),
            "",
            markdown_table(
                ["projection", "F1 (PER/ORG/LOC/MISC)", "F1 (MISC -> O)", "ms (API call)"],
                f1_rows(pairs, gold, args.repeat),
            ),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench solvers", description=__doc__.splitlines()[0])
    parser.add_argument("--langs", nargs="+", default=["de", "es"])
    parser.add_argument(
        "--symmetrization",
        default=None,
        help="symmetrization of word-level eflomal links (default: the offline recipe's alignment)",
    )
    parser.add_argument("--no-extra", action="store_true", help="align without the extra parallel text")
    parser.add_argument("--repeat", type=int, default=5, help="times are the best of this many runs")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default $XLNER_CACHE or ~/.cache/xlner)"
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    sections = [language_section(lang, args) for lang in args.langs]
    extra = "without" if args.no_extra else "with"
    text = "\n".join(
        [
            f"Command: `{command_line('solvers', argv)}`",
            "",
            (
                f"Europarl-NER, gold English spans projected onto the human translation; eflomal alignments "
                f"({args.symmetrization or describe_recipe()}, seed 0, {extra} the extra parallel text). Times are the best of {args.repeat} runs "
                f"on this 2-core machine shared with other jobs (load average {load:.1f} at the start), "
                "for all 799 sentences; the matching stages use the offline preset."
            ),
            "",
            "\n\n".join(sections),
            "",
            NOTES,
        ]
    )
    partial = sorted(args.langs) != ["de", "es"]
    publish("solvers", "Projection engine: stages and solvers (Europarl-NER)", text, args, partial)


if __name__ == "__main__":
    main()
