"""Word-level vectors from Hugging Face encoders (BERT, XLM-R, LaBSE, CLIP / OWL-ViT text towers).

:class:`HFEncoder` loads a model by hub name or local path (torch and
transformers are imported only then). Sub-word vectors of the chosen layer are
pooled to words (``mean`` or ``first`` piece). Sentences longer than the
model's context (512 for BERT-like models, 77 for CLIP, 16 for OWL-ViT) are cut
at word boundaries into consecutive windows that each fit; every word is
encoded in one window (so it sees only that window's context), and a single
word with more pieces than a window keeps its first pieces. A word the
tokenizer turns into no pieces at all gets a zero vector.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from xlner.errors import XlnerError
from xlner.registry import registry

MODEL_CLASSES = ("auto", "clip-text", "owlvit-text")
POOLINGS = ("mean", "first")


@runtime_checkable
class Encoder(Protocol):
    """Turns tokenized sentences into one ``(n_words, dim)`` float32 array each."""

    def embed_words(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]: ...


class HFEncoder:
    """A transformers encoder; ``layer`` indexes hidden states (0 = embeddings, -1 = last)."""

    def __init__(
        self,
        name_or_path: str,
        layer: int = 8,
        pooling: str = "mean",
        batch_size: int = 32,
        device: str = "cpu",
        model_class: str = "auto",
        progress: bool = False,
    ):
        if pooling not in POOLINGS:
            raise XlnerError(f"unknown pooling {pooling!r}: expected one of {', '.join(POOLINGS)}")
        if model_class not in MODEL_CLASSES:
            raise XlnerError(f"unknown model_class {model_class!r}: expected one of {', '.join(MODEL_CLASSES)}")
        self.name_or_path = str(name_or_path)
        self.layer = int(layer)
        self.pooling = pooling
        self.batch_size = int(batch_size)
        self.device = device
        self.model_class = model_class
        self.progress = progress
        self._model: Any = None
        self._tokenizer: Any = None

    def config(self) -> dict[str, Any]:
        return {
            "encoder": self.name_or_path,
            "layer": self.layer,
            "pooling": self.pooling,
            "model_class": self.model_class,
        }

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError as error:
            raise XlnerError(f"the neural aligner needs torch and transformers (pip install 'xlner[hf]'): {error}")
        cls: type[Any] = {  # their inferred join, `type`, has no from_pretrained
            "auto": transformers.AutoModel,
            "clip-text": transformers.CLIPTextModel,
            "owlvit-text": transformers.OwlViTTextModel,
        }[self.model_class]
        from xlner.hub import from_pretrained

        try:
            tokenizer = from_pretrained(transformers.AutoTokenizer.from_pretrained, self.name_or_path, use_fast=True)
            model = from_pretrained(cls.from_pretrained, self.name_or_path)
        except XlnerError:
            raise
        except Exception as error:  # OSError, ValueError, HTTP errors...: all mean "cannot load"
            raise XlnerError(
                f"cannot load model {self.name_or_path!r} ({type(error).__name__}: {error}). "
                "Without network access, pass a local folder made with save_pretrained(), or download it "
                "beforehand into the Hugging Face cache (HF_HOME) and set HF_HUB_OFFLINE=1."
            ) from None
        if not getattr(tokenizer, "is_fast", False):
            raise XlnerError(f"model {self.name_or_path!r} has no fast tokenizer (tokenizer.json); xlner needs one")
        n_layers = model.config.num_hidden_layers
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise XlnerError(f"layer {self.layer} out of range: {self.name_or_path!r} has layers 0..{n_layers}")
        model.eval().to(self.device)
        self._model, self._tokenizer = model, tokenizer

    def _window_limit(self) -> int:
        """Pieces (without special tokens) that fit in one window."""
        config = self._model.config
        positions = getattr(config, "max_position_embeddings", 512)
        if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl"):
            positions -= 2  # these models offset positions by padding_idx + 1
        limit = min(positions, getattr(self._tokenizer, "model_max_length", positions) or positions)
        return max(1, limit - self._tokenizer.num_special_tokens_to_add(pair=False))

    def _windows(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Word ranges [a, b) whose pieces fit in one window."""
        self._load()
        if not words:
            return []
        counts = self._tokenizer(
            list(words), is_split_into_words=True, add_special_tokens=False, verbose=False
        ).word_ids()
        pieces = [0] * len(words)
        for w in counts:
            if w is not None:
                pieces[w] += 1
        limit, windows, start, used = self._window_limit(), [], 0, 0
        for w, n in enumerate(pieces):
            if used and used + n > limit:
                windows.append((start, w))
                start, used = w, 0
            used += n
        windows.append((start, len(words)))
        return windows

    def embed_words(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """One float32 ``(len(words), dim)`` array per sentence."""
        import torch
        from tqdm import tqdm

        self._load()
        dim = self._model.config.hidden_size
        out = [np.zeros((len(s), dim), dtype=np.float32) for s in sentences]
        jobs = [(n, a, b) for n, s in enumerate(sentences) for a, b in self._windows(s)]
        limit = self._window_limit() + self._tokenizer.num_special_tokens_to_add(pair=False)
        pad_id = self._tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self._tokenizer.eos_token_id or 0
        batches = range(0, len(jobs), self.batch_size)
        for first in tqdm(batches, desc="encoding", unit="batch", disable=not self.progress, leave=False):
            batch = jobs[first : first + self.batch_size]
            encoded = [
                self._tokenizer(
                    [str(w) for w in sentences[n][a:b]],
                    is_split_into_words=True,
                    truncation=True,
                    max_length=limit,
                )
                for n, a, b in batch
            ]
            width = max(len(e["input_ids"]) for e in encoded)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, e in enumerate(encoded):
                ids[row, : len(e["input_ids"])] = torch.tensor(e["input_ids"])
                mask[row, : len(e["input_ids"])] = 1
            with torch.no_grad():
                result = self._model(
                    input_ids=ids.to(self.device), attention_mask=mask.to(self.device), output_hidden_states=True
                )
            hidden = result.hidden_states[self.layer].float().cpu().numpy()
            for row, ((n, a, b), e) in enumerate(zip(batch, encoded)):
                self._pool(hidden[row], e.word_ids(), out[n], a)
        return out

    def _pool(self, hidden: np.ndarray, word_ids: list[int | None], target: np.ndarray, offset: int) -> None:
        positions: dict[int, list[int]] = {}
        for p, w in enumerate(word_ids):
            if w is not None:
                positions.setdefault(w, []).append(p)
        for w, ps in positions.items():
            target[offset + w] = hidden[ps[0]] if self.pooling == "first" else hidden[ps].mean(axis=0)


def _factory(model_class: str):
    def make(name_or_path: str, **options: Any) -> HFEncoder:
        options.setdefault("model_class", model_class)
        return HFEncoder(name_or_path, **options)

    return make


registry.encoders.register("hf")(_factory("auto"))
registry.encoders.register("clip-text")(_factory("clip-text"))
registry.encoders.register("owlvit-text")(_factory("owlvit-text"))
