"""The 2M-NER / MMNER reader: IMGID lines, ids, spans and FILE:LINE errors."""

from __future__ import annotations

import pytest

from xlner.errors import InputError
from xlner.io.mmner import read_mmner
from xlner.types import Span

FIXTURE = (
    "IMGID:1015799\n"
    "RT\tO\n"
    "Cristiano\tB-PER\n"
    "Ronaldo\tI-PER\n"
    "in\tO\n"
    "Madrid\tB-LOC\n"
    "\n"
    "IMGID:o_2x9\n"
    "Apple\tB-ORG\n"
    "event\tO\n"
    "today\tB-MISC\n"
    "\n"
    "\n"
    "IMGID:42\n"
    "nothing O\n"
)


def write(tmp_path, text: str):
    path = tmp_path / "mmner.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_sentences_with_image_ids(tmp_path):
    sentences = read_mmner(write(tmp_path, FIXTURE))
    assert [s.id for s in sentences] == ["1015799", "o_2x9", "42"]
    assert sentences[0].tokens == ["RT", "Cristiano", "Ronaldo", "in", "Madrid"]
    assert sentences[0].spans == [Span(1, 3, "PER"), Span(4, 5, "LOC")]
    assert sentences[1].spans == [Span(0, 1, "ORG"), Span(2, 3, "MISC")]
    assert sentences[2].tokens == ["nothing"] and sentences[2].spans == []


def test_label_map_and_crlf(tmp_path):
    sentences = read_mmner(write(tmp_path, FIXTURE.replace("\n", "\r\n")), label_map={"MISC": "O"})
    assert sentences[1].spans == [Span(0, 1, "ORG")]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("Ronaldo\tB-PER\n", 1, "expected IMGID:<id> before"),
        ("IMGID:1\nRonaldo\tB-PER\n\nagain\tO\n", 4, "expected IMGID:<id> before"),
        ("IMGID:\nRonaldo\tB-PER\n", 1, "empty id"),
        ("IMGID:1\nRonaldo\n", 2, "expected TOKEN<TAB>TAG"),
        ("IMGID:1\nNew York\tB-LOC\n", 2, "found 3 column"),
        ("IMGID:1\nIMGID:2\na\tO\n", 2, "IMGID:1 (line 1) has no tokens"),
        ("IMGID:1\na\tO\n\nIMGID:2\n", 4, "IMGID:2 (line 4) has no tokens"),
        ("IMGID:1\na\tO\nb\tB-PER\nc\tI-LOC\n", 4, "I-LOC after B-PER"),
        ("IMGID:1\na\tO\nb\tX-PER\n", 3, "unknown tag"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_mmner(path)
    assert info.value.path == str(path) and info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_repair_policy_and_scheme(tmp_path):
    path = write(tmp_path, "IMGID:1\na\tO\nb\tB-PER\nc\tI-LOC\n")
    assert read_mmner(path, policy="repair")[0].spans == [Span(1, 2, "PER"), Span(2, 3, "LOC")]
    bioes = write(tmp_path, "IMGID:1\na\tS-PER\nb\tB-LOC\nc\tE-LOC\n")
    assert read_mmner(bioes)[0].spans == [Span(0, 1, "PER"), Span(1, 3, "LOC")]


def test_empty_file_has_no_sentences(tmp_path):
    assert read_mmner(write(tmp_path, "")) == []
