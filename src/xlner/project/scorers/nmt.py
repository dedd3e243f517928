"""Translation score: how likely a seq2seq MT model translates the entity into the candidate (and back).

For entity text ``e`` (source language) and candidate text ``c`` (target
language) the forward score is ``exp(mean log P(token | e, previous tokens))``
over the tokens of ``c`` (its end-of-sentence token included, the forced
language token of NLLB / M2M-100 left out), by forced decoding, so it lies in
(0, 1] and does not favour short candidates; the backward score swaps the
roles. ``direction="both"`` (default) averages the two.

All (entity, candidate) texts of a batch are scored together: the encoder runs
once per distinct input text, the decoder on padded batches of
``batch_size`` pairs sorted by length. Results are kept in a dict keyed by
(input text, output text, direction) on the scorer's model, so repeated pairs
(and repeated runs in one process) cost nothing. Models load through
:func:`xlner.translate.hf.load_seq2seq` and language codes through
:mod:`xlner.translate.languages` (NLLB-200, M2M-100, Marian).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from xlner.errors import XlnerError
from xlner.project.scores import FlatScorer, PairIndex
from xlner.registry import registry

DIRECTIONS = ("both", "forward", "backward")


class ForcedDecoder:
    """Mean token log-probabilities of given outputs under a seq2seq model, batched and cached."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 64, max_length: int = 128):
        from xlner.translate.hf import detect_family, load_seq2seq

        self.model_name = model
        self.tokenizer, self.net = load_seq2seq(model, resolve_device(device), fp16=False)
        self.family = detect_family(self.net, self.tokenizer)
        positions = getattr(self.net.config, "max_position_embeddings", max_length)
        self.batch_size, self.max_length = int(batch_size), min(int(max_length), int(positions) - 2)
        self.cache: dict[tuple[str, str, str, str], float] = {}

    def _set_languages(self, src_lang: str | None, tgt_lang: str | None) -> None:
        from xlner.translate.languages import model_code

        if self.family == "marian":
            return
        if not src_lang or not tgt_lang:
            raise XlnerError(
                f"the nmt score with {self.model_name!r} needs the languages: options src_lang= and tgt_lang="
            )
        self.tokenizer.src_lang = model_code(src_lang, self.family)
        self.tokenizer.tgt_lang = model_code(tgt_lang, self.family)

    def mean_logprobs(self, items: Sequence[tuple[str, str]], src_lang: str | None, tgt_lang: str | None) -> np.ndarray:
        """Mean log P(output | input) per ``(input, output)`` item, in order."""
        key = f"{src_lang}>{tgt_lang}"
        todo = sorted({item for item in items if (item[0], item[1], key, self.model_name) not in self.cache})
        if todo:
            self._set_languages(src_lang, tgt_lang)
            for item, value in zip(todo, self._score(todo)):
                self.cache[(item[0], item[1], key, self.model_name)] = value
        return np.array([self.cache[(a, b, key, self.model_name)] for a, b in items], dtype=np.float64)

    def _score(self, items: list[tuple[str, str]]) -> list[float]:
        import torch
        from tqdm.auto import tqdm
        from transformers.modeling_outputs import BaseModelOutput

        tok, net = self.tokenizer, self.net
        device = net.device
        sources = sorted({a for a, _ in items})
        src_index = {text: k for k, text in enumerate(sources)}
        encoded_src = [tok(text, truncation=True, max_length=self.max_length)["input_ids"] for text in sources]
        labels = [tok(text_target=b, truncation=True, max_length=self.max_length)["input_ids"] for _, b in items]
        skip = 1 if self.family in ("nllb", "m2m") else 0  # the forced target-language token
        pad = tok.pad_token_id
        start = net.config.decoder_start_token_id
        # Encoder: once per distinct input text, in length-sorted padded batches.
        states: list[Any] = [None] * len(sources)
        order = sorted(range(len(sources)), key=lambda k: -len(encoded_src[k]))
        encoder = net.get_encoder()
        with torch.inference_mode():
            for first in range(0, len(order), self.batch_size):
                rows = order[first : first + self.batch_size]
                ids, mask = _pad([encoded_src[k] for k in rows], pad)
                hidden = encoder(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
                for r, k in enumerate(rows):
                    states[k] = hidden[r, : len(encoded_src[k])]
            out = [0.0] * len(items)
            pair_order = sorted(
                range(len(items)), key=lambda k: -(len(labels[k]) + len(encoded_src[src_index[items[k][0]]]))
            )
            chunks = range(0, len(pair_order), self.batch_size)
            for first in tqdm(chunks, desc="nmt score", unit="batch", disable=len(chunks) < 4, leave=False):
                rows = pair_order[first : first + self.batch_size]
                enc = [states[src_index[items[k][0]]] for k in rows]
                width = max(len(h) for h in enc)
                hidden = torch.zeros((len(rows), width, enc[0].shape[-1]), dtype=enc[0].dtype, device=device)
                enc_mask = torch.zeros((len(rows), width), dtype=torch.long, device=device)
                for r, h in enumerate(enc):
                    hidden[r, : len(h)] = h
                    enc_mask[r, : len(h)] = 1
                target, target_mask = _pad([labels[k] for k in rows], pad)
                decoder_input = torch.cat([torch.full((len(rows), 1), start, dtype=torch.long), target[:, :-1]], dim=1)
                logits = net(
                    encoder_outputs=BaseModelOutput(last_hidden_state=hidden),
                    attention_mask=enc_mask,
                    decoder_input_ids=decoder_input.to(device),
                    decoder_attention_mask=target_mask.to(device),
                ).logits.float()
                logp = logits.log_softmax(-1).gather(-1, target.clamp(min=0).to(device)[..., None])[..., 0].cpu()
                counted = target_mask.clone()
                counted[:, :skip] = 0
                totals = (logp * counted).sum(1) / counted.sum(1).clamp(min=1)
                for r, k in enumerate(rows):
                    out[k] = float(totals[r])
        return out


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; other values unchanged."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _pad(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    """Right-padded ids (padding value ``pad``) and their attention mask."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, r in enumerate(rows):
        ids[k, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[k, : len(r)] = 1
    return ids, mask


def load_forced_decoder(model: str, device: str = "cpu", batch_size: int = 64, max_length: int = 128) -> ForcedDecoder:
    """A :class:`ForcedDecoder`, loaded once per process for these arguments (``.cache_clear()`` forgets)."""
    return _load_forced_decoder(str(model), device, int(batch_size), int(max_length))


@lru_cache(maxsize=4)
def _load_forced_decoder(model: str, device: str, batch_size: int, max_length: int) -> ForcedDecoder:
    return ForcedDecoder(model, device, batch_size, max_length)


load_forced_decoder.cache_clear = _load_forced_decoder.cache_clear  # type: ignore[attr-defined]


def span_text(tokens: Sequence[str], start: int, end: int) -> str:
    """The words ``[start, end)`` joined by spaces."""
    return " ".join(str(t) for t in tokens[start:end])


class NmtScorer(FlatScorer):
    """The ``nmt`` score (module docstring)."""

    def __init__(
        self,
        model: str | None = None,
        src_lang: str | None = None,
        tgt_lang: str | None = None,
        direction: str = "both",
        device: str = "cpu",
        batch_size: int = 64,
        max_length: int = 128,
    ):
        if not model:
            raise XlnerError("the nmt score needs a translation model: option nmt_model=<hub name or folder>")
        if direction not in DIRECTIONS:
            raise XlnerError(f"nmt direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        self.decoder = load_forced_decoder(str(model), device, batch_size, max_length)
        self.src_lang, self.tgt_lang, self.direction = src_lang, tgt_lang, direction

    def score_flat(self, index: PairIndex) -> np.ndarray:
        if len(index.pair_ent) == 0:
            return np.zeros(0)
        pairs = index.pairs
        ent_text = [span_text(p.src_tokens, s.start, s.end) for p in pairs for s in p.src_spans]
        sent = index.ent_sent[index.pair_ent]
        cand_text = [
            span_text(pairs[k].tgt_tokens, a, b)
            for k, a, b in zip(sent.tolist(), index.pair_start.tolist(), index.pair_end.tolist())
        ]
        items = [(ent_text[e], c) for e, c in zip(index.pair_ent.tolist(), cand_text)]
        scores = []
        if self.direction in ("both", "forward"):
            scores.append(np.exp(self.decoder.mean_logprobs(items, self.src_lang, self.tgt_lang)))
        if self.direction in ("both", "backward"):
            back = [(c, e) for e, c in items]
            scores.append(np.exp(self.decoder.mean_logprobs(back, self.tgt_lang, self.src_lang)))
        return np.clip(np.mean(scores, axis=0), 0.0, 1.0)


@registry.scorers.register("nmt")
def make_nmt_scorer(**options: Any) -> NmtScorer:
    """``nmt``: forced-decoding translation likelihood (options: model, src_lang, tgt_lang, direction, device, batch_size)."""
    return NmtScorer(**options)
