"""Encoder similarity: cosine of the entity's and the candidate's mean contextual word vectors.

Any :class:`~xlner.align.encoders.Encoder` works (``embed_words``); each source
and target sentence of a batch is embedded once (distinct sentences only) and
span vectors are means of word vectors (prefix sums). Negative cosines count
as 0, so the score lies in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from xlner.errors import XlnerError
from xlner.project.scorers.nmt import resolve_device
from xlner.project.scores import FlatScorer, PairIndex
from xlner.registry import registry


@lru_cache(maxsize=4)
def load_encoder(encoder: str, options: tuple[tuple[str, Any], ...] = ()) -> Any:
    """A registered encoder name (``hf:PATH`` style is ``hf`` with that model) or a model path/hub name for ``hf``."""
    name, _, path = (
        encoder.partition(":")
        if ":" in encoder and encoder.split(":")[0] in registry.encoders.names()
        else ("hf", "", encoder)
    )
    return registry.encoders.create(name, name_or_path=path, **dict(options))


def _prefix(vectors: np.ndarray) -> np.ndarray:
    return np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)])


class EncoderScorer(FlatScorer):
    """The ``encoder`` score (module docstring); ``model`` is an encoder name or path, or an Encoder object."""

    def __init__(self, model: Any = None, device: str = "cpu", **encoder_options: Any):
        if model is None:
            raise XlnerError("the encoder score needs an encoder: option encoder=<hub name or folder> (or hf:<path>)")
        if hasattr(model, "embed_words"):
            self.encoder = model
        else:
            encoder_options.setdefault("device", resolve_device(device))
            self.encoder = load_encoder(str(model), tuple(sorted(encoder_options.items())))

    def _embed(self, sentences: list[tuple[str, ...]]) -> dict[tuple[str, ...], np.ndarray]:
        distinct = sorted(set(sentences))
        vectors = self.encoder.embed_words([list(s) for s in distinct])
        return {s: _prefix(np.asarray(v, dtype=np.float64)) for s, v in zip(distinct, vectors)}

    def score_flat(self, index: PairIndex) -> np.ndarray:
        if len(index.pair_ent) == 0:
            return np.zeros(0)
        pairs = index.pairs
        src = [tuple(map(str, p.src_tokens)) for p in pairs]
        tgt = [tuple(map(str, p.tgt_tokens)) for p in pairs]
        table = self._embed(src + tgt)
        ent_vec = np.stack(
            [(table[src[k]][s.end] - table[src[k]][s.start]) / len(s) for k, p in enumerate(pairs) for s in p.src_spans]
        )
        sent = index.ent_sent[index.pair_ent]
        cand_vec = np.stack(
            [
                (table[tgt[k]][b] - table[tgt[k]][a]) / (b - a)
                for k, a, b in zip(sent.tolist(), index.pair_start.tolist(), index.pair_end.tolist())
            ]
        )
        e = ent_vec[index.pair_ent]
        norm = np.linalg.norm(e, axis=1) * np.linalg.norm(cand_vec, axis=1)
        cos = np.divide((e * cand_vec).sum(axis=1), norm, out=np.zeros(len(norm)), where=norm > 0)
        return np.clip(cos, 0.0, 1.0)


@registry.scorers.register("encoder")
def make_encoder_scorer(**options: Any) -> EncoderScorer:
    """``encoder``: cosine of mean contextual word vectors (options: model, device, layer, pooling, batch_size, ...)."""
    return EncoderScorer(**options)
