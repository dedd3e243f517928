"""Projection of source entity spans onto target sentences.

>>> from xlner.project import project
>>> project(pairs, method="ilp")                       # offline default: alignment + string similarity
>>> project(pairs, method="heuristic", preset="garcia2022")

Methods: "heuristic" (aligned runs), "ilp" (candidate matching, exact solver)
and "greedy" (candidate matching, greedy solver). Options and presets are in
:mod:`xlner.project.config`; :func:`describe_methods` prints them and
:func:`resolve` says what a set of options runs (scorers, models, languages, solver).
Scorers and solvers are listed by :data:`xlner.registry.registry`, which
imports their modules (:mod:`xlner.project.scores`, :mod:`xlner.project.scorers`,
:mod:`xlner.project.solve`) on first use.
"""

from __future__ import annotations

from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.project.config import PRESETS, Resolved, describe_methods, presets, resolve
from xlner.project.heuristic import MarkGlue, glue_pairs
from xlner.project.matching import ProjectionResult, confidence, match, relabel_derived_words
from xlner.project.pieces import iter_pieces, join_results, plan_pieces
from xlner.types import SentencePair, Span

__all__ = [
    "PRESETS",
    "ProjectionResult",
    "Resolved",
    "describe_methods",
    "presets",
    "project",
    "project_detailed",
    "resolve",
]


def _check(pairs: Sequence[SentencePair], offset: int = 0) -> None:
    """Every pair is aligned and its source spans fit its tokens; pairs are named by ``offset`` + their index."""
    for k, pair in enumerate(pairs, start=offset):
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
    the method overriding it (:func:`describe_methods`); ``solver_options=``
    goes to the solver's factory, e.g. ``{"method": "highs"}``. For the heuristic a span's score is its
    alignment score (distinct-word Dice) with its source entity. The
    ``lowercase_word_label`` rule runs after any method.
    """
    return _detailed(pairs, method, options)


def _detailed(
    pairs: Sequence[SentencePair], method: str, options: dict[str, Any], trace: dict[str, Any] | None = None
) -> list[ProjectionResult]:
    """:func:`project_detailed`; ``trace`` receives candidate matching's internals (see :func:`match`)."""
    pairs, resolved, opts, label = _prepared(pairs, method, options)
    if method == "heuristic":
        glued, glues = glue_pairs(pairs, opts.pop("glue_marks"))  # split-off diacritics, for any method
        results = _heuristic_detailed(pairs, glued, glues, opts)
    else:
        opts["solver"] = resolved.solver
        glue_marks = opts.pop("glue_marks")
        where = plan_pieces(pairs)  # long targets project piece by piece (xlner.project.pieces)
        if where is None or trace is not None:
            pieces = pairs if where is None else list(iter_pieces(pairs, where))
            results = _match_glued(pieces, opts, glue_marks, trace)
            if trace is not None:
                trace["pieces"], trace["where"], trace["piece_results"] = pieces, where, results
        else:  # a long line's pieces, built and matched in bounded chunks
            from xlner.project.stream import chunks

            results = [r for group in chunks(iter_pieces(pairs, where)) for r in _match_glued(group, opts, glue_marks)]
        if where is not None:
            results = join_results(pairs, where, results)
    for result, spans in zip(results, relabel_derived_words(pairs, [r.spans for r in results], label)):
        result.spans = spans
    return results


def _match_glued(
    pairs: Sequence[SentencePair], opts: dict[str, Any], glue_marks: bool, trace: dict[str, Any] | None = None
) -> list[ProjectionResult]:
    """Candidate matching (``opts`` resolved) on the pairs with split-off diacritics glued, spans mapped back."""
    glued, glues = glue_pairs(pairs, glue_marks)
    results = match(glued, **opts, trace=trace)
    for result, glue in zip(results, glues):
        if glue is not None:
            result.spans = [glue.span(span) for span in result.spans]
    if trace is not None:
        trace["glues"] = [glues[k] for k in trace["active"]]
    return results


def project(pairs: Sequence[SentencePair], method: str = "ilp", **options: Any) -> list[list[Span]]:
    """Projected target spans of each pair, sorted by start (see :func:`project_detailed`)."""
    if method != "heuristic":
        return [result.spans for result in project_detailed(pairs, method, **options)]
    pairs, _, opts, label = _prepared(pairs, method, options)  # the heuristic without per-span scores
    glued, glues = glue_pairs(pairs, opts.pop("glue_marks"))
    spans_of = [[span for span, _ in found] for found in _heuristic_found(glued, glues, opts)]
    return relabel_derived_words(pairs, spans_of, label)


def _prepared(
    pairs: Sequence[SentencePair], method: str, options: dict[str, Any]
) -> tuple[list[SentencePair], Resolved, dict[str, Any], str | None]:
    """The checked pairs, the resolved options (also as keywords), and the ``lowercase_word_label`` rule taken out."""
    resolved = resolve(method, options)
    opts = resolved.as_dict()
    label = opts.pop("lowercase_word_label")
    pairs = list(pairs)
    _check(pairs)
    return pairs, resolved, opts, label


def _heuristic_found(
    glued: Sequence[SentencePair], glues: Sequence[MarkGlue | None], opts: dict[str, Any]
) -> list[list[tuple[Span, int]]]:
    """(span, source index) of each pair's heuristic projections onto its tokens (``opts`` resolved; pairs
    checked and glued by :func:`glue_pairs`)."""
    from xlner.project.heuristic import heuristic_sources

    out = []
    for p, glue in zip(glued, glues):
        assert p.alignment is not None  # the callers run _check(pairs) first
        found = heuristic_sources(
            p.src_spans, len(p.tgt_tokens), p.alignment, tgt_tokens=p.tgt_tokens, glue_marks=False, **opts
        )
        out.append(found if glue is None else [(glue.span(span), e) for span, e in found])
    return out


def _heuristic_detailed(
    pairs: Sequence[SentencePair],
    glued: Sequence[SentencePair],
    glues: Sequence[MarkGlue | None],
    opts: dict[str, Any],
) -> list[ProjectionResult]:
    """Heuristic spans, each scored by the alignment score ("distinct") with its source entity on the tokens."""
    from xlner.project.heuristic import alignment_dice, target_links

    results = []
    for pair, found in zip(pairs, _heuristic_found(glued, glues, opts)):
        assert pair.alignment is not None  # the callers run _check(pairs) first
        links = target_links(pair.alignment, len(pair.tgt_tokens)) if found else {}
        scores = [alignment_dice(pair.src_spans[e], span, links) for span, e in found]
        sources = [e for _, e in found]
        spans = [span for span, _ in found]
        results.append(
            ProjectionResult(spans, scores, sources, confidence(len(pair.src_spans), sources, scores), "heuristic")
        )
    return results
