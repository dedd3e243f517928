"""Readers and the tag policy (issue 14): --policy repair|strict, Hugging Face JSONL, sniffing, columns, lines, empty inputs.

Through the CLI on tiny files with `--alignment FILE.pharaoh`; errors are exit
2 with a single `error:` line. MasakhaNER 2.0 cases use ../shared/data (skipped
when absent unless CI=true).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics import f1_score, precision_score, recall_score
from typer.testing import CliRunner

from xlner.cli import app
from xlner.cli.inputs import read_input
from xlner.errors import InputError
from xlner.io import read_sentences, write_jsonl
from xlner.io.jsonl import read_jsonl_corpus, tag_names
from xlner.types import Sentence, Span

runner = CliRunner()
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SOURCE = "Anna B-PER\nlacht O\n\nin O\nBerlin B-LOC\n"
TARGET = "Anna rit\nin Berlino\n"
ALIGNMENT = "0-0 1-1\n0-0 1-1\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def one_error(result, *fragments: str) -> str:
    """Exit 2 and exactly one line, `error: ...`, containing every fragment."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def project(source: Path, target: Path, alignment: Path, output: Path, *extra: str):
    args = [
        "project",
        "-s",
        str(source),
        "-t",
        str(target),
        "--alignment",
        str(alignment),
        "--method",
        "heuristic",
        "-o",
        str(output),
        *extra,
    ]
    return runner.invoke(app, args)


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Path]:
    return {
        "src": write(tmp_path / "src.conll", SOURCE),
        "tgt": write(tmp_path / "tgt.txt", TARGET),
        "al": write(tmp_path / "al.pharaoh", ALIGNMENT),
        "out": tmp_path / "out.conll",
    }


# ---------------------------------------------------------------- --policy: evaluate equals seqeval


GOLD_TAGS = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "O"], ["B-LOC", "O", "B-PER"]]
PRED_TAGS = [["B-PER", "I-PER", "O", "I-LOC"], ["O", "I-ORG", "I-ORG", "O"], ["B-LOC", "I-PER", "B-PER"]]


def conll(tags_of: list[list[str]]) -> str:
    return "".join("".join(f"w{k} {tag}\n" for k, tag in enumerate(tags)) + "\n" for tags in tags_of)


def test_evaluate_default_policy_equals_seqeval(tmp_path):
    gold, pred = write(tmp_path / "g.conll", conll(GOLD_TAGS)), write(tmp_path / "p.conll", conll(PRED_TAGS))
    result = runner.invoke(app, ["evaluate", str(gold), str(pred), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["micro"]["f1"] == pytest.approx(f1_score(GOLD_TAGS, PRED_TAGS))
    assert data["micro"]["precision"] == pytest.approx(precision_score(GOLD_TAGS, PRED_TAGS))
    assert data["micro"]["recall"] == pytest.approx(recall_score(GOLD_TAGS, PRED_TAGS))
    assert data["repairs"] == {"gold": 0, "pred": 3}
    assert "repaired 3 invalid tags in" in result.stderr
    line = one_error(runner.invoke(app, ["evaluate", str(gold), str(pred), "--policy", "strict"]), f"{pred}:4:")
    assert line.endswith("rerun with --policy repair")
    one_error(runner.invoke(app, ["evaluate", str(gold), str(pred), "--policy", "lenient"]), "unknown policy 'lenient'")


def test_project_policy_on_source_and_gold(tiny, tmp_path):
    stray = write(tmp_path / "stray.conll", "Anna O\nlacht I-PER\n\nin O\nBerlin B-LOC\n")
    result = project(stray, tiny["tgt"], tiny["al"], tiny["out"])
    assert result.exit_code == 0, result.output
    assert "repaired 1 invalid tags in" in result.output and "projected 2 of 2" in result.output
    line = one_error(
        project(stray, tiny["tgt"], tiny["al"], tiny["out"], "--policy", "strict"), f"{stray}:2: I-PER after O"
    )
    assert line.endswith("rerun with --policy repair")


def test_translate_train_prints_its_repairs(tmp_path):
    en = write(tmp_path / "en.conll", "Anna O\nlacht I-PER\n\nin O\nBerlin B-LOC\n")
    args = [
        "translate-train",
        str(en),
        "--lang",
        "deu",
        "-o",
        str(tmp_path / "o.conll"),
        "--translator",
        "file",
        "--translations",
        str(write(tmp_path / "t.txt", TARGET)),
        "--tokenizer",
        "whitespace",
        "--aligner",
        "pharaoh",
        "--aligner-option",
        f"path={write(tmp_path / 'a.pharaoh', ALIGNMENT)}",
        "--method",
        "heuristic",
        "--no-cache",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "repaired 1 invalid tags in" in result.output
    one_error(runner.invoke(app, [*args, "--policy", "strict"]), "rerun with --policy repair")


# ---------------------------------------------------------------- MasakhaNER 2.0 with stray I- tags

STRAY = [
    "fon/train",
    "hau/test",
    "hau/train",
    "kin/dev",
    "kin/test",
    "kin/train",
    "lug/train",
    "luo/dev",
    "luo/train",
    "pcm/train",
    "swa/test",
    "yor/test",
    "yor/train",
]


def test_every_masakhaner2_file_reads_with_the_default_policy(shared_data):
    files = sorted((shared_data / "masakhaner2").glob("*/*.txt"))
    assert len(files) == 48
    repaired = set()
    for path in files:
        corpus = read_input(path)  # what project / translate-train / evaluate use
        assert corpus.format == "conll" and len(corpus) > 0 and corpus.entities() > 0
        if corpus.repairs:
            repaired.add(f"{path.parent.name}/{path.stem}")
    assert repaired == set(STRAY)


def test_project_reads_a_masakhaner2_file_with_a_stray_tag(shared_data, tmp_path):
    path = shared_data / "masakhaner2" / "kin" / "dev.txt"
    sentences = read_sentences(path, labels=False)
    identity = write(
        tmp_path / "id.pharaoh", "".join(" ".join(f"{k}-{k}" for k in range(len(s.tokens))) + "\n" for s in sentences)
    )
    out = tmp_path / "kin.conll"
    result = project(path, path, identity, out)
    assert result.exit_code == 0, result.output
    assert "repaired 1 invalid tags in" in result.output and f"onto {len(sentences)} sentences" in result.output
    one_error(project(path, path, identity, out, "--policy", "strict"), f"{path}:", "rerun with --policy repair")


# ---------------------------------------------------------------- Hugging Face JSONL


HF_STRINGS = (
    '{"id": "0", "tokens": ["Anna", "lacht"], "ner_tags": ["B-PER", "O"]}\n'
    '{"id": "1", "tokens": ["in", "Berlin"], "ner_tags": ["O", "B-LOC"]}\n'
)
HF_INTS = '{"id": "0", "tokens": ["Anna", "lacht"], "ner_tags": [1, 0]}\n{"id": "1", "tokens": ["in", "Berlin"], "ner_tags": [0, 3]}\n'


def test_project_hf_jsonl_source_with_string_tags(tiny, tmp_path):
    source = write(tmp_path / "hf.jsonl", HF_STRINGS)
    result = project(source, tiny["tgt"], tiny["al"], tiny["out"])
    assert result.exit_code == 0, result.output
    assert "projected 2 of 2 source entities" in result.output
    assert tiny["out"].read_text() == "Anna\tB-PER\nrit\tO\n\nin\tO\nBerlino\tB-LOC\n\n"


def test_project_hf_jsonl_integer_tags_need_label_names(tiny, tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    source = write(folder / "train.jsonl", HF_INTS)
    one_error(
        project(source, tiny["tgt"], tiny["al"], tiny["out"]), f"{source}:1:", "integer ner_tags need label names"
    )
    for names in ("PER,LOC", "O,B-PER,I-PER,B-LOC,I-LOC"):
        result = project(source, tiny["tgt"], tiny["al"], tiny["out"], "--label-names", names)
        assert result.exit_code == 0 and "projected 2 of 2" in result.output, result.output
    names_file = write(tmp_path / "names.txt", "O\nB-PER\nI-PER\nB-LOC\nI-LOC\n")
    assert (
        "projected 2 of 2"
        in project(source, tiny["tgt"], tiny["al"], tiny["out"], "--label-names", str(names_file)).output
    )
    features = {
        "features": {
            "ner_tags": {"feature": {"names": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], "_type": "ClassLabel"}}
        }
    }
    write(folder / "dataset_info.json", json.dumps(features))
    assert "projected 2 of 2" in project(source, tiny["tgt"], tiny["al"], tiny["out"]).output
    one_error(
        project(source, tiny["tgt"], tiny["al"], tiny["out"], "--label-names", "PER"),
        f"{source}:2:",
        "outside the 3 label names",
    )


def test_evaluate_reads_jsonl(tmp_path):
    gold = write(tmp_path / "gold.jsonl", HF_STRINGS)
    pred = write(tmp_path / "pred.conll", "Anna B-PER\nlacht O\n\nin O\nBerlin B-ORG\n")
    result = runner.invoke(app, ["evaluate", str(gold), str(pred), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["micro"]["correct"] == 1
    spans = write(
        tmp_path / "spans.jsonl",
        '{"tokens": ["Anna", "lacht"], "spans": [[0, 1, "PER"]]}\n{"tokens": ["in", "Berlin"]}\n',
    )
    data = json.loads(runner.invoke(app, ["evaluate", str(gold), str(spans), "--json"]).stdout)
    assert data["micro"]["correct"] == 1 and data["micro"]["predicted"] == 1


def test_labelled_source_without_entities_is_a_warning(tiny, tmp_path):
    source = write(tmp_path / "unlabelled.jsonl", '{"tokens": ["Anna", "lacht"]}\n{"tokens": ["in", "Berlin"]}\n')
    result = project(source, tiny["tgt"], tiny["al"], tiny["out"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "has no entity" in result.output


def test_plain_text_gold_is_an_error(tiny):
    one_error(project(tiny["src"], tiny["tgt"], tiny["al"], tiny["out"], "--evaluate"), "--evaluate needs labels")


@HYPOTHESIS
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["Köln", "東京", "a\u00a0b", "O", "B-PER", "x"]), min_size=1, max_size=8),
            st.data(),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_hf_jsonl_round_trip(tmp_path, cases, integers):
    originals = []
    for index, (tokens, data) in enumerate(cases):
        cuts = sorted(data.draw(st.sets(st.integers(0, len(tokens)), max_size=6)))
        spans = [
            Span(s, e, data.draw(st.sampled_from(["PER", "LOC", "ORG"])))
            for s, e in zip(cuts[::2], cuts[1::2])
            if s < e
        ]
        originals.append(Sentence(tokens, spans, str(index)))
    names = tag_names(["PER", "LOC", "ORG"]) if integers else None
    path = tmp_path / "rt.jsonl"
    write_jsonl(path, originals, layout="hf", label_names=names)
    assert all(("ner_tags" in json.loads(line)) for line in path.read_text().splitlines())
    assert list(read_jsonl_corpus(path, label_names=names)) == originals
    assert read_sentences(path, label_names=names) == originals


# ---------------------------------------------------------------- sniffing, columns, Pharaoh, lines


def test_mostly_conll_txt_with_one_bad_tag_line_is_an_error(tiny, tmp_path):
    body = "".join(f"w{k} O\n" + ("\n" if k % 3 == 2 else "") for k in range(30))
    lines = body.splitlines()
    lines[10] = "Bamako B_LOC"
    source = write(tmp_path / "masakha.txt", "\n".join(lines) + "\n")
    one_error(project(source, tiny["tgt"], tiny["al"], tiny["out"]), f"{source}:11:", "expected TOKEN TAG")
    result = runner.invoke(
        app,
        [
            "align",
            str(source),
            str(source),
            "-o",
            str(tmp_path / "a.pharaoh"),
            "--aligner",
            "pharaoh",
            "--option",
            f"path={tiny['al']}",
        ],
    )
    one_error(result, f"{source}:11:")


def test_conll_columns_split_on_ascii_space_and_tab_only(tmp_path):
    source = write(tmp_path / "s.conll", "New\u00a0York B-LOC\n")
    target = write(tmp_path / "t.conll", "Nueva\u00a0York\tO\n")
    out = tmp_path / "o.conll"
    result = project(source, target, write(tmp_path / "a.pharaoh", "0-0\n"), out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "Nueva\u00a0York\tB-LOC\n\n"


def test_pharaoh_line_ending_in_a_tab_keeps_its_links(tiny, tmp_path):
    tabbed = write(tmp_path / "tab.pharaoh", "0-0 1-1\t\n0-0\t1-1\n")
    result = project(tiny["src"], tiny["tgt"], tabbed, tiny["out"])
    assert result.exit_code == 0, result.output
    assert "projected 2 of 2" in result.output
    with_ids = write(tmp_path / "ids.pharaoh", "0\t0-0 1-1\n1\t0-0 1-1\n")
    assert "projected 2 of 2" in project(tiny["src"], tiny["tgt"], with_ids, tiny["out"]).output
    out_of_order = write(tmp_path / "order.pharaoh", "0\t0-0 1-1\n2\t0-0 1-1\n")
    one_error(project(tiny["src"], tiny["tgt"], out_of_order, tiny["out"]), f"{out_of_order}:2:", "out of order")
    repeated = write(tmp_path / "rep.pharaoh", "s1\t0-0\ns1\t0-0\n")
    one_error(project(tiny["src"], tiny["tgt"], repeated, tiny["out"]), f"{repeated}:2:", "repeats line 1")


def test_lines_split_on_newline_only(tiny, tmp_path):
    target = write(tmp_path / "t.txt", "Anna rit\u2028!\r\nin Berlino\n")
    result = project(tiny["src"], target, tiny["al"], tiny["out"])
    assert result.exit_code == 0, result.output
    assert tiny["out"].read_text(encoding="utf-8") == "Anna\tB-PER\nrit\u2028!\tO\n\nin\tO\nBerlino\tB-LOC\n\n"
    result = runner.invoke(
        app,
        [
            "align",
            str(target),
            str(tiny["tgt"]),
            "-o",
            str(tmp_path / "a.pharaoh"),
            "--aligner",
            "pharaoh",
            "--option",
            f"path={tiny['al']}",
        ],
    )
    assert result.exit_code == 0 and "aligned 2 sentence pairs" in result.output, result.output


# ---------------------------------------------------------------- empty inputs, mismatches before the pipeline


def test_empty_inputs_are_errors(tiny, tmp_path):
    empty, blank = write(tmp_path / "empty.conll", ""), write(tmp_path / "blank.txt", "\n\n  \n")
    one_error(project(empty, tiny["tgt"], tiny["al"], tiny["out"]), f"no sentences in {empty}")
    one_error(project(tiny["src"], blank, tiny["al"], tiny["out"]), f"no sentences in {blank}")
    one_error(runner.invoke(app, ["evaluate", str(empty), str(tiny["src"])]), f"no sentences in {empty}")
    result = runner.invoke(
        app,
        [
            "align",
            str(blank),
            str(blank),
            "-o",
            str(tmp_path / "a.pharaoh"),
            "--aligner",
            "pharaoh",
            "--option",
            f"path={tiny['al']}",
        ],
    )
    one_error(result, f"no sentences in {blank}")


def test_project_gold_mismatch_is_reported_before_alignment(tiny, tmp_path):
    gold = write(tmp_path / "gold.conll", "Anna B-PER\nrit O\n\nim O\nBerlino B-LOC\n")
    bad_alignment = write(tmp_path / "bad.pharaoh", "0-9\n0-9\n")  # would fail when the pipeline runs
    line = one_error(
        project(tiny["src"], tiny["tgt"], bad_alignment, tiny["out"], "--gold", str(gold)),
        "sentence 2 differs",
        f"{gold}:4",
        f"{tiny['tgt']}:2",
        "token 1 is 'im'",
    )
    assert "bad.pharaoh" not in line and not tiny["out"].exists()
    short = write(tmp_path / "short.conll", "Anna B-PER\nrit O\n")
    one_error(
        project(tiny["src"], tiny["tgt"], bad_alignment, tiny["out"], "--gold", str(short)), f"{short} has 1 sentences"
    )


@pytest.mark.parametrize("sharded", [False, True])
def test_translate_test_gold_mismatch_is_reported_before_the_pipeline(tmp_path, sharded):
    bad_alignment = write(tmp_path / "bad.pharaoh", "0-9\n0-9\n")  # would fail when the pipeline runs
    args = [
        "translate-test",
        str(write(tmp_path / "in.txt", TARGET)),
        "--lang",
        "deu",
        "-o",
        str(tmp_path / "o.conll"),
        "--translator",
        "file",
        "--translations",
        str(write(tmp_path / "en.txt", "Anna laughs\nin Berlin\n")),
        "--tokenizer",
        "whitespace",
        "--tagger",
        "gold",
        "--tagger-labels",
        str(write(tmp_path / "en.conll", "Anna B-PER\nlaughs O\n\nin O\nBerlin B-LOC\n")),
        "--aligner",
        "pharaoh",
        "--aligner-option",
        f"path={bad_alignment}",
        "--method",
        "heuristic",
        "--no-cache",
        "--gold",
        str(write(tmp_path / "gold.conll", "Anna B-PER\nrit O\n\nim O\nBerlino B-LOC\n")),
    ]
    if sharded:
        args += ["--shard-size", "1"]
    one_error(runner.invoke(app, args), "sentence 2 differs", f"{tmp_path / 'gold.conll'}:4", "token 1 is 'im'")
    assert not (tmp_path / "o.conll").exists()


def test_reader_errors_name_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", HF_STRINGS + '{"tokens": ["a"], "ner_tags": ["B-PER", "O"]}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:3: expected \"ner_tags\": a list of 1 tags"):
        read_sentences(path)
    both = write(
        tmp_path / "both.jsonl",
        '{"tokens": ["a"], "ner_tags": ["O"], "spans": []}\n{"tokens": ["a"], "ner_tags": ["O"], "spans": [[0, 1, "PER"]]}\n',
    )
    with pytest.raises(InputError, match=r"both\.jsonl:2: .*disagree"):
        read_sentences(both)


@pytest.mark.parametrize("sharded", [False, True])
def test_translate_test_output_equal_to_gold_is_an_error_and_gold_is_kept(tmp_path, sharded):
    gold = write(tmp_path / "gold.conll", "Anna B-PER\nlacht O\n\nin O\nBerlin B-LOC\n")
    alignment = write(tmp_path / "a.pharaoh", "0-0 1-1\n0-0 1-1\n")
    before = gold.read_text()
    args = [
        "translate-test",
        str(write(tmp_path / "in.txt", "Anna lacht\nin Berlin\n")),
        "--lang",
        "deu",
        "-o",
        str(gold),
        "--translator",
        "file",
        "--translations",
        str(write(tmp_path / "en.txt", "Anna laughs\nin Berlin\n")),
        "--tokenizer",
        "whitespace",
        "--tagger",
        "gold",
        "--tagger-labels",
        str(write(tmp_path / "en.conll", "Anna B-PER\nlaughs O\n\nin O\nBerlin B-LOC\n")),
        "--aligner",
        "pharaoh",
        "--aligner-option",
        f"path={alignment}",
        "--method",
        "heuristic",
        "--no-cache",
        "--gold",
        str(gold),
    ]
    if sharded:
        args += ["--shard-size", "1"]
    one_error(runner.invoke(app, args), "--output and --gold name the same file")
    assert gold.read_text() == before


@pytest.mark.parametrize("sharded", [False, True])
def test_translate_train_policy_strict_also_when_sharded(tmp_path, sharded):
    source = write(tmp_path / "en.conll", "Anna I-PER\nlaughs O\n\nin O\nBerlin B-LOC\n")
    out = tmp_path / "out.conll"
    args = [
        "translate-train",
        str(source),
        "--lang",
        "deu",
        "-o",
        str(out),
        "--translator",
        "file",
        "--translations",
        str(write(tmp_path / "de.txt", "Anna lacht\nin Berlin\n")),
        "--tokenizer",
        "whitespace",
        "--method",
        "heuristic",
        "--no-cache",
    ]
    if sharded:
        args += ["--shard-size", "1"]
    strict = runner.invoke(app, [*args, "--policy", "strict"])
    assert strict.exit_code == 2 and "I-PER after O" in strict.output and "Traceback" not in strict.output
    assert not out.exists()
    result = runner.invoke(app, args)  # the default policy reads I-PER after O as B-PER, as seqeval does
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n\n") == 2  # both sentences written
