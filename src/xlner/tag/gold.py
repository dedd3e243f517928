"""The ``gold`` tagger: labels read from a CoNLL or JSONL file (for intrinsic evaluation).

Sentences are looked up by their tokens, so the tagger works on any batch
and any order; a sentence that is not in the file is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.types import Span


class GoldTagger:
    """Return the spans a labelled file gives each sentence."""

    def __init__(
        self, path: str | Path, format: str = "auto", policy: str = "repair", label_map: Mapping[str, str] | None = None
    ):
        from xlner.io import read_sentences

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("gold labels file not found", self.path)
        self._spans: dict[tuple[str, ...], list[Span]] = {}
        for sentence in read_sentences(self.path, format, policy=policy, label_map=label_map):
            self._spans.setdefault(tuple(sentence.tokens), list(sentence.spans))

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """The file's spans for each sentence (matched by identical tokens)."""
        out = []
        for tokens in sentences:
            spans = self._spans.get(tuple(tokens))
            if spans is None:
                preview = " ".join(tokens[:12]) + (" ..." if len(tokens) > 12 else "")
                raise InputError(f"sentence not in the gold file (tokens must match exactly): {preview!r}", self.path)
            out.append(list(spans))
        return out


@registry.taggers.register("gold")
def make_gold_tagger(path: str | Path | None = None, **options: Any) -> GoldTagger:
    """``gold``: labels from a CoNLL/JSONL file (options: path, format, policy, label_map)."""
    if path is None:
        raise XlnerError("the gold tagger needs path=<CoNLL or JSONL file with the source-side labels>")
    return GoldTagger(path, **options)
