"""`xlner evaluate` on small files: scores, JSON, label maps and clean errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xlner.cli import app

runner = CliRunner()

GOLD = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n\nBrussels B-LOC\n"
PRED = "EU B-ORG\nrejects O\nGerman B-MISC\ncall B-MISC\n\nPeter B-PER\nBlackburn O\n\nBrussels B-LOC\n"


def squash(text: str) -> str:
    """Output without whitespace, so rich's line wrapping cannot split what we look for."""
    return "".join(text.split())


def files(tmp_path, gold=GOLD, pred=PRED):
    g, p = tmp_path / "gold.conll", tmp_path / "pred.conll"
    g.write_text(gold, encoding="utf-8")
    p.write_text(pred, encoding="utf-8")
    return str(g), str(p)


def run(*args):
    return runner.invoke(app, ["evaluate", *args])


def test_json_scores(tmp_path):
    g, p = files(tmp_path)
    result = run(g, p, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sentences"] == 3 and data["labels"] == "labels: as given"
    assert data["micro"]["correct"] == 3 and data["micro"]["support"] == 4 and data["micro"]["predicted"] == 5
    assert data["per_type"]["PER"]["f1"] == 0.0 and data["per_type"]["LOC"]["f1"] == 1.0
    assert data["repairs"] == {"gold": 0, "pred": 0}


def test_table_shows_label_map_and_sentence_count(tmp_path):
    g, p = files(tmp_path)
    result = run(g, p, "--ignore", "MISC", "--map", "LOC=GPE")
    assert result.exit_code == 0, result.output
    out = squash(result.stdout)
    assert squash("3 sentences; labels: MISC->O, LOC->GPE") in out
    assert "GPE" in out and "MISC" not in out.replace("MISC->O", "")
    assert squash("micro avg") in out and "0.6667" in out  # P = R = 2/3 after dropping MISC


def test_ignore_changes_json(tmp_path):
    g, p = files(tmp_path)
    data = json.loads(run(g, p, "--json", "--ignore", "MISC").stdout)
    assert set(data["per_type"]) == {"LOC", "ORG", "PER"} and data["micro"]["support"] == 3


def test_different_sentence_counts(tmp_path):
    g, p = files(tmp_path, pred=PRED.rsplit("\n\n", 1)[0] + "\n")
    result = run(g, p)
    assert result.exit_code == 2
    assert squash(f"{g} has 3 sentences but {p} has 2") in squash(result.output)


def test_different_tokens_name_sentence_and_lines(tmp_path):
    g, p = files(tmp_path, pred=PRED.replace("Blackburn", "Blackbum"))
    result = run(g, p)
    assert result.exit_code == 2
    out = squash(result.output)
    assert squash(f"sentence 2 differs ({g}:6 and {p}:6): token 2 is 'Blackburn'") in out


def test_token_line_without_tag(tmp_path):
    g, p = files(tmp_path, pred=PRED.replace("Brussels B-LOC", "Brussels"))
    result = run(g, p)
    assert result.exit_code == 2
    assert squash(f"{p}:9: expected TOKEN and TAG, found 1 column") in squash(result.output)
    assert "Traceback" not in result.output


def test_unknown_prefix_strict_and_repair(tmp_path):
    g, p = files(tmp_path, pred=PRED.replace("Peter B-PER", "Peter X-PER"))
    for policy in ("strict", "repair"):
        result = run(g, p, "--policy", policy)
        assert result.exit_code == 2
        assert squash(f"{p}:6: unknown tag 'X-PER'") in squash(result.output)


def test_invalid_sequence_strict_fails_repair_counts(tmp_path):
    pred = PRED.replace("Brussels B-LOC", "Brussels I-LOC").replace("German B-MISC", "German I-ORG")
    g, p = files(tmp_path, pred=pred)
    result = run(g, p, "--scheme", "iob2", "--policy", "strict")
    assert result.exit_code == 2
    assert squash(f"{p}:3: I-ORG after O") in squash(result.output)
    result = run(g, p, "--scheme", "iob2", "--policy", "repair", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["repairs"] == {"gold": 0, "pred": 2}
    assert data["per_type"]["LOC"]["correct"] == 1 and data["per_type"]["ORG"]["predicted"] == 2


def test_bad_options(tmp_path):
    g, p = files(tmp_path)
    for args, message in [
        (["--map", "DATE"], "expected OLD=NEW"),
        (["--policy", "lenient"], "unknown policy"),
        (["--scheme", "io"], "unknown tag scheme"),
        (["--tag-column", "0"], "token column"),
    ]:
        result = run(g, p, *args)
        assert result.exit_code == 2, args
        assert squash(message) in squash(result.output)
    result = run(g, str(tmp_path / "missing.conll"))
    assert result.exit_code == 2 and squash("missing.conll: cannot read") in squash(result.output)
