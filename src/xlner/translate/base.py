"""The Translator protocol and helpers shared by the MT backends."""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence, TypeVar, runtime_checkable

from xlner.errors import XlnerError

T = TypeVar("T")


@runtime_checkable
class Translator(Protocol):
    """Translates a batch of detokenized sentences; returns one string per input, in input order.

    Language codes are ISO 639-3 or 639-1 (``hau``/``ha``); backends map them
    to their model's codes (see :mod:`xlner.translate.languages`).
    """

    def translate(self, sentences: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]: ...


def length_sorted_batches(items: Sequence[T], batch_size: int, key=len) -> Iterator[tuple[list[int], list[T]]]:
    """Yield ``(indices, batch)`` with items sorted by length (longest first) so batches pad little."""
    if batch_size < 1:
        raise XlnerError(f"batch size must be >= 1, got {batch_size}")
    order = sorted(range(len(items)), key=lambda i: -key(items[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        yield indices, [items[i] for i in indices]


def model_load_error(model: str, error: Exception) -> XlnerError:
    """One clear error for a model that cannot be loaded (no network, wrong name, bad folder)."""
    return XlnerError(
        f"cannot load model {model!r}: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}\n"
        "  Give a local folder (the output of save_pretrained / a downloaded snapshot) as the model, or put the "
        "model in the Hugging Face cache ($HF_HOME) on a machine with internet and set HF_HUB_OFFLINE=1 here."
    )
