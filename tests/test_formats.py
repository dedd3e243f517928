"""Issue 16 item 3: outputs by suffix (CoNLL, JSONL with ner_tags, spaCy DocBin), `|||` pair files, to_hf_dataset."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.io import output_format, read_jsonl, read_pairs, read_sentences, to_hf_dataset, write_sentences
from xlner.types import Sentence, Span

runner = CliRunner()
SENTENCES = [
    Sentence(["John", "Smith", "visited", "New", "York"], [Span(0, 2, "PER"), Span(3, 5, "LOC")], "a"),
    Sentence(["Nothing", "here"], [], "b"),
]


def one_error(result, *fragments: str) -> str:
    """Exit 2 and exactly one line, `error: ...`, containing every fragment."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_output_format_by_suffix(tmp_path):
    assert [output_format(tmp_path / f"o{s}") for s in (".conll", ".txt", ".tsv", ".JSONL")] == ["conll"] * 3 + [
        "jsonl"
    ]
    assert output_format("-") == "conll"
    with pytest.raises(InputError, match=r"unknown output suffix '\.csv'.*\.conll.*\.jsonl.*\.spacy"):
        output_format(tmp_path / "o.csv")
    with pytest.raises(InputError, match="unknown output suffix '\\(none\\)'"):
        output_format(tmp_path / "noext")


def test_jsonl_carries_spans_and_ner_tags_and_loads_in_datasets(tmp_path, monkeypatch):
    path = tmp_path / "o.jsonl"
    write_sentences(path, SENTENCES)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["spans"] == [[0, 2, "PER"], [3, 5, "LOC"]]
    assert first["ner_tags"] == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert read_jsonl(path) == SENTENCES  # both fields read back
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    loaded = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded["tokens"][0] == SENTENCES[0].tokens
    assert loaded["ner_tags"] == [first["ner_tags"], ["O", "O"]]


def test_spacy_docbin(tmp_path):
    pytest.importorskip("spacy")
    import spacy
    from spacy.tokens import DocBin

    path = tmp_path / "o.spacy"
    write_sentences(path, SENTENCES)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    assert [[t.text for t in doc] for doc in docs] == [s.tokens for s in SENTENCES]
    assert [(e.start, e.end, e.label_) for e in docs[0].ents] == [(0, 2, "PER"), (3, 5, "LOC")]
    assert list(docs[1].ents) == []


def test_spacy_missing_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_spacy(name, *args, **kwargs):
        if name == "spacy" or name.startswith("spacy."):
            raise ImportError("no spacy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_spacy)
    with pytest.raises(Exception, match=r"needs spaCy: pip install 'xlner\[spacy\]'"):
        output_format(tmp_path / "o.spacy")


def test_to_hf_dataset():
    pytest.importorskip("datasets")
    dataset = to_hf_dataset(SENTENCES)
    names = dataset.features["ner_tags"].feature.names
    assert names == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert [names[k] for k in dataset[0]["ner_tags"]] == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert dataset[1]["tokens"] == ["Nothing", "here"]
    assert to_hf_dataset(SENTENCES, label_names="PER,LOC,ORG").features["ner_tags"].feature.names[:3] == [
        "O",
        "B-PER",
        "I-PER",
    ]
    with pytest.raises(InputError, match="B-PER is not among"):
        to_hf_dataset(SENTENCES, label_names="LOC")


@pytest.fixture
def project_files(tmp_path):
    src = tmp_path / "src.conll"
    src.write_text("John\tB-PER\nlives\tO\nin\tO\nBerlin\tB-LOC\n\n", encoding="utf-8")
    tgt = tmp_path / "tgt.txt"
    tgt.write_text("John wohnt in Berlin\n", encoding="utf-8")
    al = tmp_path / "al.pharaoh"
    al.write_text("0-0 1-1 2-2 3-3\n", encoding="utf-8")
    return tmp_path, ["project", "-s", str(src), "-t", str(tgt), "--alignment", str(al), "--method", "heuristic"]


@pytest.mark.parametrize("suffix", [".conll", ".jsonl", ".spacy"])
def test_project_writes_by_suffix(project_files, suffix):
    if suffix == ".spacy":
        pytest.importorskip("spacy")
    folder, args = project_files
    out = folder / f"out{suffix}"
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".spacy":
        import spacy
        from spacy.tokens import DocBin

        (doc,) = DocBin().from_disk(out).get_docs(spacy.blank("xx").vocab)
        assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 1, "PER"), (3, 4, "LOC")]
    else:
        assert read_sentences(out)[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
        assert out.read_text(encoding="utf-8").startswith("{" if suffix == ".jsonl" else "John\tB-PER")


def test_unknown_suffix_refused_before_any_work(project_files):
    folder, args = project_files
    one_error(runner.invoke(app, [*args, "-o", str(folder / "out.csv")]), "unknown output suffix '.csv'")
    assert not (folder / "out.csv").exists()
    (folder / "mt.txt").write_text("John wohnt in Berlin\n", encoding="utf-8")
    pipeline = [
        "translate-train",
        str(folder / "src.conll"),
        "--lang",
        "deu",
        "--translator",
        "file",
        "--translations",
        str(folder / "mt.txt"),
        "--no-cache",
        "-o",
        str(folder / "silver.xyz"),
    ]
    one_error(runner.invoke(app, pipeline), "unknown output suffix '.xyz'")
    assert not (folder / "silver.xyz").exists()
    result = runner.invoke(
        app,
        [
            *pipeline[:-1],
            str(folder / "silver.jsonl"),
            "--aligner",
            "pharaoh",
            "--aligner-option",
            f"path={folder / 'al.pharaoh'}",
            "--method",
            "heuristic",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((folder / "silver.jsonl").read_text(encoding="utf-8"))["ner_tags"] == ["B-PER", "O", "O", "B-LOC"]


def test_align_reads_a_pairs_file(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the house ||| das Haus\na dog ||| ein Hund\n", encoding="utf-8")
    assert read_pairs(pairs) == [(["the", "house"], ["das", "Haus"]), (["a", "dog"], ["ein", "Hund"])]
    links = tmp_path / "given.pharaoh"
    links.write_text("0-0 1-1\n0-1\n", encoding="utf-8")
    out = tmp_path / "out.pharaoh"
    result = runner.invoke(
        app, ["align", str(pairs), "-o", str(out), "--aligner", "pharaoh", "--option", f"path={links}"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "0-0 1-1\n0-1\n"
    bad = tmp_path / "bad.txt"
    bad.write_text("the house ||| das Haus\nno separator here\n", encoding="utf-8")
    one_error(runner.invoke(app, ["align", str(bad), "-o", str(out)]), f"{bad}:2:", "'source tokens ||| target tokens'")
    assert "|||" in runner.invoke(app, ["align", "--help"], env={"COLUMNS": "200"}).output
