"""Precomputed translations read from a file.

Two formats:

* plain text (any suffix but ``.jsonl``): one translation per line, in the
  order of the input sentences; the line count must equal the sentence count;
* JSONL: one object per line with an ``id`` and the translation under
  ``field`` (default ``translation``); the value may be a string, a list of
  tokens (joined by spaces) or a ``{lang: text}`` object as written by the
  Hugging Face ``translation`` datasets. Lines are matched to sentences by id
  when ids are given, else by position.

The pipeline calls it once with all sentences and their ids, without
caching (``precomputed``, also set on the registry factory).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.translate.languages import language


class FileTranslator:
    """Look up translations in a file instead of running a model."""

    precomputed = True

    def __init__(self, path: str | Path, field: str = "translation", id_field: str = "id"):
        self.path = Path(path)
        self.field = field
        self.id_field = id_field
        if not self.path.is_file():
            raise InputError("translations file not found", self.path)
        self._lines: list[Any] | None = None
        self._ids: list[str | None] = []

    def _read(self) -> list[Any]:
        if self._lines is None:
            text = self.path.read_text(encoding="utf-8")
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if self.path.suffix == ".jsonl":
                records = []
                for number, line in enumerate(lines, 1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise InputError(f"invalid JSON: {error.msg}", self.path, number) from None
                    if not isinstance(record, dict) or self.field not in record:
                        raise InputError(f"expected an object with a {self.field!r} field", self.path, number)
                    records.append((number, record))
                self._ids = [None if self.id_field not in r else str(r[self.id_field]) for _, r in records]
                self._lines = records
            else:
                self._lines = [(number, line) for number, line in enumerate(lines, 1)]
                self._ids = [None] * len(self._lines)
        return self._lines

    def _text(self, number: int, value: Any, tgt_lang: str) -> str:
        if isinstance(value, dict):
            lang = language(tgt_lang)
            for key in (lang.iso1, lang.iso3, lang.nllb, tgt_lang):
                if key in value:
                    return str(value[key])
            raise InputError(
                f"no translation into {tgt_lang!r} (keys: {', '.join(map(str, value))})", self.path, number
            )
        if isinstance(value, list):
            return " ".join(map(str, value))
        if not isinstance(value, str):
            raise InputError(
                f"expected a string, a token list or a {{lang: text}} object under {self.field!r}", self.path, number
            )
        return value

    def translate(
        self, sentences: Sequence[str], src_lang: str, tgt_lang: str, ids: Sequence[str | None] | None = None
    ) -> list[str]:
        """The file's translations of ``sentences`` (matched by ``ids`` when given and the file has ids)."""
        rows = self._read()
        if ids is not None and any(i is not None for i in ids) and any(i is not None for i in self._ids):
            by_id = {i: row for i, row in zip(self._ids, rows)}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise InputError(f"no translation for sentence id(s) {', '.join(map(str, missing[:5]))}", self.path)
            rows = [by_id[i] for i in ids]
        elif len(rows) != len(sentences):
            raise InputError(
                f"the translations file has {len(rows)} {'records' if self.path.suffix == '.jsonl' else 'lines'} "
                f"but the input has {len(sentences)} sentences; they must match one to one",
                self.path,
            )
        out = []
        for number, value in rows:
            out.append(self._text(number, value[self.field] if isinstance(value, dict) else value, tgt_lang))
        return out


@registry.translators.register("file")
def make_file_translator(
    path: str | Path | None = None, translations: str | Path | None = None, **options: Any
) -> FileTranslator:
    """``file``: precomputed translations (options: path (alias translations), field, id_field)."""
    path = path or translations
    if path is None:
        raise XlnerError("the file translator needs the translations file: --translations FILE")
    return FileTranslator(path, **options)


make_file_translator.precomputed = True  # type: ignore[attr-defined]
