"""Projection over an iterable of sentence pairs in bounded chunks, in constant memory.

>>> from xlner.project.stream import project_stream
>>> for result in project_stream(pairs, method="ilp", chunk_size=1000):
...     print(result.spans)

Each pair's projection depends only on that pair, so projecting chunk by
chunk gives what :func:`xlner.project.project_detailed` gives on the whole
list, one chunk held at a time. A chunk holds at most ``chunk_size`` pairs
and at most :data:`CELL_BUDGET` cells of candidate matching's dense
(entity words x longest target sentence) matrices, so one very long target
sentence is projected on its own. The one option that looks beyond a pair,
``lowercase_word_label`` (used only when the source side uses that label at
all), is decided from ``source_labels`` (the labels of the whole input) when
given, else per chunk.
"""

from __future__ import annotations

import time
from typing import Any, Collection, Iterable, Iterator

from xlner.errors import XlnerError
from xlner.project.matching import ProjectionResult, derived_word_label
from xlner.types import SentencePair, Span

#: Pairs per chunk unless told otherwise.
CHUNK_SIZE = 1000
#: Most (entity words x longest target sentence) cells in one chunk; a pair over it alone is a chunk on its own.
CELL_BUDGET = 4_000_000


def chunks(pairs: Iterable[SentencePair], chunk_size: int = CHUNK_SIZE) -> Iterator[list[SentencePair]]:
    """Consecutive lists of pairs: at most ``chunk_size`` pairs and :data:`CELL_BUDGET` cells each."""
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise XlnerError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    chunk: list[SentencePair] = []
    words = longest = 0
    for pair in pairs:
        pair_words = sum(span.end - span.start for span in pair.src_spans)
        wider = max(longest, len(pair.tgt_tokens))
        if chunk and (len(chunk) >= chunk_size or (words + pair_words) * wider > CELL_BUDGET):
            yield chunk
            chunk, words, wider = [], 0, len(pair.tgt_tokens)
        chunk.append(pair)
        words += pair_words
        longest = wider
    if chunk:
        yield chunk


def project_stream(
    pairs: Iterable[SentencePair],
    method: str = "ilp",
    *,
    chunk_size: int = CHUNK_SIZE,
    source_labels: Collection[str] | None = None,
    timings: dict[str, float] | None = None,
    **options: Any,
) -> Iterator[ProjectionResult]:
    """:func:`xlner.project.project_detailed` of each pair, in order, projecting ``chunk_size`` pairs at a time.

    ``source_labels``: every label of the input's source spans (see the
    module docstring); ``timings["project"]``, when given, adds up the
    seconds spent projecting.
    """
    for results, _ in _stream(pairs, method, chunk_size, source_labels, timings, options, "results"):
        yield from results


def spans_stream(
    pairs: Iterable[SentencePair],
    method: str = "ilp",
    *,
    chunk_size: int = CHUNK_SIZE,
    source_labels: Collection[str] | None = None,
    timings: dict[str, float] | None = None,
    **options: Any,
) -> Iterator[list[Span]]:
    """:func:`xlner.project.project` of each pair (spans only; options as in :func:`project_stream`)."""
    for spans_of, _ in _stream(pairs, method, chunk_size, source_labels, timings, options, "spans"):
        yield from spans_of


def explain_stream(
    pairs: Iterable[SentencePair],
    method: str = "ilp",
    *,
    chunk_size: int = CHUNK_SIZE,
    source_labels: Collection[str] | None = None,
    timings: dict[str, float] | None = None,
    **options: Any,
) -> Iterator[tuple[ProjectionResult, dict[str, Any]]]:
    """:func:`xlner.project.explain.project_explained` of each pair: (result, details record), in order."""
    for results, records in _stream(pairs, method, chunk_size, source_labels, timings, options, "details"):
        yield from zip(results, records)


def _stream(
    pairs: Iterable[SentencePair],
    method: str,
    chunk_size: int,
    source_labels: Collection[str] | None,
    timings: dict[str, float] | None,
    options: dict[str, Any],
    kind: str,
) -> Iterator[tuple[list[Any], list[dict[str, Any]]]]:
    """Per chunk: its results (span lists for ``kind="spans"``) and, for ``"details"``, its records."""
    from xlner.project import project, project_detailed, resolve
    from xlner.project.explain import project_explained

    label = resolve(method, options).options.lowercase_word_label  # also checks every option before any pair
    opts = dict(options)
    if label is not None:
        opts["lowercase_word_label"] = None  # applied below, over the whole input's labels
    offset = 0
    for chunk in chunks(pairs, chunk_size):
        _check(chunk, offset)
        started = time.perf_counter()
        records: list[dict[str, Any]] = []
        out: list[Any]
        if kind == "spans":
            out = project(chunk, method, **opts)
        elif kind == "details":
            out, records = project_explained(chunk, method, **opts)
        else:
            out = project_detailed(chunk, method, **opts)
        if label is not None and _relabels(chunk, label, source_labels):
            _relabel(chunk, out, records, label)
        if timings is not None:
            timings["project"] = timings.get("project", 0.0) + time.perf_counter() - started
        offset += len(chunk)
        yield out, records


def _relabels(chunk: list[SentencePair], label: str, source_labels: Collection[str] | None) -> bool:
    if source_labels is not None:
        return label in source_labels
    return any(span.label == label for pair in chunk for span in pair.src_spans)


def _relabel(chunk: list[SentencePair], out: list[Any], records: list[dict[str, Any]], label: str) -> None:
    """The ``lowercase_word_label`` rule on a chunk's spans (and the labels in its details records)."""
    for k, pair in enumerate(chunk):
        spans = out[k] if isinstance(out[k], list) else out[k].spans
        new = [derived_word_label(span, pair.tgt_tokens, label) for span in spans]
        if isinstance(out[k], list):
            out[k] = new
        else:
            out[k].spans = new
        if records:
            for item, span in zip(records[k]["spans"], new):
                item["label"] = span.label


def _check(chunk: list[SentencePair], offset: int) -> None:
    """The checks of :func:`xlner.project.project`, naming each pair by its index in the whole input."""
    from xlner.project import _check as check_pairs

    check_pairs(chunk, offset)
