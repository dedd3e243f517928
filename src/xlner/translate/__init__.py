"""Machine translation backends (registry.translators): ``hf``, ``ctranslate2``, ``file``.

Each backend module imports torch / transformers / ctranslate2 only when a
translator is created, so importing this package stays cheap.
"""

from xlner.translate import ctranslate2, file, hf  # noqa: F401  (register the backends)
from xlner.translate.base import Translator

__all__ = ["Translator"]
