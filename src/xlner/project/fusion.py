"""Score fusion: weighted sum of normalised score matrices, and the named fusion presets.

The presets follow the projection pipelines of Politov et al. (2025,
NoDaLiDa), which match source entities with target candidates under
``<= 1`` projection per entity using one score or an equal-weight fusion:

========================  =================================================================
``align``                 alignment score only (published link count), alignment candidates
``ner``                   target NER model, per entity label, on n-gram candidates
``nmt``                   translation likelihood (forced decoding, both directions), n-grams
``align_ner``             alignment + NER (label-agnostic NER score)
``align_ner_per_class``   alignment + NER (NER probability of the entity's own label)
``align_nmt``             alignment + translation
``ner_spans_nmt``         candidates = the target NER model's predicted spans; translation score
``all_fusion``            alignment + NER + translation
``all_fusion_string``     ``all_fusion`` + the offline character-trigram string score
========================  =================================================================

Weights are equal as published; ``threshold`` and the ``entity-max``
normalisation (each score divided by its best value for the entity, so a
scorer's scale does not decide the fusion) are ours, untuned. Model paths
come from the options ``ner_model``, ``nmt_model``, ``encoder``; the languages
of the ``nmt`` score from ``src_lang`` and ``tgt_lang``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from xlner.errors import XlnerError

NORMALISATIONS = ("none", "clip", "entity-max")

_ALIGN = {"alignment_mode": "aligned", "constraint": "<=1"}
_NGRAMS_ONLY = {"ngrams": True, "aligned_subranges": False, "runs": False}

#: Fusion presets for the candidate-matching methods (merged into xlner.project.config.PRESETS).
FUSION_PRESETS: dict[str, dict[str, Any]] = {
    "align": {
        "weights": {"alignment": 1.0},
        "alignment_mode": "links",
        "threshold": 0.0,
        "constraint": "<=1",
        "ngrams": False,
        "normalize": "none",
    },
    "ner": {
        "weights": {"ner": 1.0},
        **_NGRAMS_ONLY,
        "threshold": 0.1,
        "constraint": "<=1",
        "scorer_options": {"ner": {"mode": "label"}},
        "normalize": "none",
    },
    "nmt": {"weights": {"nmt": 1.0}, **_NGRAMS_ONLY, "threshold": 0.0, "constraint": "<=1", "normalize": "none"},
    "align_ner": {
        "weights": {"alignment": 1.0, "ner": 1.0},
        **_ALIGN,
        "threshold": 0.1,
        "scorer_options": {"ner": {"mode": "any"}},
        "normalize": "clip",
    },
    "align_ner_per_class": {
        "weights": {"alignment": 1.0, "ner": 1.0},
        **_ALIGN,
        "threshold": 0.1,
        "scorer_options": {"ner": {"mode": "label"}},
        "normalize": "clip",
    },
    "align_nmt": {"weights": {"alignment": 1.0, "nmt": 1.0}, **_ALIGN, "threshold": 0.1, "normalize": "entity-max"},
    "ner_spans_nmt": {
        "weights": {"nmt": 1.0},
        "ner_candidates": "only",
        "threshold": 0.0,
        "constraint": "<=1",
        "normalize": "none",
    },
    "all_fusion": {
        "weights": {"alignment": 1.0, "ner": 1.0, "nmt": 1.0},
        **_ALIGN,
        "threshold": 0.1,
        "scorer_options": {"ner": {"mode": "label"}},
        "normalize": "entity-max",
    },
    "all_fusion_string": {
        "weights": {"alignment": 1.0, "ner": 1.0, "nmt": 1.0, "string": 0.25},
        **_ALIGN,
        "threshold": 0.1,
        "scorer_options": {"ner": {"mode": "label"}},
        "normalize": "entity-max",
    },
}


def model_scorer_options(
    weights: Mapping[str, float],
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    ner_model: str | None = None,
    nmt_model: str | None = None,
    encoder: str | None = None,
    device: str = "cpu",
    src_lang: str | None = None,
    tgt_lang: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Factory options of each model-based scorer in ``weights`` from the matching options; ``extra[name]`` wins."""
    base: dict[str, dict[str, Any]] = {
        "ner": {"model": ner_model, "device": device},
        "nmt": {"model": nmt_model, "device": device, "src_lang": src_lang, "tgt_lang": tgt_lang},
        "encoder": {"model": encoder, "device": device},
    }
    overrides = {name: dict(opts or {}) for name, opts in (extra or {}).items()}
    out = {name: opts for name, opts in overrides.items()}
    for name in weights:
        if name in base:
            out[name] = {**base[name], **overrides.get(name, {})}
    return out


def normalise_flat(index: Any, flat: np.ndarray, how: str = "none") -> np.ndarray:
    """Normalise one scorer's flat pair scores: ``none``, ``clip`` to [0, 1], or ``entity-max`` (divide by the entity's best)."""
    if how not in NORMALISATIONS:
        raise XlnerError(f"normalize must be one of {', '.join(NORMALISATIONS)}, got {how!r}")
    if how == "none" or len(flat) == 0:
        return flat
    flat = np.clip(flat, 0.0, None)
    if how == "clip":
        return np.minimum(flat, 1.0)
    best = np.zeros(int(index.pair_ent.max()) + 1)
    np.maximum.at(best, index.pair_ent, flat)
    scale = best[index.pair_ent]
    return np.divide(flat, scale, out=np.zeros(len(flat)), where=scale > 0)


def fuse_flat(
    index: Any,
    weights: Mapping[str, float],
    scores: Mapping[str, np.ndarray],
    normalize: str = "none",
    threshold: float = 0.0,
) -> np.ndarray:
    """Weighted mean of the normalised flat scores; fused values below ``threshold`` become 0."""
    total = float(sum(weights.values()))
    if total <= 0:
        raise XlnerError(f"score weights must sum to a positive number, got {dict(weights)}")
    acc = np.zeros(len(index.pair_ent))
    for name, weight in weights.items():
        acc += weight * normalise_flat(index, np.asarray(scores[name], dtype=np.float64), normalize)
    acc /= total
    acc[acc < threshold] = 0.0
    return acc


def uses_scorer(method: str, options: Mapping[str, Any], scorer: str) -> bool:
    """Whether projecting with ``method`` and ``options`` (preset included) runs scorer ``scorer``."""
    from xlner.project.config import resolve_options

    if method not in ("ilp", "greedy"):
        return False
    resolved = resolve_options(method, options)
    return scorer in (resolved.get("weights") or {})


def with_languages(method: str, options: Mapping[str, Any] | None, src_lang: str, tgt_lang: str) -> dict[str, Any]:
    """``options`` plus ``src_lang``/``tgt_lang`` (unless given) when the translation score is used."""
    options = dict(options or {})
    if uses_scorer(method, options, "nmt"):
        options.setdefault("src_lang", src_lang)
        options.setdefault("tgt_lang", tgt_lang)
    return options
