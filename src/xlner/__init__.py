"""xlner: projection-based cross-lingual named entity recognition."""

from xlner.api import align_pair, project_pair
from xlner.types import Alignment, Sentence, SentencePair, Span

__all__ = ["Alignment", "Span", "Sentence", "SentencePair", "align_pair", "project_pair"]


def _version() -> str:
    """The installed package's version (pyproject.toml holds it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xlner")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
