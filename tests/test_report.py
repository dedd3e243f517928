"""The HTML report (xlner.report, `xlner report`): built from details records, self-contained, gold marks, errors."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.project.explain import project_explained, write_details
from xlner.report import build_report, label_colors, report_data
from xlner.types import Sentence, SentencePair, Span

runner = CliRunner()

PAIRS = [
    SentencePair(
        "Angela Merkel visited Paris .".split(),
        "Angela Merkel besuchte Paris .".split(),
        [Span(0, 2, "PER"), Span(3, 4, "LOC")],
        frozenset({(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)}),
        id="a",
    ),
    SentencePair(
        "the EU </script> <b>".split(),
        "die Union </script> <b>".split(),
        [Span(1, 2, "ORG")],
        frozenset({(0, 0)}),
        id="b",
    ),
]
GOLD = [
    Sentence(PAIRS[0].tgt_tokens, [Span(0, 2, "PER"), Span(3, 4, "ORG")]),
    Sentence(PAIRS[1].tgt_tokens, [Span(1, 2, "ORG")]),
]


def records():
    return project_explained(PAIRS, "ilp")[1]


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="xlner-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_page_is_self_contained_and_embeds_every_sentence():
    page = build_report(records(), GOLD)
    assert not re.search(r"https?://", page)  # no CDN, no font, no namespace URL: works offline
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert page.count("</script>") == 2  # a token "</script>" cannot end the data early
    data = embedded(page)
    assert [s["t"] for s in data["sentences"]] == [p.tgt_tokens for p in PAIRS]
    for element in (
        "count-sentences",
        "total-sentences",
        "count-spans",
        "total-spans",
        "filter-label",
        "filter-confidence",
        "filter-errors",
        "page-number",
        "page-count",
        "prev-page",
        "next-page",
        "metrics",
    ):
        assert f'id="{element}"' in page


def test_gold_marks_and_per_label_scores():
    data = report_data(records(), GOLD)
    first, second = data["sentences"]
    assert [(p["l"], p["ok"]) for p in first["p"]] == [("PER", True), ("LOC", False)]  # LOC vs gold ORG: false positive
    assert first["fn"] == [[3, 4, "ORG"]]  # and a false negative
    assert second["fn"] == [[1, 2, "ORG"]] and second["u"][0]["r"] == "no aligned word"
    scores = data["metrics"]["per_type"]
    assert scores["PER"]["f1"] == 1.0 and scores["LOC"]["precision"] == 0.0 and scores["ORG"]["recall"] == 0.0
    page = build_report(records(), GOLD)
    assert re.search(r"<th>micro</th><td>0\.500</td><td>0\.333</td><td>0\.400</td>", page)


def test_without_gold_no_metrics_and_colors_as_displacy():
    data = report_data(records())
    assert "metrics" not in data and "fn" not in data["sentences"][0] and "ok" not in data["sentences"][0]["p"][0]
    colors = label_colors(["PER", "ORG", "LOC", "MISC"])
    assert colors["ORG"] == "#7aecec" and colors["LOC"] == "#ff9561" and colors["PER"] == "#aa9cfc"
    assert colors["MISC"] not in ("#ddd", colors["ORG"], colors["LOC"], colors["PER"])


def test_gold_with_other_tokens_is_an_error():
    wrong = [GOLD[0], Sentence(["other"], [])]
    with pytest.raises(InputError, match="sentence 2: gold tokens differ"):
        report_data(records(), wrong)
    with pytest.raises(InputError, match="1 sentences but the details have 2"):
        report_data(records(), GOLD[:1])


def test_ten_thousand_sentences_build_quickly():
    many = records() * 5000
    started = time.perf_counter()
    page = build_report(many)
    assert time.perf_counter() - started < 10
    assert len(embedded(page)["sentences"]) == 10_000


def test_cli_report(tmp_path: Path):
    details, html = tmp_path / "d.jsonl", tmp_path / "r.html"
    write_details(details, records())
    gold = tmp_path / "gold.conll"
    gold.write_text(
        "Angela B-PER\nMerkel I-PER\nbesuchte O\nParis B-ORG\n. O\n\ndie O\nUnion B-ORG\n</script> O\n<b> O\n"
    )
    result = runner.invoke(app, ["report", str(details), "-o", str(html), "--gold", str(gold)])
    assert result.exit_code == 0, result.output
    assert "report of 2 sentences" in result.output
    assert embedded(html.read_text(encoding="utf-8"))["metrics"]["micro"]["support"] == 3


@pytest.mark.parametrize("case", ["same-file", "no-output", "bad-details", "gold-mismatch"])
def test_cli_report_errors(tmp_path: Path, case: str):
    details = tmp_path / "d.jsonl"
    write_details(details, records())
    args = ["report", str(details), "-o", str(tmp_path / "r.html")]
    expected = {
        "same-file": "name the same file",
        "no-output": "missing --output",
        "bad-details": "not a details record",
        "gold-mismatch": "gold tokens differ",
    }[case]
    if case == "same-file":
        args = ["report", str(details), "-o", str(details)]
    elif case == "no-output":
        args = args[:2]
    elif case == "bad-details":
        details.write_text('{"tokens": []}\n')
    else:
        (tmp_path / "g.conll").write_text("x B-PER\n\ny O\n")
        args += ["--gold", str(tmp_path / "g.conll")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.output
    assert not (tmp_path / "r.html").exists()
