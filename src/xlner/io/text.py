"""Tokenized text (one sentence per line, tokens split by spaces), file loading and format sniffing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.tags import POLICIES, as_label_map, check_choice
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
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")  # lines end at \n or \r\n only (not U+2028, \x85, a lone \r)
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


_SEPARATORS = " \t"  # column and token separators: ASCII space and tab only (U+00A0 stays inside a token)
_FORBIDDEN = frozenset(" \t\r\n")


def split_columns(line: str) -> list[str]:
    """Split a line on runs of ASCII spaces and tabs (other Unicode spaces stay inside a column)."""
    return [part for part in line.replace("\t", " ").split(" ") if part]


def check_token(token: object, what: str = "token") -> str:
    """Return ``token`` if it is a non-empty string without whitespace (space, tab, CR, LF), else raise :class:`InputError`."""
    if not isinstance(token, str) or not token or any(c in _FORBIDDEN for c in token):
        raise InputError(
            f"invalid {what} {token!r}: must be a non-empty string without whitespace (space, tab, CR, LF)"
        )
    return token


def read_tokenized(path: str | Path) -> list[list[str]]:
    """One token list per line (split on ASCII spaces and tabs); an empty line is an empty sentence."""
    return [split_columns(line) for line in read_lines(path)]


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
    column (``O`` or ``X-LABEL``) it is CoNLL; if most (and at least 3) are,
    the file is CoNLL with a bad line and :class:`InputError` names that
    line (never a silent fallback to text); otherwise tokenized text.
    """
    path = Path(path)
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    return sniff_lines(enumerate(read_lines(path)[:200], 1), path)


def sniff_lines(
    numbered: Iterable[tuple[int, str]], path: str | Path, before_error: Callable[[], None] | None = None
) -> str:
    """The format of a file from its first (line number, line)s, as :func:`detect_format` decides it;
    ``before_error`` runs before a CoNLL file with a bad line is reported."""
    sample = [(number, line) for number, line in numbered if line.strip(" \t")][:50]
    if sample and sample[0][1].lstrip().startswith("{"):
        return "jsonl"
    rows = [(number, line) for number, line in sample if not line.startswith("-DOCSTART-")]
    bad = [(number, line) for number, line in rows if not _tag_like(split_columns(line))]
    if rows and not bad:
        return "conll"
    good = len(rows) - len(bad)
    if good >= 3 and 2 * good > len(rows):
        if before_error is not None:
            before_error()
        number, line = bad[0]
        raise InputError(
            f"expected TOKEN TAG with a tag such as O or B-PER ({good} of the first {len(rows)} lines are CoNLL), "
            f"found {line.strip()!r}",
            path,
            number,
        )
    return "text"


def _tag_like(columns: list[str]) -> bool:
    if len(columns) < 2:
        return False
    tag = columns[-1]
    return tag == "O" or (len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU")


class Corpus(list):
    """Sentences read from one file (a ``list`` of :class:`Sentence`) and where they came from.

    ``lines[k]`` is the 1-based line of sentence ``k``, ``repairs`` the
    number of tags that ``policy="repair"`` fixed, ``format`` the format read.
    """

    def __init__(
        self,
        sentences: Iterable[Sentence] = (),
        path: str | Path = "",
        format: str = "",
        lines: Sequence[int] | None = None,
        repairs: int = 0,
        scheme: str = "",
    ):
        super().__init__(sentences)
        self.path = str(path)
        self.format = format
        self.lines = list(lines) if lines is not None else list(range(1, len(self) + 1))
        self.repairs = repairs
        self.scheme = scheme

    @property
    def sentences(self) -> list[Sentence]:
        """The sentences as a plain list."""
        return list(self)

    def where(self, index: int) -> str:
        """``"path:line"`` of sentence ``index``."""
        return f"{self.path}:{self.lines[index]}" if index < len(self.lines) else self.path

    def entities(self) -> int:
        """Number of spans in all sentences."""
        return sum(len(sentence.spans) for sentence in self)


def read_sentences(
    path: str | Path,
    format: str | None = "auto",
    *,
    labels: bool = True,
    policy: str = "strict",
    label_map: Mapping[str, str] | None = None,
    scheme: str = "auto",
    tag_column: int = -1,
    label_names: Sequence[str] | str | Path | None = None,
) -> Corpus:
    """Read sentences from CoNLL, JSONL or tokenized text (``format`` ``"auto"`` or None: see :func:`detect_format`).

    ``labels=False`` ignores any tags or spans (for targets whose labels must
    not be used). JSONL is xlner's ``spans`` layout or the Hugging Face
    ``tokens`` + ``ner_tags`` layout (see :mod:`xlner.io.jsonl`;
    ``label_names`` for integer tags). ``policy``/``scheme`` decode tags
    (CoNLL, HF JSONL). Sentence ids are the sentence index as a string
    unless the file has ids (JSONL ``"id"``).
    """
    format = check_choice(format or "auto", FORMATS, "format")
    policy = check_choice(policy, POLICIES, "policy")
    if format == "auto":
        format = detect_format(path)
    if format == "conll":
        from xlner.io.conll import read_conll, read_conll_tokens

        if not labels:
            data = read_conll_tokens(path)
        else:
            data = read_conll(path, tag_column=tag_column, scheme=scheme, policy=policy, label_map=label_map)
        return Corpus(data.sentences, path, "conll", data.lines, data.repairs, data.scheme)
    if format == "jsonl":
        from xlner.io.jsonl import read_jsonl_corpus

        corpus = read_jsonl_corpus(path, labels=labels, policy=policy, scheme=scheme, label_names=label_names)
        mapping = as_label_map(label_map)
        for sentence in corpus:
            sentence.spans = mapping.apply(sentence.spans) if labels else []
        return corpus
    return Corpus([Sentence(tokens, [], str(i)) for i, tokens in enumerate(read_tokenized(path))], path, "text")


def read_corpus(path: str | Path, format: str | None = "auto", **options: Any) -> Corpus:
    """:func:`read_sentences`, but a file without any sentence (empty, or only blank lines) is an error."""
    corpus = read_sentences(path, format, **options)
    if not any(sentence.tokens for sentence in corpus):
        raise InputError(f"no sentences in {path}")
    return corpus
