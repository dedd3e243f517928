"""xlner: projection-based cross-lingual named entity recognition."""

from xlner.types import Alignment, Span, Sentence, SentencePair

__all__ = ["Alignment", "Span", "Sentence", "SentencePair"]
__version__ = "0.1.0"
