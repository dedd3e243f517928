"""Readers and writers: CoNLL, tokenized text, JSONL, spaCy DocBin, Pharaoh alignments, ``|||`` pairs.

Every writer goes through :func:`atomic_write` (files replaced atomically,
links followed, devices/FIFOs/``-`` streamed, directories refused;
:func:`check_outputs` checks a command's outputs against its inputs first);
every reader raises :class:`~xlner.errors.InputError` naming ``FILE:LINE`` on
bad input.
"""

from xlner.io.atomic import atomic_write, check_outputs
from xlner.io.conll import ConllData, read_conll, read_conll_tokens, write_conll
from xlner.io.formats import OUTPUT_SUFFIXES, output_format, to_hf_dataset, write_docbin, write_sentences
from xlner.io.jsonl import load_label_names, read_jsonl, read_jsonl_corpus, write_jsonl
from xlner.io.mmner import read_mmner
from xlner.io.pairs import read_pairs
from xlner.io.pharaoh import read_pharaoh, read_pharaoh_with_ids, write_pharaoh
from xlner.io.pharaoh import validate as validate_alignments
from xlner.io.text import (
    Corpus,
    detect_format,
    read_corpus,
    read_lines,
    read_sentences,
    read_tokenized,
    write_tokenized,
)

__all__ = [
    "ConllData",
    "OUTPUT_SUFFIXES",
    "Corpus",
    "atomic_write",
    "check_outputs",
    "detect_format",
    "load_label_names",
    "output_format",
    "read_conll",
    "read_conll_tokens",
    "read_corpus",
    "read_jsonl",
    "read_jsonl_corpus",
    "read_lines",
    "read_mmner",
    "read_pairs",
    "read_pharaoh",
    "read_pharaoh_with_ids",
    "read_sentences",
    "read_tokenized",
    "to_hf_dataset",
    "validate_alignments",
    "write_conll",
    "write_docbin",
    "write_jsonl",
    "write_pharaoh",
    "write_sentences",
    "write_tokenized",
]
