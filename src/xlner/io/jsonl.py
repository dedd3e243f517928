"""JSONL sentences: ``{"id": "...", "tokens": [...], "spans": [[start, end, label], ...]}`` per line.

``id`` is optional (the sentence index is used when absent); ``spans`` are
half-open token ranges and may be omitted for unlabelled sentences. Blank
lines are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.io.text import check_token, read_lines
from xlner.types import Sentence, Span


def parse_record(record: Any, index: int) -> Sentence:
    """One decoded JSON value -> Sentence; raises InputError (no location) when malformed."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, found {type(record).__name__}")
    tokens = record.get("tokens")
    if not isinstance(tokens, list):
        raise InputError('expected "tokens": a list of strings')
    for token in tokens:
        check_token(token)
    spans = []
    for item in record.get("spans", []) or []:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2])
            and isinstance(item[2], str)
        ):
            raise InputError(f"expected a span [start, end, label], found {json.dumps(item, ensure_ascii=False)}")
        start, end, label = item
        if not (0 <= start < end <= len(tokens)):
            raise InputError(f"span {json.dumps(item, ensure_ascii=False)} is outside 0 <= start < end <= {len(tokens)}")
        if not label or label == "O" or any(c.isspace() for c in label):
            raise InputError(f"span {json.dumps(item, ensure_ascii=False)} has an invalid label")
        spans.append(Span(start, end, label))
    sentence_id = record.get("id")
    if sentence_id is None:
        sentence_id = str(index)
    elif isinstance(sentence_id, (str, int)) and not isinstance(sentence_id, bool):
        sentence_id = str(sentence_id)
    else:
        raise InputError('expected "id" to be a string or an integer')
    return Sentence(list(tokens), spans, sentence_id)


def read_jsonl(path: str | Path) -> list[Sentence]:
    """Read one sentence per non-blank line; errors name ``FILE:LINE``."""
    sentences = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg} (column {error.colno})", path, number) from None
        try:
            sentences.append(parse_record(record, len(sentences)))
        except InputError as error:
            raise InputError(error.reason, path, number) from None
    return sentences


def write_jsonl(path: str | Path, sentences: Iterable[Sentence]) -> None:
    """Write one JSON object per sentence (UTF-8, spans as ``[start, end, label]``), atomically."""
    with atomic_write(path) as out:
        for index, sentence in enumerate(sentences):
            try:
                for token in sentence.tokens:
                    check_token(token)
                for span in sentence.spans:
                    if span.end > len(sentence.tokens):
                        raise InputError(f"span [{span.start}, {span.end}) is outside the {len(sentence.tokens)} tokens")
                    check_token(span.label, "label")
                    if span.label == "O":
                        raise InputError(f"span [{span.start}, {span.end}) has the label 'O'")
            except InputError as error:
                raise InputError(f"sentence {index}: {error.reason}", path) from None
            record: dict[str, Any] = {}
            if sentence.id is not None:
                record["id"] = sentence.id
            record["tokens"] = sentence.tokens
            record["spans"] = [[span.start, span.end, span.label] for span in sentence.spans]
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
