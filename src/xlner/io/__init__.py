"""Readers and writers: CoNLL, tokenized text, JSONL, Pharaoh alignments."""
