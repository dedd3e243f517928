"""Readers and writers: CoNLL, tokenized text, JSONL, Pharaoh, atomic writes."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlner.errors import InputError
from xlner.io import (
    atomic_write,
    detect_format,
    read_conll,
    read_conll_tokens,
    read_jsonl,
    read_pharaoh,
    read_pharaoh_with_ids,
    read_sentences,
    read_tokenized,
    validate_alignments,
    write_conll,
    write_jsonl,
    write_pharaoh,
    write_tokenized,
)
from xlner.io.conll import check_same_tokens
from xlner.types import Sentence, Span

HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def located(error, path, line):
    """The message starts with FILE:LINE:."""
    return str(error).startswith(f"{path}:{line}: ")


# ---------------------------------------------------------------- CoNLL


def test_read_conll_basic(tmp_path):
    path = write(
        tmp_path / "a.conll",
        "-DOCSTART- -X- O O\n\nEU\tB-ORG\nrejects B-MISC\nGerman I-MISC\n\n\n\nPeter NNP B-PER\n\n\n",
    )
    data = read_conll(path)
    assert [s.tokens for s in data] == [["EU", "rejects", "German"], ["Peter"]]
    assert [s.spans for s in data] == [[Span(0, 1, "ORG"), Span(1, 3, "MISC")], [Span(0, 1, "PER")]]
    assert [s.id for s in data] == ["0", "1"]
    assert data.lines == [3, 9]
    assert data.where(1) == f"{path}:9"
    assert data.scheme == "iob2" and data.repairs == 0


def test_read_conll_crlf_bom_and_no_final_newline(tmp_path):
    path = write(tmp_path / "b.conll", "\ufeffKöln B-LOC\r\nist O\r\n\r\n東京 B-LOC")
    data = read_conll(path)
    assert [s.tokens for s in data] == [["Köln", "ist"], ["東京"]]
    assert data[1].spans == [Span(0, 1, "LOC")]


def test_read_conll_tag_column(tmp_path):
    path = write(tmp_path / "c.conll", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert read_conll(path, tag_column=2)[0].spans == [Span(0, 1, "NP"), Span(1, 2, "VP")]
    assert read_conll(path)[0].spans == [Span(0, 1, "ORG")]
    with pytest.raises(InputError, match="token column"):
        read_conll(path, tag_column=0)
    with pytest.raises(InputError) as info:
        read_conll(path, tag_column=5)
    assert located(info.value, path, 1)


def test_read_conll_missing_tag_names_file_and_line(tmp_path):
    path = write(tmp_path / "de.conll", "Haus O\n\nKatze O\nHund\n")
    with pytest.raises(InputError) as info:
        read_conll(path)
    assert str(info.value) == f"{path}:4: expected TOKEN and TAG, found 1 column: 'Hund'"


def test_read_conll_invalid_sequence_strict_and_repair(tmp_path):
    path = write(tmp_path / "p.conll", "a O\n\nb O\nc I-PER\nd I-LOC\n")
    with pytest.raises(InputError) as info:
        read_conll(path, scheme="iob2")
    assert located(info.value, path, 4) and "I-PER after O" in str(info.value)
    data = read_conll(path, scheme="iob2", policy="repair")
    assert data[1].spans == [Span(1, 2, "PER"), Span(2, 3, "LOC")]
    assert data.repairs == 2


def test_read_conll_unknown_prefix_is_error_under_repair(tmp_path):
    path = write(tmp_path / "x.conll", "a O\nb X-PER\n")
    for policy in ("strict", "repair"):
        with pytest.raises(InputError) as info:
            read_conll(path, policy=policy)
        assert located(info.value, path, 2) and "X-PER" in str(info.value)


def test_read_conll_auto_schemes(tmp_path):
    bioes = write(tmp_path / "bioes.conll", "a B-PER\nb E-PER\nc S-LOC\n")
    assert read_conll(bioes).scheme == "bioes"
    assert read_conll(bioes)[0].spans == [Span(0, 2, "PER"), Span(2, 3, "LOC")]
    iob1 = write(tmp_path / "iob1.conll", "a I-PER\nb B-PER\n\nc I-LOC\n")
    data = read_conll(iob1)
    assert data.scheme == "iob1"
    assert [s.spans for s in data] == [[Span(0, 1, "PER"), Span(1, 2, "PER")], [Span(0, 1, "LOC")]]
    with pytest.raises(InputError):
        read_conll(iob1, scheme="iob2")


def test_read_conll_label_map(tmp_path):
    path = write(tmp_path / "m.conll", "a B-MISC\nb B-GPE\nc B-PER\n")
    spans = read_conll(path, label_map={"MISC": "O", "GPE": "LOC"})[0].spans
    assert spans == [Span(1, 2, "LOC"), Span(2, 3, "PER")]


def test_read_conll_tokens_ignores_tags(tmp_path):
    path = write(tmp_path / "t.conll", "a X-BAD\nb\n\nc O O\n")
    data = read_conll_tokens(path)
    assert [(s.tokens, s.spans, s.id) for s in data] == [(["a", "b"], [], "0"), (["c"], [], "1")]
    assert data.lines == [1, 4]


def test_read_errors_for_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_conll(tmp_path / "missing.conll")
    path = tmp_path / "latin1.conll"
    path.write_bytes("a O\nM\xfcnchen B-LOC\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_conll(path)
    assert located(info.value, path, 2) and "UTF-8" in str(info.value)


def test_write_conll(tmp_path):
    path = tmp_path / "out.conll"
    write_conll(path, [Sentence(["New", "York", "!"], [Span(0, 2, "LOC")]), Sentence(["x"])])
    assert path.read_text(encoding="utf-8") == "New\tB-LOC\nYork\tI-LOC\n!\tO\n\nx\tO\n\n"


@pytest.mark.parametrize(
    "sentence, match",
    [
        (Sentence(["New York"]), "whitespace"),
        (Sentence(["a", ""]), "whitespace"),
        (Sentence([]), "empty sentence"),
        (Sentence(["a"], [Span(0, 2, "PER")]), "outside"),
        (Sentence(["a", "b"], [Span(0, 2, "PER"), Span(1, 2, "LOC")]), "overlaps"),
    ],
)
def test_write_conll_rejects_and_keeps_old_file(tmp_path, sentence, match):
    path = write(tmp_path / "old.conll", "old O\n")
    with pytest.raises(InputError, match=match):
        write_conll(path, [Sentence(["fine"]), sentence])
    assert path.read_text() == "old O\n"
    assert os.listdir(tmp_path) == ["old.conll"]


def test_check_same_tokens(tmp_path):
    a = read_conll(write(tmp_path / "a.conll", "x O\n\ny O\nz O\n"))
    b = read_conll(write(tmp_path / "b.conll", "x O\n\n\ny O\nZ O\n"))
    c = read_conll(write(tmp_path / "c.conll", "x O\n"))
    with pytest.raises(InputError, match=r"a.conll has 2 sentences but .*c.conll has 1"):
        check_same_tokens(a, c)
    with pytest.raises(InputError) as info:
        check_same_tokens(a, b)
    message = str(info.value)
    assert "sentence 2 differs" in message and f"{a.path}:3" in message and f"{b.path}:4" in message
    assert "token 2 is 'z'" in message
    check_same_tokens(a, a)


# ---------------------------------------------------------------- tokenized text


def test_tokenized_text(tmp_path):
    path = write(tmp_path / "t.txt", "\ufeffa  b\tc\r\n\r\nд е\n")
    assert read_tokenized(path) == [["a", "b", "c"], [], ["д", "е"]]
    out = tmp_path / "o.txt"
    write_tokenized(out, [["a", "b"], [], ["c"]])
    assert out.read_text() == "a b\n\nc\n"
    with pytest.raises(InputError, match="sentence 1"):
        write_tokenized(out, [["ok"], ["not ok"]])
    assert out.read_text() == "a b\n\nc\n"


def test_read_sentences_by_extension_and_sniffing(tmp_path):
    conll = write(tmp_path / "data", "EU B-ORG\nsays O\n")
    text = write(tmp_path / "plain", "EU says\nhello\n")
    jsonl = write(tmp_path / "j", '{"tokens": ["EU"], "spans": [[0, 1, "ORG"]]}\n')
    assert [detect_format(p) for p in (conll, text, jsonl)] == ["conll", "text", "jsonl"]
    assert detect_format(tmp_path / "x.conll03") == "conll" and detect_format(tmp_path / "x.tok") == "text"
    assert detect_format(write(tmp_path / "c.txt", "Ko O\nBamako B-LOC\n")) == "conll"  # MasakhaNER style
    assert detect_format(write(tmp_path / "t.txt", "Ko O\nBamako ye\n")) == "text"
    assert read_sentences(conll) == read_sentences(conll, None) == [Sentence(["EU", "says"], [Span(0, 1, "ORG")], "0")]
    assert read_sentences(conll, labels=False) == [Sentence(["EU", "says"], [], "0")]
    assert read_sentences(text) == [Sentence(["EU", "says"], [], "0"), Sentence(["hello"], [], "1")]
    assert read_sentences(jsonl, label_map={"ORG": "O"}) == [Sentence(["EU"], [], "0")]
    assert read_sentences(conll, format="text") == [
        Sentence(["EU", "B-ORG"], [], "0"),
        Sentence(["says", "O"], [], "1"),
    ]
    with pytest.raises(InputError, match="format"):
        read_sentences(conll, format="xml")


# ---------------------------------------------------------------- JSONL


def test_jsonl_read_and_ids(tmp_path):
    path = write(
        tmp_path / "s.jsonl",
        '{"id": "doc1-3", "tokens": ["Anna", "lacht"], "spans": [[0, 1, "PER"]]}\n\n{"tokens": ["x"]}\n{"id": 7, "tokens": []}\n',
    )
    assert read_jsonl(path) == [
        Sentence(["Anna", "lacht"], [Span(0, 1, "PER")], "doc1-3"),
        Sentence(["x"], [], "1"),
        Sentence([], [], "7"),
    ]


@pytest.mark.parametrize(
    "line, match",
    [
        ('{"tokens": ["a"], "spans": [[0, 2, "PER"]]}', "outside"),
        ('{"tokens": ["a"], "spans": [[1, 1, "PER"]]}', "outside"),
        ('{"tokens": ["a"], "spans": [[-1, 1, "PER"]]}', "outside"),
        ('{"tokens": ["a"], "spans": [[0, 1]]}', "expected a span"),
        ('{"tokens": ["a"], "spans": [[0, 1, ""]]}', "invalid label"),
        ('{"tokens": "a b"}', "tokens"),
        ('{"tokens": ["a b"]}', "whitespace"),
        ('{"tokens": ["a"], "id": [1]}', "id"),
        ('["a"]', "JSON object"),
        ('{"tokens": ["a"]', "invalid JSON"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, line, match):
    path = write(tmp_path / "bad.jsonl", '{"tokens": ["ok"]}\n' + line + "\n")
    with pytest.raises(InputError, match=match) as info:
        read_jsonl(path)
    assert located(info.value, path, 2)


def test_write_jsonl(tmp_path):
    path = tmp_path / "o.jsonl"
    write_jsonl(path, [Sentence(["Straße"], [Span(0, 1, "LOC")]), Sentence(["b"], [], "x")])
    assert path.read_text(encoding="utf-8") == (
        '{"tokens": ["Straße"], "spans": [[0, 1, "LOC"]], "ner_tags": ["B-LOC"]}\n{"id": "x", "tokens": ["b"], "spans": [], "ner_tags": ["O"]}\n'
    )
    assert read_jsonl(path)[0].spans == [Span(0, 1, "LOC")]
    write_jsonl(path, [Sentence(["b"], [], "x")], layout="spans")
    assert path.read_text(encoding="utf-8") == '{"id": "x", "tokens": ["b"], "spans": []}\n'


# ---------------------------------------------------------------- Pharaoh


def test_pharaoh_read_write(tmp_path):
    path = write(tmp_path / "a.txt", "0-0 1-2 1-2\n\n3-1  \n")
    assert read_pharaoh(path) == [frozenset({(0, 0), (1, 2)}), frozenset(), frozenset({(3, 1)})]
    out = tmp_path / "o.txt"
    write_pharaoh(out, [{(2, 1), (0, 0), (10, 3)}, set()])
    assert out.read_text() == "0-0 2-1 10-3\n\n"


def test_pharaoh_with_ids(tmp_path):
    path = write(tmp_path / "ids.txt", "s7\t0-1 2-2\n\ns9\t\n")
    assert read_pharaoh_with_ids(path) == (
        ["s7", None, "s9"],
        [frozenset({(0, 1), (2, 2)}), frozenset(), frozenset()],
    )
    assert read_pharaoh(path)[0] == frozenset({(0, 1), (2, 2)})


@pytest.mark.parametrize("bad", ["0-0 1", "0-x", "1-2-3", "-1-2", "0:0", "٣-1"])
def test_pharaoh_malformed(tmp_path, bad):
    path = write(tmp_path / "bad.txt", "0-0\n" + bad + "\n")
    with pytest.raises(InputError, match="expected links like 3-5") as info:
        read_pharaoh(path)
    assert located(info.value, path, 2)


def test_pharaoh_validate(tmp_path):
    alignments = [frozenset({(0, 0)}), frozenset({(1, 3)})]
    validate_alignments(alignments, [1, 2], [1, 4])
    with pytest.raises(InputError) as info:
        validate_alignments(alignments, [1, 2], [1, 3], path="al.txt")
    assert str(info.value).startswith("al.txt:2: link 1-3 is outside")
    with pytest.raises(InputError, match="line 2"):
        validate_alignments(alignments, [1, 1], [1, 4])
    with pytest.raises(InputError, match="2 alignments for 3 source"):
        validate_alignments(alignments, [1, 2, 3], [1, 4, 4])


# ---------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_on_success_and_keeps_mode(tmp_path):
    path = write(tmp_path / "f.txt", "old")
    os.chmod(path, 0o640)
    with atomic_write(path) as out:
        out.write("new\n")
        assert path.read_text() == "old"  # nothing visible until the end
    assert path.read_text() == "new\n"
    assert os.stat(path).st_mode & 0o777 == 0o640
    with atomic_write(tmp_path / "b.bin", "wb") as out:
        out.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"


def test_atomic_write_failure_leaves_no_file(tmp_path):
    def sentences():
        yield Sentence(["a"], [Span(0, 1, "PER")])
        raise RuntimeError("boom midway")

    with pytest.raises(RuntimeError):
        write_conll(tmp_path / "new.conll", sentences())
    assert os.listdir(tmp_path) == []

    old = write(tmp_path / "old.txt", "keep\n")
    with pytest.raises(RuntimeError):
        write_tokenized(old, _raising_lists())
    assert old.read_text() == "keep\n" and os.listdir(tmp_path) == ["old.txt"]


def _raising_lists():
    yield ["x"]
    raise RuntimeError("boom")


def test_atomic_write_missing_folder(tmp_path):
    with pytest.raises(InputError, match="cannot write"):
        write_pharaoh(tmp_path / "no" / "such.txt", [])


# ---------------------------------------------------------------- round trips (hypothesis)

# Tokens: no whitespace, any script (Latin, Cyrillic, CJK, Devanagari, Arabic, Ge'ez, combining marks).
# U+FEFF is left out: at the very start of a file it reads as a byte-order mark.
TOKEN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="\ufeff").filter(
        lambda c: not c.isspace()
    ),
    min_size=1,
    max_size=8,
).filter(lambda t: t != "-DOCSTART-")
SCRIPT_TOKEN = st.sampled_from(["Köln", "東京", "Москва", "नई", "دبي", "አዲስ", "e\u0301", "Ọ̀yọ́", "-", "O", "B-PER"])
TOKENS = st.lists(st.one_of(TOKEN, SCRIPT_TOKEN), min_size=1, max_size=12)
LABEL = st.sampled_from(["PER", "ORG", "LOC", "MISC", "DATE", "B-X", "Ünï"])


@st.composite
def sentences(draw, allow_empty=False):
    tokens = draw(st.lists(st.one_of(TOKEN, SCRIPT_TOKEN), min_size=0 if allow_empty else 1, max_size=12))
    cuts = sorted(draw(st.sets(st.integers(0, len(tokens)), max_size=8)))
    spans = [Span(s, e, draw(LABEL)) for s, e in zip(cuts[::2], cuts[1::2]) if s < e]
    return tokens, spans


@HYPOTHESIS
@given(st.lists(sentences(), max_size=6))
def test_conll_round_trip(tmp_path, cases):
    path = tmp_path / "rt.conll"
    write_conll(path, [Sentence(t, s) for t, s in cases])
    data = read_conll(path, scheme="iob2")
    assert [(s.tokens, s.spans, s.id) for s in data] == [(t, s, str(i)) for i, (t, s) in enumerate(cases)]


@HYPOTHESIS
@given(st.lists(st.lists(st.one_of(TOKEN, SCRIPT_TOKEN), max_size=10), max_size=6))
def test_tokenized_round_trip(tmp_path, token_lists):
    path = tmp_path / "rt.txt"
    write_tokenized(path, token_lists)
    assert read_tokenized(path) == token_lists


@HYPOTHESIS
@given(st.lists(st.tuples(sentences(allow_empty=True), st.one_of(st.none(), st.text(max_size=5))), max_size=6))
def test_jsonl_round_trip(tmp_path, cases):
    path = tmp_path / "rt.jsonl"
    originals = [Sentence(t, s, sid) for (t, s), sid in cases]
    write_jsonl(path, originals)
    expected = [Sentence(t, s, str(i) if sid is None else sid) for i, ((t, s), sid) in enumerate(cases)]
    assert read_jsonl(path) == expected


@HYPOTHESIS
@given(st.lists(st.frozensets(st.tuples(st.integers(0, 300), st.integers(0, 300)), max_size=15), max_size=8))
def test_pharaoh_round_trip(tmp_path, alignments):
    path = tmp_path / "rt.pharaoh"
    write_pharaoh(path, alignments)
    assert read_pharaoh(path) == alignments
    for line in path.read_text().splitlines():
        links = [tuple(map(int, item.split("-"))) for item in line.split()]
        assert links == sorted(links) and all(re.fullmatch(r"\d+-\d+", item) for item in line.split())
