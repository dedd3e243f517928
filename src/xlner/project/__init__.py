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
    opts.setdefault("solver", None)
    opts["solver"] = opts["solver"] or ("exact" if method == "ilp" else "greedy")
    return match(pairs, **opts)


def project(pairs: Sequence[SentencePair], method: str = "ilp", **options: Any) -> list[list[Span]]:
    """Projected target spans of each pair, sorted by start (see :func:`project_detailed`)."""
    return [result.spans for result in project_detailed(pairs, method, **options)]


def _heuristic_detailed(pairs: list[SentencePair], opts: dict[str, Any]) -> list[ProjectionResult]:
    import numpy as np

    from xlner.project.candidates import Candidates
    from xlner.project.heuristic import heuristic_sources
    from xlner.project.scores import alignment_matrix, soft_dice

    results = []
    for pair in pairs:
        found = heuristic_sources(
            pair.src_spans, len(pair.tgt_tokens), pair.alignment, tgt_tokens=pair.tgt_tokens, **opts
        )
        scores: list[float] = []
        if found:
            w = alignment_matrix(pair.alignment, len(pair.src_tokens), len(pair.tgt_tokens))
            cands = Candidates(np.array([s.start for s, _ in found]), np.array([s.end for s, _ in found]))
            m = soft_dice(w, [pair.src_spans[e] for _, e in found], cands)
            scores = np.diag(m).tolist()
        sources = [e for _, e in found]
        results.append(
            ProjectionResult(
                [s for s, _ in found], scores, sources, confidence(len(pair.src_spans), sources, scores), "heuristic"
            )
        )
    return results
