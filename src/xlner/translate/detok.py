"""Detokenize before translation, tokenize after, and keep the word <-> character mapping.

MT models read running text, while NER data and aligners work on words. Three
tokenizers are available by name: ``moses`` (sacremoses, language aware),
``regex`` (words, numbers and single punctuation marks) and ``whitespace``
(for translations that are already tokenized). Offsets are half-open
character ranges ``(start, end)`` into the text.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

from xlner.errors import XlnerError

TOKENIZERS = ("moses", "regex", "whitespace")
_REGEX = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_WHITESPACE = re.compile(r"\S+")


def _moses_lang(lang: str) -> str:
    from xlner.translate.languages import language

    try:
        return language(lang).iso1 or "en"
    except XlnerError:
        return "en"


@functools.lru_cache(maxsize=16)
def _moses(lang: str):
    from sacremoses import MosesDetokenizer, MosesTokenizer

    return MosesTokenizer(lang=lang), MosesDetokenizer(lang=lang)


def _check(method: str) -> None:
    if method not in TOKENIZERS:
        raise XlnerError(f"unknown tokenizer {method!r}: expected one of {', '.join(TOKENIZERS)}")


def locate(tokens: Sequence[str], text: str) -> list[tuple[int, int] | None]:
    """Character offsets of each token, found left to right in ``text`` (``None`` if a token was rewritten)."""
    offsets: list[tuple[int, int] | None] = []
    cursor = 0
    for token in tokens:
        found = text.find(token, cursor)
        if found < 0:
            offsets.append(None)
            continue
        offsets.append((found, found + len(token)))
        cursor = found + len(token)
    return offsets


def tokenize(text: str, lang: str = "eng", method: str = "moses") -> list[str]:
    """Split ``text`` into words with the named tokenizer."""
    _check(method)
    if method == "moses":
        return _moses(_moses_lang(lang))[0].tokenize(text, escape=False, aggressive_dash_splits=False)
    pattern = _REGEX if method == "regex" else _WHITESPACE
    return pattern.findall(text)


def tokenize_with_offsets(text: str, lang: str = "eng", method: str = "moses") -> list[tuple[str, int, int]]:
    """Words with their character offsets; words Moses rewrote (rare) get the offsets of their neighbours' gap."""
    _check(method)
    if method != "moses":
        pattern = _REGEX if method == "regex" else _WHITESPACE
        return [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]
    tokens = tokenize(text, lang, method)
    out: list[tuple[str, int, int]] = []
    previous_end = 0
    for token, offset in zip(tokens, locate(tokens, text)):
        start, end = offset if offset is not None else (previous_end, previous_end)
        out.append((token, start, end))
        previous_end = end
    return out


def detokenize(tokens: Sequence[str], lang: str = "eng", method: str = "moses") -> str:
    """Join words into running text (Moses rules for ``moses``, single spaces otherwise)."""
    _check(method)
    if method == "moses":
        return _moses(_moses_lang(lang))[1].detokenize(list(tokens))
    return " ".join(tokens)


def detokenize_with_offsets(
    tokens: Sequence[str], lang: str = "eng", method: str = "moses"
) -> tuple[str, list[tuple[int, int] | None]]:
    """The detokenized text and, per input word, its character range in that text."""
    text = detokenize(tokens, lang, method)
    return text, locate(tokens, text)
