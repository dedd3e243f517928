"""A small Unicode-aware tokenizer for raw parallel text (any script).

Words are runs of letters, digits, ``_`` and combining marks (so Devanagari,
Arabic or Ethiopic words with vowel signs stay whole); numbers keep inner
``.``/``,`` (``3.5``, ``1,000``); every other non-space character is its own
token, so punctuation is always split off.
"""

from __future__ import annotations

import re
import unicodedata

_PIECE = re.compile(r"\d+(?:[.,]\d+)+|\w+|\S", re.UNICODE)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into word and punctuation tokens.

    >>> tokenize("Mr. Smith's car, 3.5 km — हिन्दी!")
    ['Mr', '.', 'Smith', "'", 's', 'car', ',', '3.5', 'km', '—', 'हिन्दी', '!']
    """
    tokens: list[str] = []
    last_end = -1
    for match in _PIECE.finditer(text):
        piece = match.group()
        glued = match.start() == last_end and tokens
        # A combining mark continues the previous word; a word continues a mark.
        if glued and (_is_mark(piece[0]) or (_is_mark(tokens[-1][-1]) and not _is_punct(piece))):
            tokens[-1] += piece
        else:
            tokens.append(piece)
        last_end = match.end()
    return tokens


def _is_punct(piece: str) -> bool:
    return len(piece) == 1 and not (piece.isalnum() or piece == "_" or _is_mark(piece))
