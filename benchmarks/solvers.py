"""Projection engine benchmark on Europarl-NER: stage times, solvers compared, span F1.

Gold English spans (en.test.conll) are projected onto the human German and
Spanish sentences (de/es.test.conll) with eflomal alignments (aligned with the
WMT news parallel text as extra data; cached in --cache-dir), then:

- time per stage of candidate matching (candidates, scores, solve) and of the
  heuristic, for the 799 sentences;
- exact vs greedy vs pairwise on identical (pruned) problems: time and total
  objective (exact >= greedy and exact == pairwise are checked);
- strict span F1 against the gold target spans (all labels, and MISC -> O).

Usage: .venv/bin/python benchmarks/solvers.py [--langs de es] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from xlner.align.symmetrize import symmetrize
from xlner.bench.report import markdown_table, write_section
from xlner.data import shared_data_dir
from xlner.io.conll import read_conll
from xlner.metrics import evaluate_spans
from xlner.project import PRESETS, project
from xlner.project.candidates import generate_candidates
from xlner.project.config import MATCHING_OPTIONS
from xlner.project.heuristic import project_heuristic
from xlner.project.matching import fused_scores, match, sentence_problem
from xlner.project.scores import PairIndex
from xlner.project.solve import Constraint, MatchingProblem
from xlner.registry import registry
from xlner.types import SentencePair


def best_time(fn, repeat: int) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def load_pairs(lang: str, cache: Path, symmetrization: str, extra: int) -> tuple[list[SentencePair], list]:
    """Europarl en -> lang pairs with eflomal alignments (directional links cached as JSON)."""
    data = shared_data_dir()
    en = read_conll(data / "europarl-ner" / "en.test.conll").sentences
    tgt = read_conll(data / "europarl-ner" / f"{lang}.test.conll").sentences
    options = {"src_lang": "en", "tgt_lang": lang, "progress": False}
    if extra:
        options["extra_parallel"] = [str(data / "parallel" / "wmt-news" / f"en-{lang}")]
        options["max_extra_pairs"] = extra
    key = hashlib.sha256(json.dumps([lang, sorted(options.items())], default=str).encode()).hexdigest()[:12]
    path = cache / f"europarl-en-{lang}-{key}.json"
    token_pairs = [(s.tokens, t.tokens) for s, t in zip(en, tgt)]
    if path.is_file():
        fwd, rev = json.loads(path.read_text())
    else:
        aligner = registry.aligners.create("eflomal", **options)
        fwd, rev = aligner.align_directional(token_pairs)
        fwd, rev = [sorted(a) for a in fwd], [sorted(a) for a in rev]
        cache.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([fwd, rev]))
    pairs = [
        SentencePair(s.tokens, t.tokens, s.spans, symmetrize(map(tuple, f), map(tuple, r), symmetrization))
        for s, t, f, r in zip(en, tgt, fwd, rev)
    ]
    return pairs, [t.spans for t in tgt]


def stage_times(pairs: list[SentencePair], repeat: int) -> dict[str, float]:
    """Seconds per stage of ``match`` with the default ilp options (each stage: best of ``repeat``)."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        timings: dict[str, float] = {}
        match(pairs, solver="exact", timings=timings)
        for stage, seconds in timings.items():
            best[stage] = min(best.get(stage, float("inf")), seconds)
    return best


def all_problems(pairs: list[SentencePair]) -> tuple[list[MatchingProblem], int]:
    """The pruned problem of every sentence with a positive pair (default options, no fast path)."""
    defaults = {k: v for k, (v, _) in MATCHING_OPTIONS.items()}
    active = [p for p in pairs if p.src_spans]
    cand_opts = {k: defaults[k] for k in ("max_words", "punctuation", "ngrams", "aligned_subranges", "runs", "merge_distance")}
    cands = generate_candidates(active, **cand_opts)
    index = PairIndex(active, cands)
    fused = fused_scores(index, defaults["weights"], defaults["alignment_mode"], defaults["threshold"])
    kept = np.flatnonzero(fused > 0)
    sent = index.ent_sent[index.pair_ent[kept]]
    bounds = np.searchsorted(sent, np.arange(len(active) + 1))
    constraint = Constraint.parse(defaults["constraint"])
    problems = [
        sentence_problem(index, fused, kept[bounds[k] : bounds[k + 1]], len(active[k].tgt_tokens), constraint)[0]
        for k in np.unique(sent).tolist()
    ]
    return problems, sum(len(c) for c in cands)


def compare_solvers(problems: list, repeat: int) -> dict[str, tuple[float, float]]:
    """Time and total objective of each solver on the same problems."""
    constraint = Constraint.parse("<=1")
    out = {}
    for name, solver in (
        ("exact (auto)", registry.solvers.create("exact")),
        ("exact (dp)", registry.solvers.create("exact", method="dp")),
        ("exact (highs)", registry.solvers.create("exact", method="highs")),
        ("greedy", registry.solvers.create("greedy")),
        ("pairwise (highs)", registry.solvers.create("pairwise")),
    ):
        t, sols = best_time(lambda: [solver.solve(p, constraint) for p in problems], repeat)
        out[name] = (t, sum(s.objective for s in sols))
    exact, greedy, pairwise = out["exact (auto)"][1], out["greedy"][1], out["pairwise (highs)"][1]
    assert exact >= greedy - 1e-6, (exact, greedy)
    assert abs(exact - pairwise) < 1e-6 and abs(exact - out["exact (dp)"][1]) < 1e-6, (exact, pairwise)
    return out


def heuristic_time(pairs: list[SentencePair], repeat: int) -> float:
    opts = PRESETS["garcia2022"]

    def run():
        return [
            project_heuristic(p.src_spans, len(p.tgt_tokens), p.alignment, tgt_tokens=p.tgt_tokens, **opts) for p in pairs
        ]

    return best_time(run, repeat)[0]


def f1_rows(pairs: list[SentencePair], gold: list) -> list[list[object]]:
    configs = [
        ("heuristic", {"preset": "garcia2022"}, "heuristic, garcia2022"),
        ("heuristic", {"preset": "politov2025"}, "heuristic, politov2025"),
        ("ilp", {"preset": "politov2025-ilp"}, "ilp, politov2025-ilp (alignment, links)"),
        ("ilp", {}, "ilp, default (alignment + string)"),
        ("greedy", {}, "greedy, default (alignment + string)"),
    ]
    rows = []
    for method, opts, name in configs:
        t = time.perf_counter()
        pred = project(pairs, method, **opts)
        elapsed = time.perf_counter() - t
        full = evaluate_spans(gold, pred).micro.f1
        no_misc = evaluate_spans(gold, pred, {"MISC": "O"}).micro.f1
        rows.append([name, full, no_misc, f"{elapsed * 1000:.0f}"])
    return rows


def symmetrization_rows(lang: str, args: argparse.Namespace) -> list[list[object]]:
    """F1 of the heuristic and the default ilp for each symmetrization of the same eflomal links."""
    rows = []
    for method in ("intersection", "grow-diag-final-and", "union"):
        pairs, gold = load_pairs(lang, args.cache_dir, method, args.extra)
        heur = project(pairs, "heuristic", preset="garcia2022")
        ilp = project(pairs, "ilp")
        rows.append(
            [method, evaluate_spans(gold, heur).micro.f1, evaluate_spans(gold, ilp).micro.f1,
             evaluate_spans(gold, ilp, {"MISC": "O"}).micro.f1]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", nargs="+", default=["de", "es"])
    parser.add_argument("--symmetrization", default="intersection")
    parser.add_argument("--extra", type=int, default=20000, help="WMT news pairs aligned with the data (0: none)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "xlner-bench-cache")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    parts = [
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/solvers.py', *sys.argv[1:]])}`",
        "",
        f"Europarl-NER, gold English spans projected onto the human translation; eflomal alignments "
        f"({args.symmetrization}, {args.extra} WMT news pairs as extra parallel text). "
        f"Times are the best of {args.repeat} runs on this 2-core machine shared with other jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the start), for all 799 sentences.",
    ]
    for lang in args.langs:
        pairs, gold = load_pairs(lang, args.cache_dir, args.symmetrization, args.extra)
        n = len(pairs)
        stages = stage_times(pairs, args.repeat)
        problems, n_candidates = all_problems(pairs)
        solvers = compare_solvers(problems, args.repeat)
        t_heur = heuristic_time(pairs, args.repeat)
        names = {
            "candidates": "candidates",
            "scores": "scores (alignment + string, fused)",
            "select": "select (positive pairs, disjoint-best fast path)",
            "solve": "prune + solve the other sentences (exact)",
            "results": "spans and confidences",
        }
        stage_rows = [["heuristic (garcia2022 preset, pure function)", t_heur * 1000, t_heur * 1e6 / n]]
        stage_rows += [[names[k], stages[k] * 1000, stages[k] * 1e6 / n] for k in names]
        total = sum(stages[k] for k in names)
        stage_rows.append(["candidate matching total (exact)", total * 1000, total * 1e6 / n])
        solver_rows = [[name, t * 1000, obj] for name, (t, obj) in solvers.items()]
        parts += [
            "",
            f"### en -> {lang} ({n} sentences, {n_candidates} candidates, {len(problems)} sentences with a positive pair)",
            "",
            markdown_table(["stage", f"ms / {n} sentences", "ms / 1,000 sentences"], stage_rows),
            "",
            markdown_table(["solver (same pruned problems, every sentence)", "ms", "total objective"], solver_rows),
            "",
            markdown_table(["projection", "F1 (PER/ORG/LOC/MISC)", "F1 (MISC -> O)", "ms (API call)"], f1_rows(pairs, gold)),
            "",
            markdown_table(
                ["symmetrization", "heuristic garcia2022 F1", "ilp default F1", "ilp default F1 (MISC -> O)"],
                symmetrization_rows(lang, args),
            ),
        ]
    text = "\n".join(parts)
    print(text)
    if not args.no_write:
        write_section("solvers", text)


if __name__ == "__main__":
    main()
