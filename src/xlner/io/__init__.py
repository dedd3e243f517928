"""Readers and writers: CoNLL, tokenized text, JSONL, Pharaoh alignments.

Every writer goes through :func:`atomic_write` (files replaced atomically,
links followed, devices/FIFOs/``-`` streamed, directories refused;
:func:`check_outputs` checks a command's outputs against its inputs first);
every reader raises :class:`~xlner.errors.InputError` naming ``FILE:LINE`` on
bad input.
"""

from xlner.io.atomic import atomic_write, check_outputs
from xlner.io.conll import ConllData, read_conll, read_conll_tokens, write_conll
from xlner.io.jsonl import load_label_names, read_jsonl, read_jsonl_corpus, write_jsonl
from xlner.io.mmner import read_mmner
from xlner.io.pharaoh import read_pharaoh, read_pharaoh_with_ids, validate as validate_alignments, write_pharaoh
from xlner.io.text import Corpus, detect_format, read_corpus, read_lines, read_sentences, read_tokenized, write_tokenized

__all__ = [
    "ConllData",
    "Corpus",
    "atomic_write",
    "check_outputs",
    "detect_format",
    "load_label_names",
    "read_conll",
    "read_conll_tokens",
    "read_corpus",
    "read_jsonl",
    "read_jsonl_corpus",
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
