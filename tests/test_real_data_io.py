"""Readers, metrics and `xlner evaluate` on the real files in ../shared/data."""

from __future__ import annotations

import json
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.io import read_conll, read_pharaoh, read_pharaoh_with_ids, read_sentences, write_conll

pytestmark = pytest.mark.shared_data
LANGS = ("en", "de", "es")


def provenance_counts(folder: Path) -> dict[str, dict[str, int]]:
    """The "Counts" table of europarl-ner/PROVENANCE.md: lang -> column -> number."""
    rows = [
        line for line in (folder / "PROVENANCE.md").read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    counts = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        counts[cells[0]] = {name: int(cell.replace(",", "")) for name, cell in zip(header[1:], cells[1:])}
    return counts


def raw_tags(path: Path) -> list[list[str]]:
    """Tag lists straight from the file (last column), independent of xlner's reader."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line.split()[-1])
        elif current:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


@pytest.mark.parametrize("lang", LANGS)
def test_europarl_counts_match_provenance(shared_data, lang):
    folder = shared_data / "europarl-ner"
    expected = provenance_counts(folder)[lang]
    data = read_conll(folder / f"{lang}.test.conll")
    assert data.scheme == "iob2" and data.repairs == 0
    assert len(data) == expected["sentences"] == 799
    assert sum(len(s.tokens) for s in data) == expected["tokens"]
    labels = Counter(span.label for sentence in data for span in sentence.spans)
    assert {f"B-{label}": n for label, n in labels.items()} == {k: v for k, v in expected.items() if k.startswith("B-")}


def test_europarl_reads_fast(shared_data):
    path = shared_data / "europarl-ner" / "en.test.conll"
    best = min(_timed(read_conll, path) for _ in range(3))
    assert best < 0.25  # typically ~15 ms; generous for a busy machine


def _timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def test_europarl_write_read_round_trip(shared_data, tmp_path):
    data = read_conll(shared_data / "europarl-ner" / "de.test.conll")
    write_conll(tmp_path / "de.conll", data.sentences)
    assert read_conll(tmp_path / "de.conll").sentences == data.sentences


def test_every_masakhaner_test_file_reads(shared_data):
    paths = sorted((shared_data / "masakhaner2").glob("*/test.txt"))
    assert len(paths) >= 16
    for path in paths:
        repaired = read_conll(path, policy="repair")
        assert len(repaired) > 0 and repaired.scheme == "iob2"
        assert read_sentences(path, policy="repair") == repaired.sentences  # .txt sniffed as CoNLL
        # Spans equal seqeval's chunks, sentence by sentence.
        for sentence, tags in zip(repaired.sentences, raw_tags(path), strict=True):
            ours = sorted((s.label, s.start, s.end - 1) for s in sentence.spans)
            assert ours == sorted(get_entities(tags))
        try:
            read_conll(path)
            assert repaired.repairs == 0
        except InputError as error:  # a few gold files hold stray I- tags: strict names them
            assert repaired.repairs > 0
            line = int(re.match(rf"{re.escape(str(path))}:(\d+): ", str(error)).group(1))
            tag = path.read_text(encoding="utf-8").split("\n")[line - 1].split()[-1]
            assert tag.startswith("I-") and f"{tag} after" in str(error)


runner = CliRunner()


def test_cli_same_file_scores_one(shared_data):
    folder = shared_data / "europarl-ner"
    path = str(folder / "de.test.conll")
    result = runner.invoke(app, ["evaluate", path, path, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    entities = sum(n for key, n in provenance_counts(folder)["de"].items() if key.startswith("B-"))
    assert data["sentences"] == 799 and data["micro"]["f1"] == 1.0 and data["micro"]["support"] == entities
    table = runner.invoke(app, ["evaluate", path, path])
    assert table.exit_code == 0 and "799 sentences" in table.stdout


def perturb(tag_lists: list[list[str]]) -> list[list[str]]:
    """Change some tags deterministically: relabel, drop, split and invent entities (some invalid)."""
    labels = ["PER", "ORG", "LOC", "MISC", "DATE"]
    out = []
    for i, tags in enumerate(tag_lists):
        new = list(tags)
        for k, tag in enumerate(new):
            h = (i * 31 + k * 17) % 29
            if tag != "O" and h == 0:
                new[k] = tag[:2] + labels[(labels.index(tag[2:]) + 1) % len(labels)] if tag[2:] in labels else "O"
            elif tag != "O" and h == 1:
                new[k] = "O"
            elif tag.startswith("I-") and h == 2:
                new[k] = "B-" + tag[2:]
            elif tag == "O" and h == 3:
                new[k] = ("I-" if k % 2 else "B-") + labels[k % 4]
        out.append(new)
    return out


def write_tags(path: Path, tokens: list[list[str]], tag_lists: list[list[str]]) -> None:
    path.write_text(
        "".join("".join(f"{w} {t}\n" for w, t in zip(ws, ts)) + "\n" for ws, ts in zip(tokens, tag_lists)),
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    "source, options, replace",
    [
        ("europarl-ner/en.test.conll", [], {}),
        ("europarl-ner/es.test.conll", ["--ignore", "MISC"], {"MISC": "O"}),
        ("masakhaner2/hau/test.txt", ["--map", "DATE=O"], {"DATE": "O"}),
    ],
)
def test_cli_json_equals_seqeval_on_perturbed_copy(shared_data, tmp_path, source, options, replace):
    gold_path = shared_data / source
    gold_tags = raw_tags(gold_path)
    tokens = [s.tokens for s in read_conll(gold_path, policy="repair").sentences]
    pred_tags = perturb(gold_tags)
    assert pred_tags != gold_tags
    pred_path = tmp_path / "pred.conll"
    write_tags(pred_path, tokens, pred_tags)

    result = runner.invoke(app, ["evaluate", str(gold_path), str(pred_path), "--json", "--policy", "repair", *options])
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)

    def mapped(tag_lists):
        return [["O" if replace.get(t[2:]) == "O" else t for t in tags] for tags in tag_lists]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = classification_report(mapped(gold_tags), mapped(pred_tags), output_dict=True)
    assert ours["sentences"] == len(gold_tags)
    assert 0.3 < ours["micro"]["f1"] < 1.0
    for key in ("precision", "recall"):
        assert ours["micro"][key] == pytest.approx(expected["micro avg"][key], abs=1e-12)
    assert ours["micro"]["f1"] == pytest.approx(expected["micro avg"]["f1-score"], abs=1e-12)
    types = {k: v for k, v in expected.items() if not k.endswith(" avg")}
    assert set(ours["per_type"]) == set(types)
    for label, scores in ours["per_type"].items():
        assert scores["f1"] == pytest.approx(types[label]["f1-score"], abs=1e-12)
        assert scores["support"] == types[label]["support"]


def test_real_alignment_files_read(shared_data):
    folder = shared_data / "conll-projection" / "automatic_projections" / "alignments" / "en2de"
    paths = sorted(folder.glob("*.talp"))
    assert paths
    counts = set()
    for path in paths[:3]:
        alignments = read_pharaoh(path)
        assert sum(map(len, alignments)) > len(alignments)
        counts.add(len(alignments))
    assert len(counts) == 1 and counts.pop() > 3000  # one line per CoNLL-2003 test sentence
    transalign = shared_data / "bam-translate-test" / "transalign" / "sample_data" / "bam-en-alignments.txt"
    ids, alignments = read_pharaoh_with_ids(transalign)
    assert ids[:3] == ["0", "1", "2"] and len(ids) == len(alignments) > 0
