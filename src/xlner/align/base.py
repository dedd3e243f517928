"""The Aligner protocol: sentence pairs in, one alignment per pair out."""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

from xlner.errors import XlnerError
from xlner.types import Alignment

TokenPair = tuple[Sequence[str], Sequence[str]]


@runtime_checkable
class Aligner(Protocol):
    """Aligns a batch of (source tokens, target tokens) pairs.

    Returns one :data:`~xlner.types.Alignment` per pair: a frozenset of
    ``(i, j)`` links, ``i`` a source word index and ``j`` a target word index.
    """

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]: ...


class TokensError(XlnerError, TypeError):
    """Tokens given as a string (or not as strings) where a list of tokens is expected."""


def check_tokens(tokens: Any, what: str = "tokens") -> None:
    """Raise :class:`TokensError` unless ``tokens`` is a list/sequence of strings (a string is refused)."""
    if isinstance(tokens, str):
        raise TokensError(
            f"{what} is a string ({tokens[:40]!r}): pass a list of tokens, e.g. {what}.split() or a tokenizer's output"
        )
    if not isinstance(tokens, Sequence) or any(not isinstance(token, str) for token in tokens):
        raise TokensError(f"{what} must be a list of token strings, got {type(tokens).__name__}")


def check_pairs(pairs: Any) -> None:
    """Raise :class:`TokensError` unless ``pairs`` is a sequence of (source tokens, target tokens) pairs."""
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TokensError(
            "pairs must be a list of (source tokens, target tokens) pairs, e.g. [(src.split(), tgt.split())]"
        )
    for k, pair in enumerate(pairs):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TokensError(
                f"pair {k} is not a (source tokens, target tokens) pair: for one pair call align([(src_tokens, tgt_tokens)])"
            )
        check_tokens(pair[0], f"pair {k} source tokens")
        check_tokens(pair[1], f"pair {k} target tokens")
