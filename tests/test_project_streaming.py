"""Streaming projection: `xlner project` and xlner.project.stream give the in-memory path's output byte for byte."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.bench.scale import synthetic_alignment
from xlner.cli import app
from xlner.io import read_conll, write_conll, write_pharaoh, write_sentences, write_tokenized
from xlner.project import project, project_detailed
from xlner.project.candidates import LONG_TARGET, generate_candidates
from xlner.project.explain import project_explained, write_details
from xlner.project.stream import CELL_BUDGET, chunks, explain_stream, project_stream, spans_stream
from xlner.types import Sentence, SentencePair, Span

runner = CliRunner()
N = 60


@pytest.fixture()
def sample(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    """The first N Europarl-NER en/de pairs: source CoNLL, target text, a Pharaoh file (diagonal links)."""
    src = read_conll(shared_data / "europarl-ner" / "en.test.conll").sentences[:N]
    tgt = read_conll(shared_data / "europarl-ner" / "de.test.conll").sentences[:N]
    paths = {"src": tmp_path / "en.conll", "tgt": tmp_path / "de.txt", "links": tmp_path / "links.pharaoh"}
    write_conll(paths["src"], src)
    write_tokenized(paths["tgt"], [t.tokens for t in tgt])
    write_pharaoh(paths["links"], [synthetic_alignment(s.tokens, t.tokens) for s, t in zip(src, tgt)])
    return paths


def in_memory(paths: dict[str, Path], method: str, out: Path, details: Path | None = None) -> None:
    """The whole-list path: read everything, project() the list, write it."""
    from xlner.io import read_pharaoh, read_tokenized

    src = read_conll(paths["src"]).sentences
    tgt = read_tokenized(paths["tgt"])
    pairs = [
        SentencePair(s.tokens, t, list(s.spans), a, id=str(k))
        for k, (s, t, a) in enumerate(zip(src, tgt, read_pharaoh(paths["links"])))
    ]
    if details is not None:
        results, records = project_explained(pairs, method=method)
        spans_of = [r.spans for r in results]
        write_details(details, records)
    else:
        spans_of = project(pairs, method=method)
    write_sentences(out, [Sentence(p.tgt_tokens, spans, p.id) for p, spans in zip(pairs, spans_of)])


def cli(paths: dict[str, Path], method: str, out: Path | str, *extra: str):
    args = ["project", "-s", str(paths["src"]), "-t", str(paths["tgt"]), "--alignment", str(paths["links"])]
    return runner.invoke(app, [*args, "--method", method, "-o", str(out), *extra])


@pytest.mark.parametrize("method", ["heuristic", "ilp"])
@pytest.mark.parametrize("suffix", [".conll", ".jsonl"])
@pytest.mark.parametrize("chunk_size", [1, 2, 7, N])
def test_cli_output_and_details_equal_the_in_memory_path(sample, tmp_path, monkeypatch, method, suffix, chunk_size):
    monkeypatch.setattr("xlner.cli.project.CHUNK_SIZE", chunk_size)
    expected, expected_details = tmp_path / f"expected{suffix}", tmp_path / "expected.details.jsonl"
    in_memory(sample, method, expected, expected_details)
    out, details = tmp_path / f"out{suffix}", tmp_path / "out.details.jsonl"
    result = cli(sample, method, out, "--details", str(details))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == expected.read_bytes()
    assert details.read_bytes() == expected_details.read_bytes()
    plain = tmp_path / f"plain{suffix}"
    in_memory(sample, method, expected)
    assert cli(sample, method, plain).exit_code == 0
    assert plain.read_bytes() == expected.read_bytes()
    assert b'"kept"' in details.read_bytes() and len(out.read_bytes()) > 1000


def test_evaluate_counts_chunks_as_one_report(sample, tmp_path, monkeypatch, shared_data):
    from xlner.metrics import LabelMap, SpanCounts, evaluate_spans

    gold = read_conll(shared_data / "europarl-ner" / "de.test.conll").sentences[:N]
    gold_path = tmp_path / "gold.conll"
    write_conll(gold_path, gold)
    pairs = [
        SentencePair(s.tokens, g.tokens, list(s.spans), frozenset(map(tuple, synthetic_alignment(s.tokens, g.tokens))))
        for s, g in zip(read_conll(sample["src"]).sentences, gold)
    ]
    projected = project(pairs, method="ilp")
    label_map = LabelMap.from_options(ignore=["MISC"], maps=[])
    counts = SpanCounts(label_map)
    for start in range(0, N, 7):
        counts.add([g.spans for g in gold[start : start + 7]], projected[start : start + 7])
    expected = evaluate_spans([g.spans for g in gold], projected, label_map=label_map)
    assert counts.report().to_dict() == expected.to_dict()
    monkeypatch.setattr("xlner.cli.project.CHUNK_SIZE", 7)
    result = cli(sample, "ilp", tmp_path / "out.conll", "--gold", str(gold_path), "--ignore", "MISC")
    assert result.exit_code == 0, result.output
    micro = [line for line in result.output.splitlines() if "micro avg" in line]
    assert expected.micro.predicted > 20 and len(micro) == 1
    assert [cell for cell in micro[0].split() if cell not in "│|"][-5:] == [
        f"{expected.micro.precision:.4f}",
        f"{expected.micro.recall:.4f}",
        f"{expected.micro.f1:.4f}",
        str(expected.micro.support),
        str(expected.micro.predicted),
    ]


def test_an_error_in_a_late_chunk_commits_no_output(sample, tmp_path, monkeypatch):
    monkeypatch.setattr("xlner.cli.project.CHUNK_SIZE", 2)
    lines = sample["links"].read_text(encoding="utf-8").splitlines()
    lines[-1] = "0-9999"
    bad = tmp_path / "bad.pharaoh"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, details = tmp_path / "out.conll", tmp_path / "out.details.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = cli({**sample, "links": bad}, "ilp", out, "--details", str(details))
    assert result.exit_code == 2
    assert f"{bad}:{N}: link 0-9999 is outside the sentence pair" in result.output
    assert out.read_text(encoding="utf-8") == "old\n" and not details.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_write_error_after_chunks_were_written_commits_nothing(sample, tmp_path, monkeypatch):
    monkeypatch.setattr("xlner.cli.project.CHUNK_SIZE", 1)
    lines = sample["tgt"].read_text(encoding="utf-8").splitlines()
    src = read_conll(sample["src"]).sentences
    src[N - 2] = Sentence(["x"], [], None)  # pair N-2 becomes ("x", "") with no links
    lines[N - 2] = ""
    write_conll(sample["src"], src)
    sample["tgt"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    links = sample["links"].read_text(encoding="utf-8").splitlines()
    links[N - 2] = ""
    sample["links"].write_text("\n".join(links) + "\n", encoding="utf-8")
    out, details = tmp_path / "out.conll", tmp_path / "out.details.jsonl"
    result = cli(sample, "heuristic", out, "--details", str(details))
    assert result.exit_code == 2 and f"sentence {N - 2}: an empty sentence cannot be written as CoNLL" in result.output
    assert not out.exists() and not details.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_source_errors_name_file_and_line_before_any_output(sample, tmp_path):
    text = sample["src"].read_text(encoding="utf-8").splitlines()
    last = len(text) - 1
    text[last] = text[last].split("\t")[0] + "\tI-PER"  # a stray I- after O in the last sentence
    sample["src"].write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "out.conll"
    result = cli(sample, "heuristic", out, "--policy", "strict")
    assert result.exit_code == 2 and f"{sample['src']}:{last + 1}:" in result.output, result.output
    assert not out.exists()


def test_outputs_to_dev_null_and_a_fifo(sample, tmp_path, monkeypatch):
    monkeypatch.setattr("xlner.cli.project.CHUNK_SIZE", 3)
    expected = tmp_path / "expected.conll"
    in_memory(sample, "ilp", expected)
    assert cli(sample, "ilp", os.devnull).exit_code == 0
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = cli(sample, "ilp", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert received == [expected.read_bytes()]
    assert fifo.is_fifo()


def test_project_stream_equals_the_whole_list_at_every_chunk_size(sample):
    from xlner.io import read_pharaoh, read_tokenized

    src = read_conll(sample["src"]).sentences
    pairs = [
        SentencePair(s.tokens, t, list(s.spans), a)
        for s, t, a in zip(src, read_tokenized(sample["tgt"]), read_pharaoh(sample["links"]))
    ]
    whole = project_detailed(pairs, "ilp")
    records = project_explained(pairs, "ilp")[1]
    for size in (1, 2, 13, N, 10 * N):
        streamed = list(project_stream(iter(pairs), "ilp", chunk_size=size))
        assert [(r.spans, r.scores, r.sources, r.confidence) for r in streamed] == [
            (r.spans, r.scores, r.sources, r.confidence) for r in whole
        ]
        assert [record for _, record in explain_stream(iter(pairs), "ilp", chunk_size=size)] == records
        assert list(spans_stream(pairs, "heuristic", chunk_size=size)) == project(pairs, "heuristic")
    assert sum(len(r.spans) for r in whole) > 20


def test_lowercase_word_label_uses_the_labels_of_the_whole_input():
    misc = SentencePair(["the", "Euro"], ["der", "Euro"], [Span(1, 2, "MISC")], frozenset({(1, 1)}))
    derived = SentencePair(["Belgian", "law"], ["belgisches", "Gesetz"], [Span(0, 1, "LOC")], frozenset({(0, 0)}))
    pairs = [misc, derived]
    whole = project(pairs, "ilp", lowercase_word_label="MISC")
    assert whole[1] == [Span(0, 1, "MISC")]
    labels = {s.label for p in pairs for s in p.src_spans}
    streamed = list(spans_stream(pairs, "ilp", chunk_size=1, source_labels=labels, lowercase_word_label="MISC"))
    assert streamed == whole
    details = list(explain_stream(pairs, "ilp", chunk_size=1, source_labels=labels, lowercase_word_label="MISC"))
    assert details[1][1]["spans"][0]["label"] == "MISC"
    assert list(spans_stream(pairs, "ilp", chunk_size=1, lowercase_word_label="MISC"))[1] == [Span(0, 1, "LOC")]


def test_stream_errors_name_the_pair_in_the_whole_input():
    good = SentencePair(["a"], ["b"], [], frozenset())
    with pytest.raises(Exception, match="sentence pair 3: no alignment"):
        list(project_stream([good, good, good, SentencePair(["a"], ["b"], [])], chunk_size=2))
    with pytest.raises(Exception, match="chunk_size must be a positive integer"):
        list(project_stream([good], chunk_size=0))


def test_chunks_keep_a_very_long_target_on_its_own():
    short = SentencePair(["A"], ["b"] * 10, [Span(0, 1, "PER")], frozenset())
    long = SentencePair(["A"], ["b"] * (CELL_BUDGET + 1), [Span(0, 1, "PER")], frozenset())
    sizes = [len(c) for c in chunks([short, short, long, short], chunk_size=100)]
    assert sizes == [2, 1, 1]
    assert [len(c) for c in chunks([short] * 5, chunk_size=2)] == [2, 2, 1]


def candidate_count(n_tgt: int, links: set[tuple[int, int]], max_words: int = 10) -> int:
    pair = SentencePair(["The", "Angela", "Merkel"], [f"w{k}" for k in range(n_tgt)], [Span(1, 3, "PER")], links)
    return len(generate_candidates([pair], max_words=max_words)[0])


def test_long_targets_keep_only_candidates_near_the_alignment():
    links = {(1, 100), (2, 101), (2, 900), (0, 5)}  # (0, 5): a word outside every entity does not count
    at_limit = candidate_count(LONG_TARGET, links)
    assert at_limit > LONG_TARGET * 9  # every n-gram of up to 10 words below the limit
    aligned, window, w = 3, 2 * 10 + 1, 10
    bound = aligned * window * w  # the documented bound: A * (2 * max_words + 1) * max_words
    for n in (LONG_TARGET + 1, 20_000, 200_000):
        count = candidate_count(n, links)
        assert count <= bound, (n, count)
    assert candidate_count(20_000, links) == candidate_count(200_000, links)
    pair = SentencePair(["Anna"], [f"w{k}" for k in range(5000)], [Span(0, 1, "PER")], frozenset({(0, 4000)}))
    spans = generate_candidates([pair])[0].spans()
    assert spans and all(3990 <= a and b <= 4011 for a, b in spans)
    assert (4000, 4001) in spans


def test_a_long_target_is_projected_with_bounded_candidates():
    n = 300_000
    tgt = [f"w{k % 977}" for k in range(n)]
    tgt[250_000] = "Merkel"
    pair = SentencePair(["Angela", "Merkel", "said"], tgt, [Span(0, 2, "PER")], frozenset({(1, 250_000), (2, 3)}))
    results = list(project_stream([pair], "ilp"))
    assert results[0].spans == [Span(250_000, 250_001, "PER")]
