"""Source-language NER taggers (registry.taggers): ``hf``, ``spacy``, ``gold``.

Heavy libraries (torch, transformers, spaCy) load only when a tagger is created.
"""

from xlner.tag import gold, hf, spacy  # noqa: F401  (register the taggers)
from xlner.tag.base import Tagger

__all__ = ["Tagger"]
