"""Scores and candidates from a target-language NER model (a Hugging Face token classifier).

The model runs ONCE per distinct target sentence (batched, results cached on
the :class:`NerModel`): for every word, the softmax over labels at its first
sub-token. From these word probabilities:

- the ``ner`` score of entity ``e`` (label ``c``) and candidate ``[a, b)`` is
  ``(P(B-c | a) + sum over a < w < b of P(I-c | w)) / (b - a)``, the mean
  probability that the words form exactly one entity of type ``c`` (for IO
  models ``P(I-c)`` stands in for ``P(B-c)``). Mode ``label`` uses the source
  entity's label (through ``label_map``, then :data:`ALIASES` such as
  PERSON -> PER when the model lacks the label); mode ``any`` sums over all types
  (label-agnostic). ``boost`` lifts a score towards 1 when the model's own
  arg-max tags form exactly that span (``s + boost * (1 - s)``); scores below
  ``min_score`` become 0.
- :func:`ner_candidates`: the spans the model's arg-max tags form (decoded with
  the ``repair`` policy), all of them or only those whose label is among the
  sentence's source entity labels; :func:`merge_candidates` joins candidate sets.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from xlner.errors import XlnerError
from xlner.project.candidates import Candidates
from xlner.project.scores import FlatScorer, PairIndex
from xlner.registry import registry
from xlner.types import Span

log = logging.getLogger(__name__)
NER_MODES = ("label", "any")
#: Fallbacks for source labels the NER model lacks (spaCy/OntoNotes names -> CoNLL names).
ALIASES = {"PERSON": "PER", "GPE": "LOC", "FAC": "LOC", "NORP": "MISC"}


class NerModel:
    """Word-level label probabilities of a token classifier, cached per sentence."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32, max_length: int = 512):
        from xlner.tag.hf import HFTagger

        self.tagger = HFTagger(model, device=device, batch_size=batch_size, max_length=max_length)
        self.model_name = model
        self.max_length = self.tagger.max_length  # capped at the model's positions; words past it are read as O
        labels = [self.tagger.id2label[i] for i in range(len(self.tagger.id2label))]
        self.labels = labels
        self.types = sorted({label[2:] for label in labels if label != "O"})
        self._cache: dict[tuple[str, ...], np.ndarray] = {}
        n = len(labels)
        # (labels x types) 0/1 matrices: which label is B-t (or I-t for IO models) / I-t.
        self.begin = np.zeros((n, len(self.types)))
        self.inside = np.zeros((n, len(self.types)))
        has_b = {label[2:] for label in labels if label.startswith("B-")}
        for k, label in enumerate(labels):
            if label == "O":
                continue
            t = self.types.index(label[2:])
            if label.startswith("B-") or (label.startswith("I-") and label[2:] not in has_b):
                self.begin[k, t] = 1.0
            if label.startswith("I-"):
                self.inside[k, t] = 1.0

    def word_probs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """One ``(n_words, n_labels)`` array per sentence; new sentences go through the model in batches."""
        from xlner.translate.base import length_sorted_batches

        keys = [tuple(str(w) for w in s) for s in sentences]
        todo = sorted({k for k in keys if k not in self._cache and k})
        for _, batch in length_sorted_batches(todo, self.tagger.batch_size):
            pieces, word_ids = self.tagger.piece_probs(batch)
            probs = pieces.numpy()
            for b, key in enumerate(batch):
                self._cache[key] = self._first_pieces(probs[b], word_ids[b], len(key))
        empty = np.zeros((0, len(self.labels)))
        return [self._cache[k] if k else empty for k in keys]

    def _first_pieces(self, probs: np.ndarray, word_ids: list[int | None], n_words: int) -> np.ndarray:
        out = np.zeros((n_words, len(self.labels)))
        out[:, self.labels.index("O") if "O" in self.labels else 0] = 1.0  # truncated words: O
        seen: set[int] = set()
        for position, word in enumerate(word_ids):
            if word is not None and word not in seen:
                seen.add(word)
                out[word] = probs[position]
        return out

    def predicted_spans(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Spans of the arg-max tags of each sentence."""
        from xlner.tags import tags_to_spans

        out = []
        for probs in self.word_probs(sentences):
            tags = [self.labels[int(k)] for k in probs.argmax(axis=1)] if len(probs) else []
            out.append(tags_to_spans(tags, self.tagger.scheme, "repair")[0])
        return out


def load_ner_model(model: str, device: str = "cpu", batch_size: int = 32, max_length: int = 512) -> NerModel:
    """A :class:`NerModel`, loaded once per process for these arguments (``load_ner_model.cache_clear()`` forgets)."""
    return _load_ner_model(str(model), device, int(batch_size), int(max_length))


@lru_cache(maxsize=4)
def _load_ner_model(model: str, device: str, batch_size: int, max_length: int) -> NerModel:
    return NerModel(model, device, batch_size, max_length)


load_ner_model.cache_clear = _load_ner_model.cache_clear  # type: ignore[attr-defined]


def candidate_type_scores(model: NerModel, probs: np.ndarray, cands: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """``(K, n_types)`` per-type scores and ``(K,)`` label-agnostic scores of one sentence's candidates."""
    p_begin = probs @ model.begin
    p_inside = probs @ model.inside
    starts, ends = cands.starts.astype(np.int64), cands.ends.astype(np.int64)
    lengths = (ends - starts).astype(float)
    prefix = np.vstack([np.zeros((1, p_inside.shape[1])), np.cumsum(p_inside, axis=0)])
    per_type = (p_begin[starts] + prefix[ends] - prefix[np.minimum(starts + 1, ends)]) / lengths[:, None]
    return per_type, per_type.sum(axis=1)


class NerScorer(FlatScorer):
    """The ``ner`` score (module docstring)."""

    def __init__(
        self,
        model: str | None = None,
        mode: str = "label",
        boost: float = 0.0,
        min_score: float = 0.0,
        label_map: Mapping[str, str] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int = 512,
    ):
        if not model:
            raise XlnerError("the ner score needs a target NER model: option ner_model=<hub name or folder>")
        if mode not in NER_MODES:
            raise XlnerError(f"ner mode must be one of {', '.join(NER_MODES)}, got {mode!r}")
        if not 0.0 <= boost <= 1.0:
            raise XlnerError(f"ner boost must be in [0, 1], got {boost}")
        self.model = load_ner_model(str(model), device, batch_size, max_length)
        self.mode, self.boost, self.min_score = mode, float(boost), float(min_score)
        self.label_map = dict(label_map or {})
        self._warned: set[str] = set()

    def _type_index(self, label: str) -> int:
        name = self.label_map.get(label, label)
        if name not in self.model.types:
            name = ALIASES.get(name, name)
        if name in self.model.types:
            return self.model.types.index(name)
        if label not in self._warned:
            self._warned.add(label)
            log.warning(
                "NER model %s has no type %r (types: %s); its entities score 0",
                self.model.model_name,
                name,
                self.model.types,
            )
        return -1

    def score_flat(self, index: PairIndex) -> np.ndarray:
        flat = np.zeros(len(index.pair_ent))
        pairs = index.pairs
        all_probs = self.model.word_probs([p.tgt_tokens for p in pairs])
        predicted = self.model.predicted_spans([p.tgt_tokens for p in pairs]) if self.boost else [[] for _ in pairs]
        for k, pair in enumerate(pairs):
            cands = index.candidates[k]
            if not len(cands) or not pair.src_spans:
                continue
            per_type, any_type = candidate_type_scores(self.model, all_probs[k], cands)
            block = np.zeros((len(pair.src_spans), len(cands)))
            for e, span in enumerate(pair.src_spans):
                if self.mode == "any":
                    block[e] = any_type
                else:
                    t = self._type_index(span.label)
                    block[e] = per_type[:, t] if t >= 0 else 0.0
            if self.boost and predicted[k]:
                self._apply_boost(block, pair.src_spans, cands, predicted[k])
            block = np.clip(block, 0.0, 1.0)
            block[block < self.min_score] = 0.0
            flat[index.block[k] : index.block[k + 1]] = block.ravel()
        return flat

    def _apply_boost(
        self, block: np.ndarray, entities: Sequence[Span], cands: Candidates, predicted: list[Span]
    ) -> None:
        where = {(a, b): k for k, (a, b) in enumerate(cands.spans())}
        for span in predicted:
            k = where.get((span.start, span.end))
            if k is None:
                continue
            for e, entity in enumerate(entities):
                t = self._type_index(entity.label)
                if self.mode == "any" or (t >= 0 and self.model.types[t] == span.label):
                    block[e, k] += self.boost * (1.0 - block[e, k])


@registry.scorers.register("ner")
def make_ner_scorer(**options: Any) -> NerScorer:
    """``ner``: target NER model probabilities (options: model, mode, boost, min_score, label_map, device, batch_size)."""
    return NerScorer(**options)


def ner_candidates(
    pairs: Sequence,
    model: str | None,
    labels: str = "any",
    device: str = "cpu",
    batch_size: int = 32,
    label_map: Mapping[str, str] | None = None,
) -> list[Candidates]:
    """The target NER model's predicted spans per pair; ``labels="match"`` keeps those labelled like a source entity."""
    if not model:
        raise XlnerError("NER candidates need a target NER model: option ner_model=<hub name or folder>")
    if labels not in ("any", "match"):
        raise XlnerError(f"ner candidate labels must be 'any' or 'match', got {labels!r}")
    mapping = dict(label_map or {})
    predicted = load_ner_model(str(model), device, batch_size).predicted_spans([p.tgt_tokens for p in pairs])
    out = []
    for pair, spans in zip(pairs, predicted):
        wanted = {mapping.get(s.label, s.label) for s in pair.src_spans}
        wanted |= {ALIASES.get(label, label) for label in wanted}
        out.append(Candidates.from_ranges((s.start, s.end) for s in spans if labels == "any" or s.label in wanted))
    return out


def merge_candidates(*sets: Sequence[Candidates]) -> list[Candidates]:
    """Per sentence, the deduplicated union of several candidate sets (sorted by start, end)."""
    return [Candidates.from_ranges(r for cands in group for r in cands.spans()) for group in zip(*sets)]


def add_ner_candidates(
    pairs: Sequence,
    candidates: Sequence[Candidates],
    how: str,
    model: str | None,
    labels: str = "any",
    device: str = "cpu",
) -> list[Candidates]:
    """``how="add"``: the NER spans merged with ``candidates``; ``"only"``: the NER spans alone."""
    if how not in ("add", "only"):
        raise XlnerError(f"ner_candidates must be 'add' or 'only', got {how!r}")
    found = ner_candidates(pairs, model, labels, device)
    return found if how == "only" else merge_candidates(candidates, found)
