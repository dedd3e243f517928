"""CTranslate2 translation: NLLB-200 / M2M-100 / Marian models converted for fast CPU/GPU decoding.

Convert once (:func:`convert_model`, or ``ct2-transformers-converter``) into a
folder that also holds the Hugging Face tokenizer; then ``model=<folder>``.
The tokenizer class tells the family, so language codes map as for ``hf``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.translate.base import length_sorted_batches, model_load_error
from xlner.translate.languages import model_code


def _import_ctranslate2():
    try:
        import ctranslate2
    except ImportError as error:
        raise XlnerError("the ctranslate2 translator needs the ctranslate2 package: pip install ctranslate2") from error
    return ctranslate2


def convert_model(hf_model: str | Path, output_dir: str | Path, quantization: str | None = None) -> Path:
    """Convert a Hugging Face seq2seq model (hub name or folder) to CTranslate2, tokenizer included."""
    ctranslate2 = _import_ctranslate2()
    from transformers import AutoTokenizer

    output_dir = Path(output_dir)
    try:
        ctranslate2.converters.TransformersConverter(str(hf_model)).convert(
            str(output_dir), quantization=quantization, force=True
        )
        AutoTokenizer.from_pretrained(str(hf_model)).save_pretrained(output_dir)
    except Exception as error:
        raise model_load_error(str(hf_model), error) from None
    return output_dir


def tokenizer_family(tokenizer: Any) -> str:
    """``nllb``, ``m2m`` or ``marian`` from the tokenizer's class."""
    name = type(tokenizer).__name__.lower()
    for family in ("nllb", "m2m", "marian"):
        if family in name:
            return family
    raise XlnerError(
        f"cannot tell the model family from tokenizer {type(tokenizer).__name__}: expected NLLB, M2M100 or Marian"
    )


class CTranslate2Translator:
    """Translate with a converted CTranslate2 model (options as for ``hf``, plus ``compute_type``)."""

    def __init__(
        self,
        model: str | Path,
        tokenizer: str | Path | None = None,
        device: str = "cpu",
        compute_type: str = "default",
        beam_size: int = 4,
        max_length: int = 256,
        batch_size: int = 16,
    ):
        ctranslate2 = _import_ctranslate2()
        from transformers import AutoTokenizer

        self.model_name = str(model)
        self.beam_size = beam_size
        self.max_length = max_length
        self.batch_size = batch_size
        try:
            self.translator = ctranslate2.Translator(self.model_name, device=device, compute_type=compute_type)
            from xlner.hub import from_pretrained

            self.tokenizer = from_pretrained(AutoTokenizer.from_pretrained, str(tokenizer or model))
        except XlnerError:
            raise
        except Exception as error:
            raise model_load_error(self.model_name, error) from None
        self.family = tokenizer_family(self.tokenizer)

    def translate(self, sentences: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate ``sentences`` from ``src_lang`` to ``tgt_lang``; output in input order."""
        tok = self.tokenizer
        prefix: list[str] | None = None
        if self.family in ("nllb", "m2m"):
            tok.src_lang = model_code(src_lang, self.family)
            code = model_code(tgt_lang, self.family)
            prefix = [code if self.family == "nllb" else f"__{code}__"]
            if tok.convert_tokens_to_ids(prefix[0]) in (None, tok.unk_token_id):
                raise XlnerError(f"the tokenizer of {self.model_name!r} has no language token {prefix[0]!r}")
        out = [""] * len(sentences)
        for indices, batch in length_sorted_batches(list(sentences), self.batch_size):
            source = [
                tok.convert_ids_to_tokens(tok(text, truncation=True, max_length=self.max_length).input_ids)
                for text in batch
            ]
            results = self.translator.translate_batch(
                source,
                target_prefix=None if prefix is None else [prefix] * len(source),
                beam_size=self.beam_size,
                max_decoding_length=self.max_length,
            )
            for index, result in zip(indices, results):
                tokens = result.hypotheses[0][len(prefix or []) :]
                # transformers annotates decode() as str | list[str]; one id sequence decodes to one str
                out[index] = tok.decode(tok.convert_tokens_to_ids(tokens), skip_special_tokens=True).strip()  # type: ignore[union-attr]
        return out


@registry.translators.register("ctranslate2")
def make_ctranslate2_translator(**options: Any) -> CTranslate2Translator:
    """``ctranslate2``: a converted model folder (options: model, tokenizer, device, compute_type, beam_size, ...)."""
    if "model" not in options:
        raise XlnerError("the ctranslate2 translator needs model=<converted model folder>")
    return CTranslate2Translator(**options)
