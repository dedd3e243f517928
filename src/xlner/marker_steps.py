"""Marker-based projection (EasyProject) and model transfer as pipeline steps.

The pure marker insertion, parsing and matching live in
:mod:`xlner.project.markers`; these functions call the translator and tagger
through the pipeline's cached steps.
"""

from __future__ import annotations

from typing import Any, Sequence

from xlner.project.markers import (
    MarkerReport,
    ParsedTranslation,
    _marker_options,
    project_with_markers,
    spans_onto,
)
from xlner.types import Sentence


def translate_test_markers(
    sentences: Sequence[Sentence],
    *,
    lang: str,
    pivot: str,
    translator: Any,
    tagger: Any,
    ctx: Any,
    tokenizer: str = "moses",
    options: dict[str, Any] | None = None,
) -> tuple[list[Sentence], list[Any], list[float], MarkerReport]:
    """translate-test with markers: translate to ``pivot``, tag, translate back with markers, match onto the input.

    ``translator``/``tagger`` are :class:`xlner.pipeline.Component` objects and
    ``ctx`` the pipeline's cache context. Returns the labelled input
    sentences, their pairs (English side = the tagged translation), per-sentence
    confidence (share of English entities found again) and the report.
    ``options``: ``markers`` (two strings), ``fuzzy_threshold``.
    """
    from xlner.pipeline import step_tag, step_translate
    from xlner.translate.detok import detokenize, tokenize
    from xlner.types import SentencePair

    style, threshold = _marker_options(options)
    ids = [s.id for s in sentences]
    texts = [detokenize(s.tokens, lang) for s in sentences]
    english = [tokenize(t, pivot, tokenizer) for t in step_translate(texts, ids, translator, lang, pivot, ctx)]
    spans = step_tag(english, tagger, ctx)
    labelled = [Sentence(e, sp, i) for e, sp, i in zip(english, spans, ids)]
    back, report = project_with_markers(
        labelled,
        None,
        pivot,
        lang,
        markers=style,
        tokenizer=tokenizer,
        fuzzy_threshold=threshold,
        translate=lambda marked: step_translate(marked, [None] * len(marked), translator, pivot, lang, ctx),
        precomputed=translator.precomputed,
    )
    out, pairs, confidences = [], [], []
    for sentence, english_sentence, translated in zip(sentences, labelled, back):
        parsed = ParsedTranslation(translated.tokens, translated.spans, [])
        target_spans = spans_onto(sentence.tokens, parsed, threshold)
        out.append(Sentence(list(sentence.tokens), target_spans, sentence.id))
        pairs.append(
            SentencePair(
                english_sentence.tokens,
                list(sentence.tokens),
                list(english_sentence.spans),
                None,
                target_spans,
                id=sentence.id,
            )
        )
        confidences.append(min(1.0, len(target_spans) / len(english_sentence.spans)) if english_sentence.spans else 1.0)
    return out, pairs, confidences, report


def model_transfer(
    sentences: Sequence[Sentence], *, tagger: Any, ctx: Any
) -> tuple[list[Sentence], list[Any], list[float]]:
    """The model-transfer baseline: tag the target sentences directly (``tagger``: a pipeline Component)."""
    from xlner.pipeline import step_tag
    from xlner.types import SentencePair

    spans = step_tag([list(s.tokens) for s in sentences], tagger, ctx)
    out = [Sentence(list(s.tokens), list(sp), s.id) for s, sp in zip(sentences, spans)]
    pairs = [SentencePair([], list(s.tokens), [], None, list(sp), id=s.id) for s, sp in zip(sentences, spans)]
    return out, pairs, [1.0] * len(out)


def translate_train_markers(
    sentences: Sequence[Sentence],
    *,
    lang: str,
    pivot: str,
    translator: Any,
    ctx: Any,
    tokenizer: str = "moses",
    options: dict[str, Any] | None = None,
) -> tuple[list[Any], list[float], MarkerReport]:
    """translate-train with markers: translate labelled ``pivot`` sentences with markers into ``lang`` and parse them.

    Returns the sentence pairs (target side = the parsed translation), per-pair
    confidence (share of source entities projected) and the report.
    """
    from xlner.pipeline import step_translate
    from xlner.types import SentencePair

    style, threshold = _marker_options(options)
    ids = [s.id for s in sentences]
    target, report = project_with_markers(
        sentences,
        None,
        pivot,
        lang,
        markers=style,
        tokenizer=tokenizer,
        fuzzy_threshold=threshold,
        translate=lambda marked: step_translate(marked, ids, translator, pivot, lang, ctx),
        precomputed=translator.precomputed,
    )
    pairs = [
        SentencePair(list(s.tokens), t.tokens, list(s.spans), None, t.spans, id=s.id) for s, t in zip(sentences, target)
    ]
    confidences = [min(1.0, len(t.spans) / len(s.spans)) if s.spans else 1.0 for s, t in zip(sentences, target)]
    return pairs, confidences, report
