"""Details records (xlner.project.explain): schema, scores equal to the projection's, reasons for unprojected entities."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.project import project_detailed
from xlner.project.config import resolve_options
from xlner.project.explain import REASONS, RECORD_KEYS, project_explained, read_details
from xlner.types import SentencePair, Span

runner = CliRunner()
SPAN_KEYS = {
    "source",
    "source_text",
    "source_label",
    "src_start",
    "src_end",
    "label",
    "start",
    "end",
    "text",
    "score",
    "parts",
    "links",
}
UNPROJECTED_KEYS = {"source", "source_text", "source_label", "src_start", "src_end", "reason", "candidate"}


def pair(src: str, tgt: str, spans, links, id=None) -> SentencePair:
    return SentencePair(src.split(), tgt.split(), [Span(*s) for s in spans], frozenset(links), id=id)


HAND = [
    pair(
        "Angela Merkel visited Paris and Berlin .",
        "Angela Merkel besuchte Paris und Berlin .",
        [(0, 2, "PER"), (3, 4, "LOC"), (5, 6, "LOC")],
        {(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)},
        "a",
    ),
    pair("the EU", "die", [(1, 2, "ORG")], {(0, 0)}, "b"),  # EU has no link and no similar word
    pair("New York", "NY", [(0, 1, "LOC"), (0, 2, "LOC")], {(0, 0), (1, 0)}, "c"),  # both want the one word
    pair("x", "y", [], set(), "d"),
    pair("the European Parliament", "das Europäische Parlament", [(1, 3, "ORG")], {(0, 0), (1, 1), (2, 2)}, "e"),
]


def random_pairs(n: int, seed: int = 0) -> list[SentencePair]:
    rng = random.Random(seed)
    words = "alpha beta gamma delta Berlin Paris Anna Maria union council river lake".split()
    pairs = []
    for _ in range(n):
        src = [rng.choice(words) for _ in range(rng.randint(1, 12))]
        tgt = [rng.choice(words) for _ in range(rng.randint(1, 12))]
        spans, at = [], 0
        while at < len(src):
            length = rng.randint(1, 3)
            if rng.random() < 0.4 and at + length <= len(src):
                spans.append(Span(at, at + length, rng.choice(["PER", "LOC", "ORG"])))
            at += length
        links = {(i, j) for i in range(len(src)) for j in range(len(tgt)) if rng.random() < 0.15}
        pairs.append(SentencePair(src, tgt, spans, frozenset(links)))
    return pairs


def check_schema(record: dict) -> None:
    assert set(record) == set(RECORD_KEYS)
    json.dumps(record)  # JSON-ready
    for span in record["spans"]:
        assert set(span) == SPAN_KEYS
        assert span["text"] == " ".join(record["tgt_tokens"][span["start"] : span["end"]])
        assert span["source_text"] == " ".join(record["src_tokens"][span["src_start"] : span["src_end"]])
        assert all(
            span["src_start"] <= i < span["src_end"] and span["start"] <= j < span["end"] for i, j in span["links"]
        )
        assert all([i, j] in record["alignment"] for i, j in span["links"])
    for item in record["unprojected"]:
        assert set(item) == UNPROJECTED_KEYS and item["reason"] in REASONS
        if item["candidate"] is not None:
            assert set(item["candidate"]) == {"start", "end", "text", "score", "parts"}
    sources = {s["source"] for s in record["spans"]} | {u["source"] for u in record["unprojected"]}
    assert sources == set(range(len(record["src_spans"])))  # every source entity is explained once


@pytest.mark.parametrize("method", ["ilp", "greedy", "heuristic"])
@pytest.mark.parametrize("pairs", [HAND, random_pairs(200)], ids=["hand", "random"])
def test_records_have_the_schema_and_the_projection_scores(method, pairs):
    results, records = project_explained(pairs, method)
    reference = project_detailed(pairs, method)
    assert [(r.spans, r.scores, r.sources, r.confidence, r.status) for r in results] == [
        (r.spans, r.scores, r.sources, r.confidence, r.status) for r in reference
    ]
    for record, result, p in zip(records, reference, pairs):
        check_schema(record)
        assert [(s["start"], s["end"], s["label"]) for s in record["spans"]] == [
            (s.start, s.end, s.label) for s in result.spans
        ]
        assert [s["score"] for s in record["spans"]] == result.scores
        assert [s["source"] for s in record["spans"]] == result.sources
        assert record["confidence"] == result.confidence and record["status"] == result.status
        assert record["src_tokens"] == p.src_tokens and record["id"] == p.id


def test_matching_score_is_the_weighted_mean_of_its_parts():
    pairs = random_pairs(200, seed=1)
    options = {"exact_match_score": None}  # no copy raises a fused score above its parts
    weights = resolve_options("ilp", options)["weights"]
    _, records = project_explained(pairs, "ilp", **options)
    spans = [s for r in records for s in r["spans"]]
    assert len(spans) > 50
    for span in spans:
        assert set(span["parts"]) == set(weights)
        mean = sum(w * span["parts"][name] for name, w in weights.items()) / sum(weights.values())
        assert span["score"] == pytest.approx(mean)


def reasons(records) -> dict[str, tuple[str, dict | None]]:
    return {f"{r['id']}:{u['source_text']}": (u["reason"], u["candidate"]) for r in records for u in r["unprojected"]}


def test_unprojected_reasons_of_candidate_matching():
    _, records = project_explained(HAND, "ilp")
    found = reasons(records)
    assert found["b:EU"] == ("no aligned word", None)
    reason, candidate = found["c:New York"]
    assert reason == "overlap" and candidate["text"] == "NY" and candidate["score"] > 0
    assert set(found) == {"b:EU", "c:New York"}  # every other entity was projected
    _, high = project_explained(HAND, "ilp", threshold=0.95)
    reason, candidate = reasons(high)["e:European Parliament"]
    assert reason == "below threshold" and candidate["text"] == "Europäische Parlament"
    assert 0 < candidate["score"] < 0.95 and set(candidate["parts"]) == {"alignment", "string"}
    _, none = project_explained(HAND, "ilp", constraint="<=0")
    assert reasons(none)["a:Paris"][0] == "constraint"


def test_unprojected_reasons_of_the_heuristic():
    _, records = project_explained(HAND, "heuristic")
    found = reasons(records)
    assert found["b:EU"] == ("no aligned word", None)
    assert found["a:Berlin"] == ("no aligned word", None)  # the heuristic uses links only
    reason, candidate = found["c:New York"]
    assert reason == "overlap" and candidate["text"] == "NY" and candidate["parts"] == {"alignment": candidate["score"]}
    pairs = [pair("the United States", "die USA", [(1, 3, "LOC")], {(0, 0), (1, 1), (2, 1)})]
    _, strict = project_explained(pairs, "heuristic", length_ratio_threshold=0.6)  # 1 word for 2: ratio 0.5
    reason, candidate = reasons(strict)["None:United States"]
    assert reason == "below threshold" and candidate["text"] == "USA"


# ---------------------------------------------------------------- the commands

SOURCE = "Anna B-PER\nlacht O\n\nin O\nBerlin B-LOC\nund O\nParis B-LOC\n"
TARGET = "Anna rit\nin Berlino\n"
ALIGNMENT = "0-0 1-1\n0-0 1-1\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"src": tmp_path / "src.conll", "tgt": tmp_path / "tgt.txt", "al": tmp_path / "al.pharaoh"}
    paths["src"].write_text(SOURCE)
    paths["tgt"].write_text(TARGET)
    paths["al"].write_text(ALIGNMENT)
    return paths


def read_records(path: Path) -> list[dict]:
    records = read_details(path)
    for record in records:
        check_schema(record)
    return records


@pytest.mark.parametrize("method", ["ilp", "heuristic"])
def test_project_details(files, tmp_path, method):
    out, details = tmp_path / "out.conll", tmp_path / "details.jsonl"
    result = runner.invoke(
        app,
        [
            "project",
            "-s",
            str(files["src"]),
            "-t",
            str(files["tgt"]),
            "--alignment",
            str(files["al"]),
            "-o",
            str(out),
            "--details",
            str(details),
            "--method",
            method,
        ],
    )
    assert result.exit_code == 0, result.output
    records = read_records(details)
    assert [r["tgt_tokens"] for r in records] == [["Anna", "rit"], ["in", "Berlino"]]
    assert [(s["source_text"], s["text"]) for r in records for s in r["spans"]] == [
        ("Anna", "Anna"),
        ("Berlin", "Berlino"),
    ]
    assert [(u["source_text"], u["reason"]) for u in records[1]["unprojected"]] == [("Paris", "no aligned word")]


def test_project_details_same_as_output_is_an_error(files, tmp_path):
    out = tmp_path / "out.conll"
    out.write_text("keep\n")
    result = runner.invoke(
        app,
        [
            "project",
            "-s",
            str(files["src"]),
            "-t",
            str(files["tgt"]),
            "--alignment",
            str(files["al"]),
            "-o",
            str(out),
            "--details",
            str(out),
        ],
    )
    assert result.exit_code == 2 and result.output.startswith("error: ") and "name the same file" in result.output
    assert out.read_text() == "keep\n"


def test_project_details_not_written_when_the_run_fails(files, tmp_path):
    details = tmp_path / "details.jsonl"
    (tmp_path / "short.txt").write_text("Anna rit\n")
    result = runner.invoke(
        app,
        [
            "project",
            "-s",
            str(files["src"]),
            "-t",
            str(tmp_path / "short.txt"),
            "--alignment",
            str(files["al"]),
            "-o",
            str(tmp_path / "o.conll"),
            "--details",
            str(details),
        ],
    )
    assert result.exit_code == 2 and not details.exists() and not (tmp_path / "o.conll").exists()


def test_translate_train_and_test_details_have_the_same_schema(files, tmp_path):
    (tmp_path / "tr.txt").write_text(TARGET)
    common = [
        "--translator",
        "file",
        "--translations",
        str(tmp_path / "tr.txt"),
        "--tokenizer",
        "whitespace",
        "--aligner",
        "pharaoh",
        "--aligner-option",
        f"path={files['al']}",
        "--no-cache",
    ]
    train = runner.invoke(
        app,
        [
            "translate-train",
            str(files["src"]),
            "--lang",
            "ita",
            "-o",
            str(tmp_path / "silver.conll"),
            *common,
            "--min-confidence",
            "0.9",
            "--details",
            str(tmp_path / "train.jsonl"),
        ],
    )
    assert train.exit_code == 0, train.output
    records = read_records(tmp_path / "train.jsonl")
    assert [r["kept"] for r in records] == [True, False]  # the second sentence projects one of its two entities
    assert records[1]["unprojected"][0]["reason"] == "no aligned word"
    sharded = runner.invoke(
        app,
        [
            "translate-train",
            str(files["src"]),
            "--lang",
            "ita",
            "-o",
            str(tmp_path / "sharded.conll"),
            *common,
            "--min-confidence",
            "0.9",
            "--details",
            str(tmp_path / "sharded.jsonl"),
            "--shard-size",
            "2",
        ],
    )
    assert sharded.exit_code == 0, sharded.output  # the sharded job exports the same records
    assert (tmp_path / "sharded.jsonl").read_text(encoding="utf-8") == (tmp_path / "train.jsonl").read_text(
        encoding="utf-8"
    )
    # translate-test: the "target" input is the Italian text, the English side tagged by the gold tagger
    (tmp_path / "it.txt").write_text(TARGET)
    (tmp_path / "en.txt").write_text("Anna lacht\nin Berlin und Paris\n")
    test = runner.invoke(
        app,
        [
            "translate-test",
            str(tmp_path / "it.txt"),
            "--lang",
            "ita",
            "-o",
            str(tmp_path / "it.conll"),
            "--translator",
            "file",
            "--translations",
            str(tmp_path / "en.txt"),
            "--tokenizer",
            "whitespace",
            "--aligner",
            "pharaoh",
            "--aligner-option",
            f"path={files['al']}",
            "--no-cache",
            "--tagger",
            "gold",
            "--tagger-labels",
            str(files["src"]),
            "--details",
            str(tmp_path / "test.jsonl"),
        ],
    )
    assert test.exit_code == 0, test.output
    tested = read_records(tmp_path / "test.jsonl")
    assert [r["tgt_tokens"] for r in tested] == [r["tgt_tokens"] for r in records]
    assert [[(s["text"], s["score"]) for s in r["spans"]] for r in tested] == [
        [(s["text"], s["score"]) for s in r["spans"]] for r in records
    ]


def test_read_details_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:1: not a details record"):
        read_details(bad)
    bad.write_text("not json\n")
    with pytest.raises(InputError, match=r"bad.jsonl:1: not JSON"):
        read_details(bad)


def test_details_and_output_both_on_stdout_is_an_error(files):
    result = runner.invoke(
        app,
        [
            "project",
            "-s",
            str(files["src"]),
            "-t",
            str(files["tgt"]),
            "--alignment",
            str(files["al"]),
            "-o",
            "-",
            "--details",
            "-",
        ],
    )
    assert (
        result.exit_code == 2
        and result.output.strip()
        == "error: --output and --details both write to standard output: give one of them a file"
    )
