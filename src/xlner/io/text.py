"""Tokenized text (one sentence per line, tokens split by spaces), file loading and format sniffing."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.tags import as_label_map, check_choice
from xlner.types import Sentence

FORMATS = ("auto", "conll", "jsonl", "text")
_EXTENSIONS = {
    ".conll": "conll",
    ".conll02": "conll",
    ".conll03": "conll",
    ".iob": "conll",
    ".bio": "conll",
    ".jsonl": "jsonl",
    ".tok": "text",
}  # .txt is sniffed: MasakhaNER and WikiANN ship CoNLL as .txt


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file without line ends (BOM and CR/CRLF handled).

    A final line end does not start another line; raises :class:`InputError`
    when the file cannot be read or is not UTF-8 (naming the line).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {data[error.start]:#04x})", path, line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def check_token(token: object, what: str = "token") -> str:
    """Return ``token`` if it is a non-empty string without whitespace, else raise :class:`InputError`."""
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise InputError(f"invalid {what} {token!r}: must be a non-empty string without whitespace")
    return token


def read_tokenized(path: str | Path) -> list[list[str]]:
    """One token list per line (split on whitespace); an empty line is an empty sentence."""
    return [line.split() for line in read_lines(path)]


def write_tokenized(path: str | Path, token_lists: Iterable[Sequence[str]]) -> None:
    """Write one sentence per line, tokens joined by single spaces, atomically."""
    with atomic_write(path) as out:
        for number, tokens in enumerate(token_lists):
            try:
                line = " ".join(check_token(token) for token in tokens)
            except InputError as error:
                raise InputError(f"sentence {number}: {error.reason}", path) from None
            out.write(line + "\n")


def detect_format(path: str | Path) -> str:
    """``conll``, ``jsonl`` or ``text``: by extension, else by sniffing the first lines.

    Extensions: ``.conll .conll02 .conll03 .iob .bio`` -> CoNLL, ``.jsonl``
    -> JSONL, ``.tok`` -> text. Others (``.txt`` included) are sniffed: a
    first non-blank line starting with ``{`` is JSONL; if every one of the
    first 50 non-blank lines has at least two columns and a tag-like last
    column (``O`` or ``X-LABEL``) it is CoNLL; otherwise tokenized text.
    """
    path = Path(path)
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    sample = [line for line in read_lines(path)[:200] if line.strip()][:50]
    if sample and sample[0].lstrip().startswith("{"):
        return "jsonl"
    if sample and all(_tag_like(line.split()) for line in sample if not line.startswith("-DOCSTART-")):
        return "conll"
    return "text"


def _tag_like(columns: list[str]) -> bool:
    if len(columns) < 2:
        return False
    tag = columns[-1]
    return tag == "O" or (len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU")


def read_sentences(
    path: str | Path,
    format: str | None = "auto",
    *,
    labels: bool = True,
    policy: str = "strict",
    label_map: Mapping[str, str] | None = None,
) -> list[Sentence]:
    """Read sentences from CoNLL, JSONL or tokenized text (``format`` ``"auto"`` or None: see :func:`detect_format`).

    ``labels=False`` ignores any tags or spans (for targets whose labels must
    not be used). Sentence ids are the sentence index as a string unless the
    file has ids (JSONL ``"id"``).
    """
    format = check_choice(format or "auto", FORMATS, "format")
    if format == "auto":
        format = detect_format(path)
    if format == "conll":
        from xlner.io.conll import read_conll, read_conll_tokens

        if not labels:
            return read_conll_tokens(path).sentences
        return read_conll(path, policy=policy, label_map=label_map).sentences
    if format == "jsonl":
        from xlner.io.jsonl import read_jsonl

        sentences = read_jsonl(path)
        mapping = as_label_map(label_map)
        for sentence in sentences:
            sentence.spans = mapping.apply(sentence.spans) if labels else []
        return sentences
    return [Sentence(tokens, [], str(i)) for i, tokens in enumerate(read_tokenized(path))]
