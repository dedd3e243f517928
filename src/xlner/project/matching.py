"""The candidate-matching pipeline: candidates -> scores -> fusion -> pruning -> solver.

Each stage works on the whole batch, so model-based scorers (registered in
``registry.scorers``) can batch their work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from xlner.project.candidates import generate_candidates
from xlner.project.config import DEFAULT_WEIGHTS, scorer_factory_options
from xlner.project.fusion import fuse, normalise_flat
from xlner.project.scores import PairIndex, copy_pairs, ramp, unique_copies
from xlner.project.solve import Constraint, MatchingProblem
from xlner.registry import registry
from xlner.types import SentencePair, Span


@dataclass
class ProjectionResult:
    """Projected spans of one sentence (sorted by start) with per-span score and source index.

    ``confidence`` in [0, 1] = (share of source entities projected at least
    once) x (mean score of the projected spans, each clipped to [0, 1]); 1.0
    for a sentence without source entities, 0.0 when entities exist and none
    was projected. ``status`` is the solver's ("optimal", "heuristic", "relaxed").
    """

    spans: list[Span] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    confidence: float = 1.0
    status: str = "optimal"


def confidence(n_sources: int, sources: Sequence[int], scores: Sequence[float]) -> float:
    """(share of source entities projected) x (mean clipped score), see :class:`ProjectionResult`."""
    if n_sources == 0:
        return 1.0
    if not scores:
        return 0.0
    share = len(set(sources)) / n_sources
    return share * sum(min(max(float(s), 0.0), 1.0) for s in scores) / len(scores)


#: Labels of proper names; a one-word lowercase projection of one is a derived word (see below).
NAME_LABELS = frozenset({"PER", "LOC", "ORG"})


def derived_word_label(span: Span, tgt_tokens: Sequence[str], label: str | None) -> Span:
    """``span`` relabelled ``label`` when it is a PER/LOC/ORG projection onto one all-lowercase word of cased text.

    Such a word is an adjective or other word derived from the name
    ("Belgium" -> "belgischen"), which CoNLL-style guidelines tag MISC. The
    span keeps its label when it has several words ("gobierno alemán"), when
    the word has a capital inside (a name with a lowercase prefix: Zulu
    "uMandela", "eLondon"), when its script has no capital initials (Georgian,
    Arabic, CJK) or when no word of the sentence starts with a capital
    (lowercased text). ``label=None`` keeps every span as it is.
    """
    if label is None or span.label not in NAME_LABELS:
        return span
    words = [w for w in tgt_tokens[span.start : span.end] if _first_letter(w)]
    if len(words) != 1:
        return span
    first = _first_letter(words[0])
    if not first.islower() or first.title() == first or any(c.isupper() for c in words[0]):
        return span
    if not any(_first_letter(w).isupper() for w in tgt_tokens):
        return span
    return Span(span.start, span.end, label)


def relabel_derived_words(
    pairs: Sequence[SentencePair], spans_of: Sequence[list[Span]], label: str | None
) -> list[list[Span]]:
    """:func:`derived_word_label` over every projected span; only when the source side uses ``label`` at all."""
    if label is None or not any(s.label == label for p in pairs for s in p.src_spans):
        return [list(spans) for spans in spans_of]
    return [[derived_word_label(s, p.tgt_tokens, label) for s in spans] for p, spans in zip(pairs, spans_of)]


@lru_cache(maxsize=65536)
def _first_letter(token: str) -> str:
    """The first alphabetic character of ``token`` ('' if none)."""
    return next((ch for ch in token if ch.isalpha()), "")


def prune(problem: MatchingProblem, constraint: Constraint) -> tuple[MatchingProblem, np.ndarray, np.ndarray]:
    """Drop all-zero rows and columns (and, for ``<= n``, dominated pairs) of one problem.

    A pair (e, c) is dominated when a candidate strictly inside ``c`` scores at
    least as much for ``e``: swapping it in never hurts under ``<= n``.
    Returns the smaller problem and the kept entity and candidate indices.
    """
    e, c = np.nonzero(problem.scores > 0)
    f = problem.scores[e, c]
    if constraint.op == "<=":
        keep = ~_dominated(e, problem.starts[c], problem.ends[c], f)
        e, c, f = e[keep], c[keep], f[keep]
    rows, e_new = np.unique(e, return_inverse=True)
    cols, c_new = np.unique(c, return_inverse=True)
    scores = np.zeros((len(rows), len(cols)))
    scores[e_new, c_new] = f
    return MatchingProblem(scores, problem.starts[cols], problem.ends[cols], problem.n_words), rows, cols


def _dominated(ent: np.ndarray, starts: np.ndarray, ends: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Pairs (sorted by entity) with a strictly smaller candidate of the same entity scoring at least as much."""
    m = len(ent)
    if m == 0:
        return np.zeros(0, dtype=bool)
    first = np.searchsorted(ent, ent, "left")
    size = np.searchsorted(ent, ent, "right") - first
    a = np.repeat(np.arange(m), size)
    b = np.repeat(first, size) + ramp(size)
    hit = (b != a) & (starts[b] >= starts[a]) & (ends[b] <= ends[a]) & (f[b] >= f[a])
    dominated = np.zeros(m, dtype=bool)
    dominated[a[hit]] = True
    return dominated


def fused_scores(
    index: PairIndex,
    weights: Mapping[str, float],
    alignment_mode: str = "aligned",
    threshold: float = 0.0,
    scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
    normalize: str = "none",
    parts: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Weighted mean of the scorers named in ``weights``, flat over ``index``; below ``threshold`` -> 0.

    ``scorer_options[name]`` goes to that scorer's factory, over the options
    :func:`~xlner.project.config.scorer_factory_options` gives it.
    """
    factory = scorer_factory_options(weights, scorer_options, alignment_mode=alignment_mode)
    return score_and_fuse(index, weights, factory, normalize, threshold, parts)


def score_and_fuse(
    index: PairIndex,
    weights: Mapping[str, float],
    factory: Mapping[str, Mapping[str, Any]],
    normalize: str = "none",
    threshold: float = 0.0,
    parts: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Each scorer in ``weights`` built with ``factory[name]``, normalised, then fused (:func:`~xlner.project.fusion.fuse`).

    Scorers with a ``score_flat(index)`` method skip the per-sentence
    matrices; others are called through ``score(pairs, candidates)``.
    ``parts``, when given, receives each scorer's normalised flat scores.
    """
    flat = {}
    for name in weights:
        scorer = registry.scorers.create(name, **factory.get(name, {}))
        if hasattr(scorer, "score_flat"):
            values = scorer.score_flat(index)
        else:
            values = index.flatten(scorer.score(index.pairs, index.candidates))
        flat[name] = normalise_flat(index, values, normalize)
    if parts is not None:
        parts.update(flat)
    return fuse(flat, weights, threshold)


def sentence_problem(
    index: PairIndex, fused: np.ndarray, flat: np.ndarray, n_words: int, constraint: Constraint
) -> tuple[MatchingProblem, np.ndarray]:
    """The pruned problem of one sentence from its positive flat pairs ``flat``.

    Also returns ``pair_at``: the flat pair index of each (row, column) of the problem.
    """
    rows, e = np.unique(index.pair_ent[flat], return_inverse=True)
    cols, c = np.unique(index.pair_cand[flat], return_inverse=True)
    scores = np.zeros((len(rows), len(cols)))
    scores[e, c] = fused[flat]
    at = np.full((len(rows), len(cols)), -1, dtype=np.int64)
    at[e, c] = flat
    starts = np.zeros(len(cols), dtype=np.int64)
    ends = np.zeros(len(cols), dtype=np.int64)
    starts[c], ends[c] = index.pair_start[flat], index.pair_end[flat]
    problem, sub_rows, sub_cols = prune(MatchingProblem(scores, starts, ends, n_words), constraint)
    return problem, at[np.ix_(sub_rows, sub_cols)]


def match(
    pairs: Sequence,
    *,
    solver: str = "exact",
    solver_options: Mapping[str, Any] | None = None,
    max_words: int = 10,
    punctuation: str = "!?.;:",
    ngrams: bool = True,
    aligned_subranges: bool = True,
    runs: bool = True,
    merge_distance: int = 1,
    exact_match_score: float | None = None,
    weights: dict[str, float] | None = None,
    scorer_options: dict[str, dict[str, Any]] | None = None,
    alignment_mode: str = "aligned",
    threshold: float = 0.2,
    constraint: str | Constraint = "<=1",
    progress: bool = False,
    ner_model: str | None = None,
    nmt_model: str | None = None,
    encoder: str | None = None,
    device: str = "cpu",
    src_lang: str | None = None,
    tgt_lang: str | None = None,
    normalize: str = "none",
    ner_candidates: str | None = None,
    ner_candidate_labels: str = "any",
    timings: dict[str, float] | None = None,
    fast_path: bool = True,
    trace: dict[str, Any] | None = None,
) -> list[ProjectionResult]:
    """Candidate matching over a batch of sentence pairs (options: see ``xlner.project.config``).

    Candidates, scores, fusion and pruning run on the whole batch with numpy.
    With ``fast_path`` under ``<= 1``, a sentence where every entity's best
    pair (ties: shorter, then leftmost candidate) is disjoint from the other
    entities' best pairs is solved directly (that choice is optimal, and it is
    what greedy picks); the others are pruned (:func:`prune`) and go to
    ``solver``. Split-off diacritics are glued before any method runs
    (:func:`xlner.project.heuristic.glue_pairs`). With ``exact_match_score``,
    an entity's unique word-for-word copy in the target
    (:func:`xlner.project.scores.unique_copies`) is a candidate whose fused
    score is at least that value, when the string score is fused (a copy is
    string evidence: with other weights the option does nothing). ``timings``, when given, receives seconds per stage.
    ``trace``, when given, receives the batch internals :mod:`xlner.project.explain` reads.
    """
    from tqdm.auto import tqdm

    clock = time.perf_counter()
    timings = {} if timings is None else timings

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now

    weights = dict(weights or DEFAULT_WEIGHTS)
    constraint = Constraint.parse(constraint)
    engine = registry.solvers.create(solver, **dict(solver_options or {}))
    active = [k for k, p in enumerate(pairs) if p.src_spans]
    batch = [pairs[k] for k in active]
    use_copies = exact_match_score is not None and weights.get("string", 0) > 0  # the limit case of string similarity
    copies = unique_copies(batch) if use_copies else None
    candidates = generate_candidates(
        batch,
        max_words=max_words,
        punctuation=punctuation,
        ngrams=ngrams,
        aligned_subranges=aligned_subranges,
        runs=runs,
        merge_distance=merge_distance,
        extra=None if copies is None else [[r for r in row if r] for row in copies],
    )
    if ner_candidates:  # spans predicted by the target NER model (xlner.project.scorers.ner)
        from xlner.project.scorers.ner import add_ner_candidates

        candidates = add_ner_candidates(batch, candidates, ner_candidates, ner_model, ner_candidate_labels, device)
    lap("candidates")
    index = PairIndex(batch, candidates)
    factory = scorer_factory_options(
        weights,
        scorer_options,
        alignment_mode=alignment_mode,
        ner_model=ner_model,
        nmt_model=nmt_model,
        encoder=encoder,
        device=device,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
    )
    parts: dict[str, np.ndarray] | None = {} if trace is not None else None
    fused = score_and_fuse(index, weights, factory, normalize, threshold, parts)
    if copies is not None:  # a unique word-for-word copy of an entity scores at least exact_match_score
        assert exact_match_score is not None  # copies are only looked for with exact_match_score
        at = copy_pairs(index, copies)
        fused[at] = np.maximum(fused[at], exact_match_score)
    lap("scores")
    kept = np.flatnonzero(fused > 0)
    sent = index.ent_sent[index.pair_ent[kept]]
    bounds = np.searchsorted(sent, np.arange(len(batch) + 1))
    chosen = [np.zeros(0, dtype=np.int64) for _ in batch]
    status = ["optimal"] * len(batch)
    todo = np.unique(sent)
    if fast_path and constraint.op == "<=" and constraint.n == 1 and len(kept):
        todo = _solve_trivial(index, fused, kept, sent, chosen)
    lap("select")
    for k in tqdm(todo.tolist(), disable=not progress, desc="matching"):
        flat = kept[bounds[k] : bounds[k + 1]]
        problem, pair_at = sentence_problem(index, fused, flat, int(index.n_tgt[k]), constraint)
        solution = engine.solve(problem, constraint)
        chosen[k] = np.array([pair_at[e, c] for e, c in solution.pairs], dtype=np.int64)
        status[k] = solution.status
    lap("solve")
    ent_off = np.concatenate([[0], np.cumsum(index.n_ent)])
    picked = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    picked_items = iter(
        zip(
            index.pair_start[picked].tolist(),
            index.pair_end[picked].tolist(),
            (index.pair_ent[picked] - ent_off[index.ent_sent[index.pair_ent[picked]]]).tolist(),
            fused[picked].tolist(),
        )
    )
    results = [ProjectionResult() for _ in pairs]
    for k, flat_pairs in enumerate(chosen):
        pair = batch[k]
        if constraint.op != "<=" and constraint.n > 0:
            with_pairs = len(np.unique(index.pair_ent[kept[bounds[k] : bounds[k + 1]]]))
            if with_pairs < index.n_ent[k]:
                status[k] = "relaxed"  # entities without a positive candidate were skipped
        items = sorted(next(picked_items) for _ in range(len(flat_pairs)))
        spans = [Span(a, b, pair.src_spans[e].label) for a, b, e, _ in items]
        sources = [e for _, _, e, _ in items]
        scores = [f for *_, f in items]
        results[active[k]] = ProjectionResult(
            spans, scores, sources, confidence(len(pair.src_spans), sources, scores), status[k]
        )
    lap("results")
    if trace is not None:
        trace.update(
            active=active,
            batch=batch,
            index=index,
            fused=fused,
            parts=parts,
            chosen=chosen,
            weights=weights,
            threshold=threshold,
            constraint=constraint,
        )
    return results


def _solve_trivial(index: PairIndex, fused: np.ndarray, kept: np.ndarray, sent: np.ndarray, chosen: list) -> np.ndarray:
    """Fill ``chosen`` for sentences whose entities' best pairs do not overlap; return the other sentences."""
    ent = index.pair_ent[kept]
    length = index.pair_end[kept] - index.pair_start[kept]
    order = np.lexsort((index.pair_start[kept], length, -fused[kept], ent))
    ranked = kept[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = ent[order][1:] != ent[order][:-1]
    best = ranked[first]  # one pair per entity with a positive pair, in entity (hence sentence) order
    bsent = index.ent_sent[index.pair_ent[best]]
    by_start = np.lexsort((index.pair_start[best], bsent))
    b, s = best[by_start], bsent[by_start]
    clash = (s[1:] == s[:-1]) & (index.pair_start[b][1:] < index.pair_end[b][:-1])
    hard = np.unique(s[1:][clash])
    easy = ~np.isin(bsent, hard)
    bounds = np.searchsorted(bsent[easy], np.arange(len(index.n_ent) + 1)).tolist()
    easy_best = best[easy]
    for k in np.unique(bsent[easy]).tolist():
        chosen[k] = easy_best[bounds[k] : bounds[k + 1]]
    return hard
