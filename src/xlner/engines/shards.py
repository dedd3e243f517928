"""Input shards: plan them with one streaming pass, read one without reading the rest.

A shard is ``shard_size`` consecutive sentences of one input file (CoNLL,
JSONL, tokenized text or Parquet), described by a small JSON-able dict (its
byte range, or row range for Parquet), so planning a corpus of any size keeps
only one dict per shard in memory and a worker reads only its own shard.
Sentence ids are the file's ids (JSONL ``id``, Parquet ``id`` column) or the
global sentence index as a string, exactly as :func:`xlner.io.read_sentences`
gives them. Positional side files (one line per sentence, e.g. precomputed
translations) are cut at the same sentence boundaries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from xlner.errors import InputError
from xlner.io.text import split_columns
from xlner.types import spans_to_json

Shard = dict[str, Any]


def _lines_with_offsets(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(1-based line number, byte offset, raw line) for every line of a file."""
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path) from None
    with handle:
        offset = 0
        for number, raw in enumerate(handle, 1):
            yield number, offset, raw
            offset += len(raw)


def _blank_or_docstart(raw: bytes) -> bool:
    columns = raw.split()
    return not columns or columns[0] in (b"-DOCSTART-", b"\xef\xbb\xbf-DOCSTART-")


def _plan_text(path: Path, format: str, shard_size: int, labels: bool) -> tuple[list[Shard], int, str]:
    """Byte-range shards of a CoNLL, JSONL or text file, the sentence count and (CoNLL with labels) the tag scheme."""
    shards: list[Shard] = []
    count = 0
    size = path.stat().st_size

    def start(offset: int, line: int) -> None:
        if count % shard_size == 0:
            if shards:
                shards[-1]["end"] = offset
            shards.append({"path": str(path), "format": format, "start": offset, "line": line, "first": count})

    def conll_tags() -> Iterator[list[str]]:
        nonlocal count
        tags: list[str] | None = None
        for number, offset, raw in _lines_with_offsets(path):
            if _blank_or_docstart(raw):
                if tags is not None:
                    yield tags
                    tags = None
                continue
            if tags is None:
                start(offset, number)
                count += 1
                tags = []
            columns = raw.split()
            if labels and len(columns) >= 2:
                tags.append(columns[-1].decode("utf-8", "replace"))
        if tags is not None:
            yield tags

    scheme = ""
    if format == "conll":
        if labels:
            from xlner.tags import detect_scheme

            scheme = detect_scheme(conll_tags())  # the whole file, as read_conll does
        else:
            for _ in conll_tags():
                pass
    else:
        for number, offset, raw in _lines_with_offsets(path):
            if format == "jsonl" and not raw.strip():
                continue
            start(offset, number)
            count += 1
    if shards:
        shards[-1]["end"] = size
    for shard in shards:
        shard["count"] = min(shard_size, count - shard["first"])
        shard["scheme"] = scheme
    return shards, count, scheme


def _plan_parquet(path: Path, shard_size: int) -> tuple[list[Shard], int]:
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    shards = [
        {"path": str(path), "format": "parquet", "first": first, "count": min(shard_size, rows - first), "line": 0}
        for first in range(0, rows, shard_size)
    ]
    return shards, rows


def plan_shards(
    path: str | Path,
    format: str,
    shard_size: int,
    *,
    labels: bool = True,
    side_files: dict[str, str | Path] | None = None,
) -> list[Shard]:
    """Cut ``path`` into shards of ``shard_size`` sentences; ``side_files``: name -> file with one line per sentence."""
    from xlner.io import detect_format

    path = Path(path)
    if not path.is_file():
        raise InputError("input file not found", path)
    if shard_size < 1:
        raise InputError(f"shard size must be at least 1, got {shard_size}")
    if format in (None, "auto"):
        format = "parquet" if path.suffix == ".parquet" else detect_format(path)
    if format == "parquet":
        shards, count = _plan_parquet(path, shard_size)
    elif format in ("conll", "jsonl", "text"):
        shards, count, _ = _plan_text(path, format, shard_size, labels)
    else:
        raise InputError(f"unknown input format {format!r}: expected conll, jsonl, text or parquet", path)
    if count == 0:
        raise InputError("no sentences in the file", path)
    for index, shard in enumerate(shards):
        shard.update(index=index, labels=labels, side={})
    for name, side_path in (side_files or {}).items():
        _plan_side(Path(side_path), name, shards, count)
    return shards


def _plan_side(path: Path, name: str, shards: list[Shard], count: int) -> None:
    """Byte ranges of the lines of ``path`` belonging to each shard (line k <-> sentence k)."""
    if not path.is_file():
        raise InputError(f"{name} file not found", path)
    starts = {shard["first"]: shard for shard in shards}
    lines = 0
    previous: Shard | None = None
    for number, offset, raw in _lines_with_offsets(path):
        index = number - 1
        if index in starts:
            if previous is not None:
                previous["side"][name]["end"] = offset
            previous = starts[index]
            previous["side"][name] = {"path": str(path), "start": offset, "line": number}
        lines = number
    if previous is not None:
        previous["side"][name]["end"] = path.stat().st_size
    if lines != count:
        raise InputError(f"{lines} {name.replace('_', '-')} but the input has {count} sentences", path)


def _read_range(path: str, start: int, end: int) -> list[str]:
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    try:
        text = data.decode("utf-8-sig" if start == 0 else "utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {data[error.start]:#04x})", path) from None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _parse_conll(shard: Shard, lines: list[str]):
    from xlner.tags import TagError, tags_to_spans

    path = shard["path"]
    blocks: list[tuple[int, list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    for number, line in enumerate(lines, shard["line"]):
        columns = split_columns(line)
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                blocks.append((first_line, tokens, tags))
                tokens, tags = [], []
            continue
        if shard["labels"] and len(columns) < 2:
            raise InputError(f"expected TOKEN and TAG, found 1 column: {line.strip()!r}", path, number)
        if not tokens:
            first_line = number
        tokens.append(columns[0])
        tags.append(columns[-1])
    if tokens:
        blocks.append((first_line, tokens, tags))
    spans: list[list[list[Any]]] = []
    for first_line, block_tokens, block_tags in blocks:
        if not shard["labels"]:
            spans.append([])
            continue
        try:
            found, _ = tags_to_spans(block_tags, shard["scheme"] or "iob2", shard.get("policy", "repair"))
        except TagError as error:
            raise InputError(error.reason, path, first_line + error.index) from None
        spans.append(spans_to_json(found))
    ids = [str(shard["first"] + k) for k in range(len(blocks))]
    return [b[1] for b in blocks], spans, ids


def _parse_jsonl(shard: Shard, lines: list[str]):
    from xlner.io.jsonl import parse_record

    tokens: list[list[str]] = []
    spans: list[list[list[Any]]] = []
    ids: list[str | None] = []
    for number, line in enumerate(lines, shard["line"]):
        if not line.strip():
            continue
        try:
            sentence = parse_record(
                json.loads(line),
                shard["first"] + len(tokens),
                policy=shard.get("policy", "repair"),
                label_names=shard.get("label_names"),
            )
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg} (column {error.colno})", shard["path"], number) from None
        except InputError as error:
            raise InputError(error.reason, shard["path"], number) from None
        tokens.append(sentence.tokens)
        spans.append(spans_to_json(sentence.spans) if shard["labels"] else [])
        ids.append(sentence.id)
    return tokens, spans, ids


def _read_parquet(shard: Shard):
    """Columns ``tokens`` (list of strings), optional ``id`` and ``spans`` (list of {start, end, label})."""
    import pyarrow.parquet as pq

    table = pq.read_table(shard["path"]).slice(shard["first"], shard["count"])  # pyarrow reads lazily by row group
    columns = table.column_names
    if "tokens" not in columns:
        raise InputError(f"expected a 'tokens' column, found {', '.join(columns)}", shard["path"])
    tokens = [list(t) for t in table.column("tokens").to_pylist()]
    ids = (
        [str(i) for i in table.column("id").to_pylist()]
        if "id" in columns
        else [str(shard["first"] + k) for k in range(len(tokens))]
    )
    if shard["labels"] and "spans" in columns:
        spans = [[[s["start"], s["end"], s["label"]] for s in row or []] for row in table.column("spans").to_pylist()]
    else:
        spans = [[] for _ in tokens]
    return tokens, spans, ids


def read_shard(shard: Shard) -> dict[str, Any]:
    """The sentences of one shard: ``ids``, ``tokens``, ``spans`` (``[start, end, label]`` lists), plus each side file's lines."""
    if shard["format"] == "parquet":
        tokens, spans, ids = _read_parquet(shard)
    else:
        lines = _read_range(shard["path"], shard["start"], shard["end"])
        if shard["format"] == "conll":
            tokens, spans, ids = _parse_conll(shard, lines)
        elif shard["format"] == "jsonl":
            tokens, spans, ids = _parse_jsonl(shard, lines)
        else:
            tokens = [split_columns(line) for line in lines]
            spans = [[] for _ in tokens]
            ids = [str(shard["first"] + k) for k in range(len(tokens))]
    if len(tokens) != shard["count"]:
        raise InputError(
            f"shard {shard['index']}: expected {shard['count']} sentences, read {len(tokens)} (file changed?)",
            shard["path"],
        )
    out: dict[str, Any] = {"ids": ids, "tokens": tokens, "spans": spans}
    for name, side in shard["side"].items():
        out[name] = _read_range(side["path"], side["start"], side["end"])
    return out
