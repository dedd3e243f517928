"""Why each span was projected, and why the others were not: the records of ``--details``.

:func:`project_explained` projects like :func:`xlner.project.project_detailed`
and also returns one JSON-ready record per sentence pair::

    {"id", "src_tokens", "tgt_tokens", "src_spans": [[start, end, label]], "alignment": [[i, j]],
     "spans": [{"source", "source_text", "source_label", "src_start", "src_end",
                "label", "start", "end", "text", "score", "parts": {scorer: value}, "links": [[i, j]]}],
     "unprojected": [{"source", "source_text", "source_label", "src_start", "src_end",
                      "reason", "candidate": {"start", "end", "text", "score", "parts"} | None}],
     "status", "confidence", "kept"}

``score`` is the :class:`~xlner.project.matching.ProjectionResult` score;
``parts`` are the scorers' (normalised) values before fusion (the heuristic:
its alignment Dice). ``links`` are the alignment links from the entity's
words into the span. ``reason`` is one of :data:`REASONS`: "no aligned word"
(no word of the entity is aligned and nothing else scored), "below threshold"
(every candidate scored under the threshold; for the heuristic: the length
ratio), "overlap" (every positive candidate overlaps a span chosen for
another entity) or "constraint" (the projection-count constraint left it out).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from xlner.errors import InputError
from xlner.project.pieces import Piece
from xlner.types import SentencePair, Span

REASONS = ("below threshold", "overlap", "constraint", "no aligned word")

#: Keys every details record has (see the module docstring).
RECORD_KEYS = (
    "id",
    "src_tokens",
    "tgt_tokens",
    "src_spans",
    "alignment",
    "spans",
    "unprojected",
    "status",
    "confidence",
    "kept",
)


def project_explained(
    pairs: Sequence[SentencePair], method: str = "ilp", **options: Any
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Project ``pairs`` (as :func:`~xlner.project.project_detailed`); return the results and one record per pair."""
    from xlner.project import _detailed, project_detailed

    pairs = list(pairs)
    if method == "heuristic":
        results = project_detailed(pairs, method, **options)
        return results, _explain_heuristic(pairs, results, options)
    if method not in ("ilp", "greedy"):
        results = project_detailed(pairs, method, **options)  # raises the usual error for an unknown method
        return results, [plain_record(p, r.confidence, r.status) for p, r in zip(pairs, results)]
    trace: dict[str, Any] = {}
    results = _detailed(pairs, method, options, trace)
    if trace.get("where") is None:
        return results, _explain_matching(pairs, results, trace)
    records = _explain_matching(trace["pieces"], trace["piece_results"], trace)
    return results, _join_records(pairs, results, trace["where"], records)


def _join_records(
    pairs: Sequence[SentencePair], results: Sequence[Any], where: Sequence[Piece], records: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One record per pair from its pieces' records (:mod:`xlner.project.pieces`): positions shifted back."""
    spans: list[list[dict[str, Any]]] = [[] for _ in pairs]
    unprojected: list[list[dict[str, Any]]] = [[] for _ in pairs]
    for piece, record in zip(where, records):
        spans[piece.pair] += [_shifted(item, piece) for item in record["spans"]]
        unprojected[piece.pair] += [_shifted(item, piece) for item in record["unprojected"]]
    joined = []
    for pair, result, found, left in zip(pairs, results, spans, unprojected):
        found.sort(key=lambda d: (d["start"], d["end"]))  # the order of result.spans
        for item, span in zip(found, result.spans):
            item["label"] = span.label  # after the lowercase_word_label rule, which ran on the whole pair
        joined.append(_record(pair, found, sorted(left, key=lambda d: d["source"]), result.status, result.confidence))
    return joined


def _shifted(item: dict[str, Any], piece: Piece) -> dict[str, Any]:
    """A piece's span or unprojected entry with its positions in the whole pair."""
    out = {**item, "source": piece.entities[item["source"]]}
    out["src_start"] += piece.src_offset
    out["src_end"] += piece.src_offset
    for key in ("start", "end"):
        if key in out:
            out[key] += piece.tgt_offset
    if "links" in out:
        out["links"] = [[i + piece.src_offset, j + piece.tgt_offset] for i, j in out["links"]]
    if out.get("candidate") is not None:
        candidate = out["candidate"]
        shift = piece.tgt_offset
        out["candidate"] = {**candidate, "start": candidate["start"] + shift, "end": candidate["end"] + shift}
    return out


def _entity(pair: SentencePair, e: int) -> dict[str, Any]:
    span = pair.src_spans[e]
    return {
        "source": e,
        "source_text": " ".join(pair.src_tokens[span.start : span.end]),
        "source_label": span.label,
        "src_start": span.start,
        "src_end": span.end,
    }


def _links_into(pair: SentencePair, entity: Span, start: int, end: int) -> list[list[int]]:
    return sorted([i, j] for i, j in pair.alignment or () if entity.start <= i < entity.end and start <= j < end)


def _has_link(pair: SentencePair, entity: Span) -> bool:
    n = len(pair.tgt_tokens)
    return any(entity.start <= i < entity.end and 0 <= j < n for i, j in pair.alignment or ())


def _record(
    pair: SentencePair,
    spans: list[dict[str, Any]],
    unprojected: list[dict[str, Any]],
    status: str,
    confidence: float,
    kept: bool = True,
) -> dict[str, Any]:
    return {
        "id": pair.id,
        "src_tokens": list(pair.src_tokens),
        "tgt_tokens": list(pair.tgt_tokens),
        "src_spans": [[s.start, s.end, s.label] for s in pair.src_spans],
        "alignment": sorted([int(i), int(j)] for i, j in pair.alignment or ()),
        "spans": spans,
        "unprojected": unprojected,
        "status": status,
        "confidence": float(confidence),
        "kept": bool(kept),
    }


def _span(pair: SentencePair, e: int, span: Span, score: float, parts: Mapping[str, float]) -> dict[str, Any]:
    entity = pair.src_spans[e]
    return {
        **_entity(pair, e),
        "label": span.label,
        "start": span.start,
        "end": span.end,
        "text": " ".join(pair.tgt_tokens[span.start : span.end]),
        "score": float(score),
        "parts": {k: float(v) for k, v in parts.items()},
        "links": _links_into(pair, entity, span.start, span.end),
    }


def _candidate(pair: SentencePair, start: int, end: int, score: float, parts: Mapping[str, float]) -> dict[str, Any]:
    return {
        "start": int(start),
        "end": int(end),
        "text": " ".join(pair.tgt_tokens[start:end]),
        "score": float(score),
        "parts": {k: float(v) for k, v in parts.items()},
    }


def plain_record(pair: SentencePair, confidence: float, status: str, kept: bool = True) -> dict[str, Any]:
    """A record for projections without scores (markers, model transfer): spans from ``pair.tgt_spans``."""
    spans: list[dict[str, Any]] = [
        {
            "source": None,
            "source_text": None,
            "source_label": None,
            "src_start": None,
            "src_end": None,
            "label": s.label,
            "start": s.start,
            "end": s.end,
            "text": " ".join(pair.tgt_tokens[s.start : s.end]),
            "score": None,
            "parts": {},
            "links": [],
        }
        for s in pair.tgt_spans or []
    ]
    return _record(pair, spans, [], status, confidence, kept)


def _explain_matching(
    pairs: Sequence[SentencePair], results: Sequence[Any], trace: dict[str, Any]
) -> list[dict[str, Any]]:
    records = [_record(p, [], [], r.status, r.confidence) for p, r in zip(pairs, results)]
    if not trace.get("active"):
        return records
    index, fused, parts, weights = trace["index"], trace["fused"], trace["parts"], trace["weights"]
    total = float(sum(weights.values()))
    mean = sum(w * parts[name] for name, w in weights.items()) / total
    raw = np.where(fused > 0, fused, mean)  # the fused score before the threshold (copies raised)
    ent_off = np.concatenate([[0], np.cumsum(index.n_ent)])
    for k, at in enumerate(trace["active"]):
        pair, result, glue, record = pairs[at], results[at], trace["glues"][k], records[at]
        n_cand = int(index.n_cand[k])
        base = int(index.block[k])

        def token_range(flat: int) -> tuple[int, int]:
            a, b = int(index.pair_start[flat]), int(index.pair_end[flat])
            if glue is not None and glue.changed:
                span = glue.span(Span(a, b, "X"))
                return span.start, span.end
            return a, b

        def parts_of(flat: int) -> dict[str, float]:
            return {name: float(values[flat]) for name, values in parts.items()}

        chosen = sorted(
            (int(index.pair_start[f]), int(index.pair_end[f]), int(index.pair_ent[f] - ent_off[k]), int(f))
            for f in trace["chosen"][k]
        )  # the order of result.spans (xlner.project.matching.match)
        for span, (*_, e, flat) in zip(result.spans, chosen):
            record["spans"].append(_span(pair, e, span, fused[flat], parts_of(flat)))
        taken = [(a, b) for a, b, *_ in chosen]
        projected = set(result.sources)
        for e in range(len(pair.src_spans)):
            if e in projected:
                continue
            flats = base + e * n_cand + np.arange(n_cand)
            positive = flats[fused[flats] > 0]
            if len(positive):
                best = int(positive[np.argmax(fused[positive])])
                free = [
                    f
                    for f in positive.tolist()
                    if not any(index.pair_start[f] < b and a < index.pair_end[f] for a, b in taken)
                ]
                reason = "constraint" if free else "overlap"
            elif n_cand and raw[flats].max() > 0:
                best, reason = int(flats[np.argmax(raw[flats])]), "below threshold"
            else:
                best, reason = -1, "below threshold" if _has_link(pair, pair.src_spans[e]) else "no aligned word"
            candidate = None
            if best >= 0:
                candidate = _candidate(pair, *token_range(best), raw[best], parts_of(best))
            record["unprojected"].append({**_entity(pair, e), "reason": reason, "candidate": candidate})
    return records


def _explain_heuristic(
    pairs: Sequence[SentencePair], results: Sequence[Any], options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    from xlner.project.config import HeuristicOptions, resolve
    from xlner.project.heuristic import MarkGlue, aligned_runs, alignment_dice, target_links

    opts = resolve("heuristic", options).options
    assert isinstance(opts, HeuristicOptions)
    records = []
    for pair, result in zip(pairs, results):
        links = target_links(pair.alignment or (), len(pair.tgt_tokens))
        spans = [
            _span(pair, e, span, score, {"alignment": score})
            for span, score, e in zip(result.spans, result.scores, result.sources)
        ]
        glue = MarkGlue.of(pair.tgt_tokens) if opts.glue_marks else None
        glued_links, glued_tokens = links, pair.tgt_tokens
        if glue is not None and glue.changed:
            glued_links, glued_tokens = (
                target_links(glue.alignment(pair.alignment or ()), len(glue.words)),
                list(glue.words),
            )
        unprojected = []
        for e, entity in enumerate(pair.src_spans):
            if e in set(result.sources):
                continue
            runs = aligned_runs(
                entity.start,
                entity.end,
                glued_links,
                merge_distance=opts.merge_distance,
                merge_only_if_not_first_word_aligned=opts.merge_only_if_not_first_word_aligned,
                tgt_tokens=glued_tokens,
                drop_punctuation_runs=opts.drop_punctuation_runs,
                ignore_punctuation_links=opts.ignore_punctuation_links,
            )
            if glue is not None and glue.changed:
                runs = [(s.start, s.end) for s in (glue.span(Span(a, b, "X")) for a, b in runs)]
            if not runs:
                unprojected.append({**_entity(pair, e), "reason": "no aligned word", "candidate": None})
                continue
            ratio = opts.length_ratio_threshold
            passing = [r for r in runs if ratio <= 0 or (r[1] - r[0]) / len(entity) > ratio]
            sign = -1 if opts.keep == "longest" else 1
            best = sorted(passing or runs, key=lambda r: (sign * (r[1] - r[0]), r[0]))[0]
            score = alignment_dice(entity, Span(best[0], best[1], entity.label), links)
            reason = "overlap" if passing else "below threshold"
            unprojected.append(
                {
                    **_entity(pair, e),
                    "reason": reason,
                    "candidate": _candidate(pair, best[0], best[1], score, {"alignment": score}),
                }
            )
        records.append(_record(pair, spans, unprojected, result.status, result.confidence))
    return records


def write_details(path: str | Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write details records as JSONL through :func:`xlner.io.atomic.atomic_write` (deferred inside an output plan)."""
    from xlner.io.atomic import atomic_write

    with atomic_write(path) as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_details(path: str | Path) -> list[dict[str, Any]]:
    """Read a details JSONL file; an :class:`InputError` naming ``FILE:LINE`` for a bad record."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("details file not found", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read: {error}", path) from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"not JSON ({error.msg})", path, number) from None
        missing = [
            key for key in ("src_tokens", "tgt_tokens", "spans") if not isinstance(record, dict) or key not in record
        ]
        if missing:
            raise InputError(
                f"not a details record (missing {', '.join(missing)}; write one with --details)", path, number
            )
        records.append(record)
    if not records:
        raise InputError("no details record in the file", path)
    return records
