"""Dataset loaders by name: local shared data, generic paths, and the `datasets` code path on local files."""

from __future__ import annotations

import json
import os

# Never touch the network: set before anything imports `datasets` / huggingface_hub.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402  (after the offline switches)

from xlner.datasets import describe_dataset, load_dataset, resolve_dataset, sentences_from_hf
from xlner.errors import InputError, XlnerError
from xlner.types import Span

TAG_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]


@pytest.fixture
def hf(tmp_path, monkeypatch):
    """The `datasets` module, offline, caching under tmp_path."""
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache", raising=False)
    return datasets


def tiny_dataset(datasets, with_id: bool = True):
    """Two rows with ClassLabel tags, built in memory (names deliberately not in index order of a CoNLL file)."""
    features = {
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=TAG_NAMES)),
    }
    data = {
        "tokens": [["Ada", "Lovelace", "visited", "Kano", "in", "May"], ["Nothing", "here"]],
        "ner_tags": [[1, 2, 0, 5, 0, 7], [0, 0]],
    }
    if with_id:
        features["id"] = datasets.Value("string")
        data["id"] = ["s-17", "s-18"]
    return datasets.Dataset.from_dict(data, features=datasets.Features(features))


# --- the conversion used by every hub load -------------------------------------------------------


def test_sentences_from_hf_names_tags_through_classlabel(hf):
    sentences = sentences_from_hf(tiny_dataset(hf))
    assert [s.id for s in sentences] == ["s-17", "s-18"]
    assert sentences[0].spans == [Span(0, 2, "PER"), Span(3, 4, "LOC"), Span(5, 6, "DATE")]
    assert sentences[1].spans == []


def test_sentences_from_hf_label_map_and_row_ids(hf):
    sentences = sentences_from_hf(tiny_dataset(hf, with_id=False), label_map={"DATE": "O", "LOC": "GPE"})
    assert [s.id for s in sentences] == ["0", "1"]
    assert sentences[0].spans == [Span(0, 2, "PER"), Span(3, 4, "GPE")]


def test_sentences_from_hf_string_tags(hf):
    dataset = hf.Dataset.from_dict({"tokens": [["in", "Abuja"]], "ner_tags": [["O", "B-LOC"]]})
    assert sentences_from_hf(dataset)[0].spans == [Span(1, 2, "LOC")]


def test_sentences_from_hf_errors(hf):
    with pytest.raises(XlnerError, match="no 'ner_tags' column"):
        sentences_from_hf(hf.Dataset.from_dict({"tokens": [["a"]]}))
    mismatched = hf.Dataset.from_dict({"tokens": [["a", "b"]], "ner_tags": [["O"]]})
    with pytest.raises(InputError, match="row 0: 2 tokens but 1 tags"):
        sentences_from_hf(mismatched, where="mine")
    invalid = hf.Dataset.from_dict({"tokens": [["a", "b"]], "ner_tags": [["O", "I-PER"]]})
    with pytest.raises(InputError, match="row 0, token 1"):
        sentences_from_hf(invalid, policy="strict")
    assert sentences_from_hf(invalid)[0].spans == [Span(1, 2, "PER")]  # repaired as seqeval does


def test_hub_code_path_on_local_parquet_folder(hf, tmp_path):
    """`datasets.load_dataset(<folder>)` is the same call as for a hub name; ClassLabel survives parquet."""
    repo = tmp_path / "my-ner"
    (repo / "data").mkdir(parents=True)
    tiny_dataset(hf).to_parquet(str(repo / "data" / "test-00000-of-00001.parquet"))
    sentences = load_dataset(str(repo), split="test", source="hub", label_map={"DATE": "O"})
    assert [s.id for s in sentences] == ["s-17", "s-18"]
    assert sentences[0].spans == [Span(0, 2, "PER"), Span(3, 4, "LOC")]
    with pytest.raises(XlnerError, match="cannot load"):
        load_dataset(str(repo), split="train", source="hub")


def test_save_to_disk_folder(hf, tmp_path):
    hf.DatasetDict({"validation": tiny_dataset(hf)}).save_to_disk(str(tmp_path / "saved"))
    sentences = load_dataset(str(tmp_path / "saved"), split="dev")
    assert sentences[0].tokens[:2] == ["Ada", "Lovelace"] and len(sentences) == 2
    with pytest.raises(XlnerError, match="no 'test' split"):
        load_dataset(str(tmp_path / "saved"), split="test")


def test_hub_failure_is_a_clear_error_offline(hf):
    with pytest.raises(XlnerError, match=r"masakhane/masakhaner2 \(config 'zul'\)"):
        load_dataset("masakhane/masakhaner2", "zul", source="hub")


# --- names, languages and errors -----------------------------------------------------------------


def test_resolve_names_and_unknown_name():
    assert resolve_dataset("MasakhaNER2").name == "masakhane/masakhaner2"
    assert resolve_dataset("panx").name == "google/xtreme"
    with pytest.raises(XlnerError) as info:
        load_dataset("masakhane/masakhaner3", "hau")
    message = str(info.value)
    assert (
        "unknown dataset" in message
        and "unimelb-nlp/wikiann" in message
        and "did you mean masakhane/masakhaner2" in message
    )


def test_unknown_language_and_split(tmp_path):
    with pytest.raises(XlnerError, match="unknown language 'hax'.*did you mean hau"):
        load_dataset("masakhane/masakhaner2", "hax", data_dir=tmp_path)
    with pytest.raises(XlnerError, match="needs a language"):
        load_dataset("masakhane/masakhaner2")
    with pytest.raises(XlnerError, match="unknown split 'tset'"):
        load_dataset("masakhane/masakhaner2", "hau", "tset")
    with pytest.raises(InputError, match="unknown source"):
        load_dataset("masakhane/masakhaner2", "hau", source="web")


def test_describe_dataset():
    assert (
        describe_dataset("masakhaner2", "ha", "validation", {"DATE": "O"}) == "MasakhaNER 2.0 hau dev (labels: DATE->O)"
    )
    assert describe_dataset("google/xtreme", "PAN-X.sw") == "XTREME PAN-X swa test (labels: as given)"
    assert describe_dataset("my.conll", split="train") == "my.conll train (labels: as given)"


# --- local layouts and generic paths --------------------------------------------------------------


def make_local_layout(root):
    folder = root / "masakhaner2" / "hau"
    folder.mkdir(parents=True)
    (folder / "test.txt").write_text("Musa B-PER\nya O\nje O\nKano B-LOC\njiya B-DATE\n\nTo O\n", encoding="utf-8")
    return folder


def test_local_layout_under_data_dir(tmp_path):
    make_local_layout(tmp_path)
    sentences = load_dataset("masakhaner2", "ha", data_dir=tmp_path, source="local", label_map={"DATE": "O"})
    assert [s.tokens for s in sentences] == [["Musa", "ya", "je", "Kano", "jiya"], ["To"]]
    assert sentences[0].spans == [Span(0, 1, "PER"), Span(3, 4, "LOC")]
    with pytest.raises(InputError, match="no train split"):
        load_dataset("masakhaner2", "hau", "train", data_dir=tmp_path, source="local")
    with pytest.raises(XlnerError, match="local languages hau"):
        load_dataset("masakhaner2", "yor", data_dir=tmp_path, source="local")
    with pytest.raises(InputError, match="no local copy of unimelb-nlp/wikiann"):
        load_dataset("wikiann", "sw", data_dir=tmp_path, source="local")


def test_generic_paths(tmp_path):
    conll = tmp_path / "gold.conll"
    conll.write_text("Ada B-PER\nsaid O\n\n", encoding="utf-8")
    assert load_dataset(str(conll))[0].spans == [Span(0, 1, "PER")]
    jsonl = tmp_path / "gold.jsonl"
    jsonl.write_text(
        json.dumps({"id": "x", "tokens": ["in", "Rome"], "spans": [[1, 2, "LOC"]]}) + "\n", encoding="utf-8"
    )
    assert load_dataset(str(jsonl), label_map={"LOC": "O"})[0].spans == []
    mmner = tmp_path / "twitter.txt"
    mmner.write_text("IMGID:9\nRT\tO\nMessi\tB-PER\n\n", encoding="utf-8")
    assert load_dataset(str(mmner))[0].id == "9"
    folder = tmp_path / "corpus" / "yor"
    folder.mkdir(parents=True)
    (folder / "dev.conll").write_text("Ilorin B-LOC\n", encoding="utf-8")
    assert load_dataset(str(tmp_path / "corpus"), "yo", "validation")[0].spans == [Span(0, 1, "LOC")]
    with pytest.raises(InputError, match="no test split found"):
        load_dataset(str(tmp_path / "corpus"), "yor", "test")


# --- the real shared data -------------------------------------------------------------------------


@pytest.mark.shared_data
def test_masakhaner2_local_matches_provenance_counts(shared_data):
    test = load_dataset("masakhane/masakhaner2", "hau", "test", data_dir=shared_data)
    assert len(test) == 1633 and sum(len(s.tokens) for s in test) == 44848
    assert any(span.label == "DATE" for s in test for span in s.spans)
    mapped = load_dataset("masakhaner2", "ha", "test", source="local", data_dir=shared_data, label_map={"DATE": "O"})
    assert [s.tokens for s in mapped] == [s.tokens for s in test]
    assert {span.label for s in mapped for span in s.spans} == {"PER", "ORG", "LOC"}
    assert len(load_dataset("masakhaner2", "swa", "dev", data_dir=shared_data)) == 942


@pytest.mark.shared_data
def test_wikiann_and_panx_names_share_local_files(shared_data):
    wikiann = load_dataset("unimelb-nlp/wikiann", "sw", "test", data_dir=shared_data)
    panx = load_dataset("google/xtreme", "PAN-X.sw", "test", data_dir=shared_data)
    assert len(wikiann) == 1000 and sum(len(s.tokens) for s in wikiann) == 5786
    assert [s.tokens for s in panx] == [s.tokens for s in wikiann]
    assert {span.label for s in wikiann for span in s.spans} <= {"PER", "ORG", "LOC"}
    assert len(load_dataset("wikiann", "am", "train", data_dir=shared_data)) == 100


@pytest.mark.shared_data
def test_auto_prefers_shared_data_dir(shared_data, monkeypatch):
    monkeypatch.setenv("XLNER_SHARED_DATA", str(shared_data))
    assert len(load_dataset("wikiann", "yo", "dev")) == 100
