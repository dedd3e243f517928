"""Score fusion: per-scorer normalisation and the weighted mean of the scores (the one implementation).

Scores are flat arrays over a batch's (entity, candidate) pairs
(:class:`~xlner.project.scores.PairIndex`), one per scorer. The fusion
presets that choose weights and normalisation are in :mod:`xlner.project.config`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from xlner.errors import XlnerError

NORMALISATIONS = ("none", "clip", "entity-max")


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


def fuse(scores: Mapping[str, np.ndarray], weights: Mapping[str, float], threshold: float = 0.0) -> np.ndarray:
    """Weighted mean of same-shaped score arrays (name -> array); entries below ``threshold`` become 0.

    Scores in [0, 1] fuse into [0, 1]; the "links" alignment mode may exceed 1
    and is left as published.
    """
    total = float(sum(weights.values()))
    if total <= 0:
        raise XlnerError(f"score weights must sum to a positive number, got {dict(weights)}")
    acc = sum(weights[name] * np.asarray(scores[name], dtype=np.float64) for name in weights) / total
    acc = np.array(acc, dtype=np.float64)
    acc[acc < threshold] = 0.0
    return acc
