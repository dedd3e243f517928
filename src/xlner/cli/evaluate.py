"""`xlner evaluate GOLD PRED`: strict entity-span precision, recall and F1 (seqeval's default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer

from xlner.cli import app
from xlner.cli.common import console, show_defaults, user_errors
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, read_input
from xlner.config import command_params, load_config, merge_options

DEFAULTS: dict[str, Any] = {
    "ignore": [],
    "map": [],
    "json": False,
    "policy": "repair",
    "label_names": None,
    "tag_column": -1,
    "scheme": "auto",
}


@app.command()
def evaluate(
    gold: Path = typer.Argument(..., help="Gold CoNLL or JSONL file (xlner spans or Hugging Face tokens + ner_tags)."),
    pred: Path = typer.Argument(..., help="Predicted CoNLL or JSONL file with the same sentences and tokens."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", help="Drop a label from both files (LABEL->O). Repeatable."
    ),
    map_: Optional[List[str]] = typer.Option(
        None, "--map", help="Relabel OLD=NEW on both files, e.g. DATE=O or GPE=LOC. Repeatable."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    label_names: Optional[str] = typer.Option(None, "--label-names", help=LABEL_NAMES_HELP),
    tag_column: Optional[int] = typer.Option(
        None, "--tag-column", help="Tag column, 0-based; negative counts from the end."
    ),
    scheme: Optional[str] = typer.Option(None, "--scheme", help="Tag scheme: auto, iob1, iob2, bioes or bilou."),
    config: Optional[Path] = typer.Option(
        None, "--config", help="TOML/YAML file with the same keys as these flags; flags override it."
    ),
) -> None:
    """Score PRED against GOLD: per-label and micro-averaged strict span P/R/F1."""
    from xlner.io.conll import check_same_tokens
    from xlner.metrics import evaluate_spans, render_report
    from xlner.tags import LabelMap

    with user_errors():
        flags = dict(
            ignore=ignore,
            map=map_,
            json=json_ or None,
            policy=policy,
            label_names=label_names,
            tag_column=tag_column,
            scheme=scheme,
        )
        opts = merge_options(load_config(config, command_params(evaluate)), flags, DEFAULTS)
        label_map = LabelMap.from_options(opts["ignore"] or [], opts["map"] or [])
        options: dict[str, Any] = dict(
            tag_column=opts["tag_column"],
            scheme=opts["scheme"],
            policy=check_policy(opts["policy"]),
            label_names=opts["label_names"],
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
    if opts["json"]:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(render_report(report, title=f"{pred} against {gold}"))


show_defaults(evaluate, DEFAULTS)
