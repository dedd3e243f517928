"""`xlner evaluate GOLD PRED`: strict entity-span precision, recall and F1 (seqeval's default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer

from xlner.cli import app
from xlner.cli.common import console, user_errors
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, read_input


@app.command()
def evaluate(
    gold: Annotated[
        Path, typer.Argument(help="Gold CoNLL or JSONL file (xlner spans or Hugging Face tokens + ner_tags).")
    ],
    pred: Annotated[Path, typer.Argument(help="Predicted CoNLL or JSONL file with the same sentences and tokens.")],
    ignore: Annotated[
        Optional[List[str]], typer.Option("--ignore", help="Drop a label from both files (LABEL->O). Repeatable.")
    ] = None,
    maps: Annotated[
        Optional[List[str]],
        typer.Option("--map", help="Relabel OLD=NEW on both files, e.g. DATE=O or GPE=LOC. Repeatable."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    policy: Annotated[str, typer.Option(help=POLICY_HELP)] = "repair",
    label_names: Annotated[Optional[str], typer.Option("--label-names", help=LABEL_NAMES_HELP)] = None,
    tag_column: Annotated[int, typer.Option(help="Tag column, 0-based; negative counts from the end.")] = -1,
    scheme: Annotated[str, typer.Option(help="Tag scheme: auto, iob1, iob2, bioes or bilou.")] = "auto",
) -> None:
    """Score PRED against GOLD: per-label and micro-averaged strict span P/R/F1."""
    from xlner.io.conll import check_same_tokens
    from xlner.metrics import evaluate_spans, render_report
    from xlner.tags import LabelMap

    with user_errors():
        label_map = LabelMap.from_options(ignore or [], maps or [])
        options: dict[str, Any] = dict(
            tag_column=tag_column, scheme=scheme, policy=check_policy(policy), label_names=label_names
        )
        gold_data = read_input(gold, labelled="GOLD", **options)
        pred_data = read_input(pred, labelled="PRED", **options)
        check_same_tokens(gold_data, pred_data)
        report = evaluate_spans(
            [s.spans for s in gold_data.sentences], [s.spans for s in pred_data.sentences], label_map
        )
    report.extra = {
        "gold": str(gold),
        "pred": str(pred),
        "repairs": {"gold": gold_data.repairs, "pred": pred_data.repairs},
    }
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(render_report(report, title=f"{pred} against {gold}"))
