"""Hugging Face token-classification taggers (e.g. XLM-R large fine-tuned on CoNLL-2003).

Models label sub-tokens; xlner needs one label per word. ``aggregation``
chooses how a word's sub-tokens vote:

* ``first`` (default): the label of the word's first sub-token, which is how
  CoNLL-style token classifiers are trained (the other sub-tokens get -100);
* ``average``: the label with the highest probability averaged over the sub-tokens;
* ``max``: the label of the single most confident sub-token.

Labels come from the config's ``id2label`` (labels without a ``B-``/``I-``
prefix are read as IO tags); tag sequences are decoded to spans with the
``repair`` policy of :func:`xlner.tags.tags_to_spans` (a stray ``I-X`` starts
an entity). Words beyond the model's
maximum length get ``O`` (with a warning).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.tags import LabelMap, as_label_map, detect_scheme, tags_to_spans
from xlner.translate.base import length_sorted_batches, model_load_error
from xlner.types import Span

AGGREGATIONS = ("first", "average", "max")
log = logging.getLogger(__name__)


def _prefixed(label: str) -> str:
    """``PER`` (IO scheme) -> ``I-PER``; ``B-PER`` and ``O`` unchanged."""
    if label == "O" or (len(label) > 2 and label[1] == "-"):
        return label
    return "I-" + label


class HFTagger:
    """Word-level NER with a Hugging Face token classifier (see the module docstring)."""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        aggregation: str = "first",
        batch_size: int = 16,
        max_length: int = 512,
        label_map: LabelMap | dict[str, str] | None = None,
    ):
        if aggregation not in AGGREGATIONS:
            raise XlnerError(f"unknown aggregation {aggregation!r}: expected one of {', '.join(AGGREGATIONS)}")
        try:
            from transformers import AutoModelForTokenClassification, AutoTokenizer
        except ImportError as error:  # pragma: no cover
            raise XlnerError("the hf tagger needs the hf extra: pip install 'xlner[hf]'") from error
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model_name = model
        from xlner.hub import from_pretrained

        try:
            self.tokenizer = from_pretrained(AutoTokenizer.from_pretrained, model)
            self.model = from_pretrained(AutoModelForTokenClassification.from_pretrained, model)
        except XlnerError:
            raise
        except Exception as error:
            raise model_load_error(model, error) from None
        if not getattr(self.tokenizer, "is_fast", False):
            raise XlnerError(f"the tokenizer of {model!r} cannot map sub-tokens to words (needs a fast tokenizer)")
        self.model.eval().to(device)
        self.id2label = {int(k): _prefixed(v) for k, v in self.model.config.id2label.items()}
        self.scheme = detect_scheme([list(self.id2label.values())])
        self.aggregation = aggregation
        self.batch_size = batch_size
        self.max_length = min(max_length, model_positions(self.model.config, max_length))
        self.label_map = as_label_map(label_map)

    def piece_probs(self, batch: Sequence[Sequence[str]]) -> tuple[Any, list[list[int | None]]]:
        """Label probabilities of each sub-word piece of a batch of word lists (a CPU tensor: sentence x piece x
        label, padded) and the word each piece belongs to (None: special or padding)."""
        import torch

        encoded = self.tokenizer(
            [list(words) for words in batch],
            is_split_into_words=True,
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        word_ids = [encoded.word_ids(b) for b in range(len(batch))]
        inputs = {k: v.to(self.model.device) for k, v in encoded.items()}
        with torch.inference_mode():
            probs = self.model(**inputs).logits.float().softmax(-1).cpu()
        return probs, word_ids

    def word_labels(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """One tag per word (``B-PER``, ``O``, ...), in input order."""
        out: list[list[str]] = [[] for _ in sentences]
        todo = [i for i, words in enumerate(sentences) if len(words)]
        for _, ids in length_sorted_batches(todo, self.batch_size, key=lambda i: len(sentences[i])):
            batch = [list(sentences[i]) for i in ids]
            probs, word_ids = self.piece_probs(batch)
            for b, i in enumerate(ids):
                out[i] = self._aggregate(probs[b], word_ids[b], len(batch[b]))
        return out

    def _aggregate(self, probs: Any, word_ids: list[int | None], n_words: int) -> list[str]:
        positions: dict[int, list[int]] = {}
        for position, word in enumerate(word_ids):
            if word is not None:
                positions.setdefault(word, []).append(position)
        if len(positions) < n_words:
            log.warning(
                "sentence of %d words truncated to %d by max_length=%d; the rest is tagged O",
                n_words,
                len(positions),
                self.max_length,
            )
        tags = []
        for word in range(n_words):
            rows = positions.get(word)
            if not rows:
                tags.append("O")
                continue
            if self.aggregation == "first":
                label_id = int(probs[rows[0]].argmax())
            elif self.aggregation == "average":
                label_id = int(probs[rows].mean(0).argmax())
            else:
                best = probs[rows].max(-1)
                label_id = int(best.indices[int(best.values.argmax())])
            tags.append(self.id2label[label_id])
        return tags

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Entity spans per sentence (word indices)."""
        return [
            self.label_map.apply(tags_to_spans(tags, self.scheme, "repair")[0]) for tags in self.word_labels(sentences)
        ]


@registry.taggers.register("hf")
def make_hf_tagger(**options: Any) -> HFTagger:
    """``hf``: a token-classification model (options: model, device, aggregation, batch_size, max_length, label_map)."""
    if "model" not in options:
        raise XlnerError("the hf tagger needs model=<hub name or folder>, e.g. a CoNLL-2003 fine-tuned XLM-R")
    return HFTagger(**options)


def model_positions(config, default: int) -> int:
    """How many sub-tokens the model can read (RoBERTa-style models lose 2 positions to their padding offset)."""
    positions = getattr(config, "max_position_embeddings", None) or default
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl"):
        positions -= 2
    return positions
