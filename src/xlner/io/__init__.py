"""Readers and writers: CoNLL, tokenized text, JSONL, Pharaoh alignments.

Every writer replaces its file atomically (:func:`atomic_write`); every reader
raises :class:`~xlner.errors.InputError` naming ``FILE:LINE`` on bad input.
"""

from xlner.io.atomic import atomic_write
from xlner.io.conll import ConllData, read_conll, read_conll_tokens, write_conll
from xlner.io.jsonl import read_jsonl, write_jsonl
from xlner.io.mmner import read_mmner
from xlner.io.pharaoh import read_pharaoh, read_pharaoh_with_ids, validate as validate_alignments, write_pharaoh
from xlner.io.text import detect_format, read_lines, read_sentences, read_tokenized, write_tokenized

__all__ = [
    "ConllData",
    "atomic_write",
    "detect_format",
    "read_conll",
    "read_conll_tokens",
    "read_jsonl",
    "read_lines",
    "read_mmner",
    "read_pharaoh",
    "read_pharaoh_with_ids",
    "read_sentences",
    "read_tokenized",
    "validate_alignments",
    "write_conll",
    "write_jsonl",
    "write_pharaoh",
    "write_tokenized",
]
