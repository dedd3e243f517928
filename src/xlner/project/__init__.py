"""Projection of source entity spans onto target sentences.

>>> from xlner.project import project
>>> project(pairs, method="ilp")                       # offline default: alignment + string similarity
>>> project(pairs, method="heuristic", preset="garcia2022")

Methods: "heuristic" (aligned runs), "ilp" (candidate matching, exact solver)
and "greedy" (candidate matching, greedy solver). Options and presets are in
:mod:`xlner.project.config`; :func:`describe_methods` prints them.
"""

from __future__ import annotations

from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.project import encoder_scores as _encoder_scores  # noqa: F401  (registers "encoder"; models load lazily)
from xlner.project import ner_scores as _ner_scores  # noqa: F401  (registers the "ner" scorer; torch loads lazily)
from xlner.project import nmt_scores as _nmt_scores  # noqa: F401  (registers "nmt"; models load lazily)
from xlner.project import scores as _scores  # noqa: F401  (registers scorers)
from xlner.project import solve as _solve  # noqa: F401  (registers solvers)
from xlner.project.config import PRESETS, describe_methods, resolve_options
from xlner.project.matching import ProjectionResult, confidence, match
from xlner.types import SentencePair, Span

__all__ = ["PRESETS", "ProjectionResult", "describe_methods", "project", "project_detailed"]


def _check(pairs: Sequence[SentencePair]) -> None:
    for k, pair in enumerate(pairs):
        if pair.alignment is None:
            raise XlnerError(f"sentence pair {k}: no alignment; align the pairs before projecting")
        for span in pair.src_spans:
            if span.end > len(pair.src_tokens):
                raise XlnerError(
                    f"sentence pair {k}: source span [{span.start}, {span.end}) {span.label!r} "
                    f"is outside the {len(pair.src_tokens)} source tokens"
                )


def project_detailed(pairs: Sequence[SentencePair], method: str = "ilp", **options: Any) -> list[ProjectionResult]:
    """Project each pair's ``src_spans`` onto its ``tgt_tokens``; per-span scores and confidence.

    ``options``: ``preset=`` a name from :data:`PRESETS`, then any option of
    the method overriding it. For the heuristic a span's score is its
    alignment score (distinct-word Dice) with its source entity.
    """
    opts = resolve_options(method, options)
    pairs = list(pairs)
    _check(pairs)
    if method == "heuristic":
        return _heuristic_detailed(pairs, opts)
    opts["solver"] = opts["solver"] or ("exact" if method == "ilp" else "greedy")
    return match(pairs, **opts)


def project(pairs: Sequence[SentencePair], method: str = "ilp", **options: Any) -> list[list[Span]]:
    """Projected target spans of each pair, sorted by start (see :func:`project_detailed`)."""
    return [result.spans for result in project_detailed(pairs, method, **options)]


def _heuristic_detailed(pairs: list[SentencePair], opts: dict[str, Any]) -> list[ProjectionResult]:
    """Heuristic spans, each scored by the alignment score ("distinct") with its source entity."""
    import numpy as np

    from xlner.project.candidates import Candidates
    from xlner.project.heuristic import heuristic_sources
    from xlner.project.scores import AlignmentScorer

    found = [
        heuristic_sources(p.src_spans, len(p.tgt_tokens), p.alignment, tgt_tokens=p.tgt_tokens, **opts) for p in pairs
    ]
    # score each projected span against its own source entity: one (span x span) matrix per sentence
    scored = [
        SentencePair(p.src_tokens, p.tgt_tokens, [p.src_spans[e] for _, e in f], p.alignment) for p, f in zip(pairs, found)
    ]
    cands = [Candidates(np.array([s.start for s, _ in f], dtype=np.int64), np.array([s.end for s, _ in f], dtype=np.int64)) for f in found]
    matrices = AlignmentScorer("distinct").score(scored, cands)
    results = []
    for pair, f, m in zip(pairs, found, matrices):
        scores = np.diag(m).tolist()
        sources = [e for _, e in f]
        spans = [s for s, _ in f]
        results.append(ProjectionResult(spans, scores, sources, confidence(len(pair.src_spans), sources, scores), "heuristic"))
    return results
