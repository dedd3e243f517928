"""Hugging Face seq2seq translation: NLLB-200, M2M-100 and Marian (OPUS-MT).

The model family comes from the config's ``model_type`` (``m2m_100`` with an
NLLB tokenizer is NLLB-200; ``nllb-moe`` is NLLB; ``marian`` is OPUS-MT).
NLLB and M2M are many-to-many: the source language is set on the tokenizer
and the target language is forced as the first generated token
(``forced_bos_token_id``). Marian models serve one pair each; give
``model="opus-mt"`` to pick ``Helsinki-NLP/opus-mt-<src>-<tgt>`` per call.
"""

from __future__ import annotations

from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.translate.base import length_sorted_batches, model_load_error
from xlner.translate.languages import marian_model, model_code

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"


def load_seq2seq(model: str, device: str = "cpu", fp16: bool | None = None) -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` from a hub name or a local folder, in eval mode on ``device``."""
    try:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as error:  # pragma: no cover - depends on the install
        raise XlnerError("the hf translator needs the hf extra: pip install 'xlner[hf]'") from error
    from xlner.hub import from_pretrained

    try:
        tokenizer = from_pretrained(AutoTokenizer.from_pretrained, model)
        net = from_pretrained(AutoModelForSeq2SeqLM.from_pretrained, model)
    except XlnerError:
        raise
    except Exception as error:  # OSError, ValueError, HTTP errors: all mean "cannot get this model"
        raise model_load_error(model, error) from None
    net.eval().to(device)
    if device.startswith("cuda") and fp16 is not False:
        net.half()
    return tokenizer, net


def detect_family(net: Any, tokenizer: Any) -> str:
    """``nllb``, ``m2m`` or ``marian`` from the model config (and the tokenizer for NLLB-on-M2M)."""
    model_type = getattr(net.config, "model_type", "")
    if model_type == "marian":
        return "marian"
    if model_type == "nllb-moe" or (model_type == "m2m_100" and "nllb" in type(tokenizer).__name__.lower()):
        return "nllb"
    if model_type == "m2m_100":
        return "m2m"
    raise XlnerError(f"unsupported translation model type {model_type!r}: expected NLLB-200, M2M-100 or Marian")


def _resolve_device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class HFTranslator:
    """Translate with a Hugging Face seq2seq model (see the module docstring)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cpu",
        beam_size: int = 4,
        max_length: int = 256,
        batch_size: int = 16,
        fp16: bool | None = None,
    ):
        self.model_name = model
        self.device = _resolve_device(device)
        self.beam_size = beam_size
        self.max_length = max_length
        self.batch_size = batch_size
        self.fp16 = fp16
        self._loaded: dict[str, tuple[Any, Any, str]] = {}
        if model != "opus-mt":
            self._load(model)

    def _load(self, name: str) -> tuple[Any, Any, str]:
        if name not in self._loaded:
            tokenizer, net = load_seq2seq(name, self.device, self.fp16)
            self._loaded[name] = (tokenizer, net, detect_family(net, tokenizer))
        return self._loaded[name]

    @property
    def tokenizer(self) -> Any:
        return self._load(self.model_name)[0]

    @property
    def model(self) -> Any:
        return self._load(self.model_name)[1]

    @property
    def family(self) -> str:
        return "marian" if self.model_name == "opus-mt" else self._load(self.model_name)[2]

    def translate(self, sentences: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate ``sentences`` from ``src_lang`` to ``tgt_lang``; output in input order."""
        name = marian_model(src_lang, tgt_lang) if self.model_name == "opus-mt" else self.model_name
        tokenizer, net, family = self._load(name)
        generate_options: dict[str, Any] = {"num_beams": self.beam_size, "max_new_tokens": self.max_length}
        if family in ("nllb", "m2m"):
            tokenizer.src_lang = model_code(src_lang, family)
            generate_options["forced_bos_token_id"] = self._language_token_id(tokenizer, family, tgt_lang, name)
        else:
            model_code(src_lang, family), model_code(tgt_lang, family)  # validate the codes
        return self._generate(tokenizer, net, list(sentences), generate_options)

    def _language_token_id(self, tokenizer: Any, family: str, lang: str, name: str) -> int:
        code = model_code(lang, family)
        token = code if family == "nllb" else f"__{code}__"
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is None or token_id == tokenizer.unk_token_id:
            raise XlnerError(f"the tokenizer of {name!r} has no language token {token!r} for {lang!r}")
        return int(token_id)

    def _generate(self, tokenizer: Any, net: Any, sentences: list[str], options: dict[str, Any]) -> list[str]:
        import torch
        from tqdm.auto import tqdm

        out: list[str] = [""] * len(sentences)
        batches = list(length_sorted_batches(sentences, self.batch_size))
        for indices, batch in tqdm(batches, desc="translate", unit="batch", disable=len(batches) < 2, leave=False):
            encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length)
            encoded = {key: value.to(net.device) for key, value in encoded.items()}
            with torch.inference_mode():
                generated = net.generate(**encoded, **options)
            forced = options.get("forced_bos_token_id")
            rows = [[t for t in row if t != forced] for row in generated.tolist()]  # M2M keeps __xx__ otherwise
            for index, text in zip(indices, tokenizer.batch_decode(rows, skip_special_tokens=True)):
                out[index] = text.strip()
        return out


@registry.translators.register("hf")
def make_hf_translator(**options: Any) -> HFTranslator:
    """``hf``: NLLB-200 / M2M-100 / Marian via transformers (options: model, device, beam_size, max_length, batch_size, fp16)."""
    return HFTranslator(**options)
