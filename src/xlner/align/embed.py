"""Neural word alignment from contextual word vectors (the SimAlign / awesome-align ideas).

Methods on the word-vector similarity matrix of each pair:

* ``argmax``: mutual argmax of the cosine matrix (best in its row and column);
* ``itermax``: argmax, then up to ``max_iterations`` more rounds where pairs
  of two already-aligned words are removed and pairs with one aligned word are
  damped by ``alpha``; new mutual argmax links touching an unaligned word are
  added;
* ``match``: maximum-weight bipartite matching of the cosine matrix
  (one-to-one, ``scipy.optimize.linear_sum_assignment``);
* ``softmax``: softmax of the dot-product matrix over rows and over columns;
  keep links where both exceed ``softmax_threshold``.

``distortion`` (0 = off) mixes a diagonal prior ``1 - |i/m - j/n|`` into the
cosine matrix for the three cosine methods.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from xlner.align.base import TokenPair, check_pairs
from xlner.align.encoders import Encoder, HFEncoder
from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.types import Alignment

METHODS = ("argmax", "itermax", "match", "softmax")


def mutual_argmax(sim: np.ndarray) -> np.ndarray:
    """Boolean matrix: True where an entry is the maximum of both its row and its column."""
    rows = np.zeros_like(sim, dtype=bool)
    cols = np.zeros_like(sim, dtype=bool)
    rows[np.arange(sim.shape[0]), sim.argmax(axis=1)] = True
    cols[sim.argmax(axis=0), np.arange(sim.shape[1])] = True
    return rows & cols


def itermax(sim: np.ndarray, max_iterations: int = 2, alpha: float = 0.9) -> np.ndarray:
    """Iterated mutual argmax on a similarity matrix scaled to [0, 1]."""
    links = mutual_argmax(sim)
    for _ in range(max_iterations):
        src_done = np.any(links, axis=1)
        tgt_done = np.any(links, axis=0)
        both = src_done[:, None] & tgt_done[None, :]
        one = src_done[:, None] ^ tgt_done[None, :]
        damped = np.where(both, 0.0, np.where(one, alpha * sim, sim))
        new = mutual_argmax(damped) & ~both & ~links
        if not new.any():
            break
        links |= new
    return links


def softmax_links(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Links where the row-wise and the column-wise softmax both exceed ``threshold``."""
    rows = np.exp(scores - scores.max(axis=1, keepdims=True))
    rows /= rows.sum(axis=1, keepdims=True)
    cols = np.exp(scores - scores.max(axis=0, keepdims=True))
    cols /= cols.sum(axis=0, keepdims=True)
    return (rows > threshold) & (cols > threshold)


def align_vectors(
    src: np.ndarray,
    tgt: np.ndarray,
    method: str = "itermax",
    softmax_threshold: float = 1e-3,
    distortion: float = 0.0,
    max_iterations: int = 2,
    alpha: float = 0.9,
) -> Alignment:
    """Links between two sentences' word vectors (``(m, dim)`` and ``(n, dim)``)."""
    if method not in METHODS:
        raise XlnerError(f"unknown alignment method {method!r}: expected one of {', '.join(METHODS)}")
    if len(src) == 0 or len(tgt) == 0:
        return frozenset()
    src = np.asarray(src, dtype=np.float64)
    tgt = np.asarray(tgt, dtype=np.float64)
    if method == "softmax":
        chosen = softmax_links(src @ tgt.T, softmax_threshold)
    else:
        unit_src = src / np.maximum(np.linalg.norm(src, axis=1, keepdims=True), 1e-12)
        unit_tgt = tgt / np.maximum(np.linalg.norm(tgt, axis=1, keepdims=True), 1e-12)
        sim = (unit_src @ unit_tgt.T + 1.0) / 2.0  # cosine scaled to [0, 1]
        if distortion:
            pos_i = (np.arange(len(src)) + 0.5) / len(src)
            pos_j = (np.arange(len(tgt)) + 0.5) / len(tgt)
            sim = (1 - distortion) * sim + distortion * (1 - np.abs(pos_i[:, None] - pos_j[None, :]))
        if method == "argmax":
            chosen = mutual_argmax(sim)
        elif method == "itermax":
            chosen = itermax(sim, max_iterations, alpha)
        else:
            from scipy.optimize import linear_sum_assignment

            chosen = np.zeros_like(sim, dtype=bool)
            rows, cols = linear_sum_assignment(sim, maximize=True)
            chosen[rows, cols] = True
    return frozenset((int(i), int(j)) for i, j in zip(*np.nonzero(chosen)))


class SimAlignAligner:
    """Aligns pairs with word vectors from ``encoder`` (an :class:`Encoder`, or a model name/path for :class:`HFEncoder`).

    ``layer``, ``pooling``, ``batch_size``, ``device`` and ``model_class`` are
    passed to :class:`HFEncoder` when ``encoder`` is a name.
    """

    def __init__(
        self,
        encoder: Encoder | str = "bert-base-multilingual-cased",
        method: str = "itermax",
        softmax_threshold: float = 1e-3,
        distortion: float = 0.0,
        max_iterations: int = 2,
        alpha: float = 0.9,
        layer: int = 8,
        pooling: str = "mean",
        batch_size: int = 32,
        device: str = "cpu",
        model_class: str = "auto",
        progress: bool = True,
    ):
        if method not in METHODS:
            raise XlnerError(f"unknown alignment method {method!r}: expected one of {', '.join(METHODS)}")
        if isinstance(encoder, str):
            encoder = HFEncoder(
                encoder,
                layer=layer,
                pooling=pooling,
                batch_size=batch_size,
                device=device,
                model_class=model_class,
                progress=progress,
            )
        self.encoder = encoder
        self.method = method
        self.softmax_threshold = float(softmax_threshold)
        self.distortion = float(distortion)
        self.max_iterations = int(max_iterations)
        self.alpha = float(alpha)

    def config(self) -> dict[str, Any]:
        encoder = self.encoder.config() if hasattr(self.encoder, "config") else type(self.encoder).__name__
        return {
            "aligner": "simalign",
            "encoder": encoder,
            "method": self.method,
            "softmax_threshold": self.softmax_threshold,
            "distortion": self.distortion,
            "max_iterations": self.max_iterations,
            "alpha": self.alpha,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        check_pairs(pairs)
        src_vectors = self.encoder.embed_words([list(s) for s, _ in pairs])
        tgt_vectors = self.encoder.embed_words([list(t) for _, t in pairs])
        return [
            align_vectors(s, t, self.method, self.softmax_threshold, self.distortion, self.max_iterations, self.alpha)
            for s, t in zip(src_vectors, tgt_vectors)
        ]


@registry.aligners.register("simalign")
def _make_simalign(encoder: Encoder | str = "bert-base-multilingual-cased", **options: Any) -> SimAlignAligner:
    return SimAlignAligner(encoder, **options)
