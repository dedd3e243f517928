"""``xlner report``: a self-contained HTML view of a ``--details`` file (:mod:`xlner.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from xlner.cli import app
from xlner.cli.common import console, user_errors
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, plan_outputs, read_input
from xlner.errors import InputError


@app.command()
def report(
    details: Path = typer.Argument(
        ..., help="Details JSONL written by --details (project, translate-test, translate-train)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="HTML file to write (self-contained, works offline). Required."
    ),
    gold: Optional[Path] = typer.Option(
        None,
        "--gold",
        help="Gold target sentences (CoNLL/JSONL, same sentences and tokens as the details): mark errors, per-label P/R/F1.",
    ),
    title: Optional[str] = typer.Option(None, "--title", help="Page title (default: the details file name)."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    label_names: Optional[str] = typer.Option(None, "--label-names", help=LABEL_NAMES_HELP),
) -> None:
    """Write an HTML report of DETAILS: sentence pairs, coloured entities, alignment links, scores on hover, filters."""
    with user_errors():
        from xlner.io.atomic import atomic_write
        from xlner.project.explain import read_details
        from xlner.report import build_report

        if output is None:
            raise InputError("missing --output (the HTML file to write)")
        policy = check_policy(policy)
        plan = plan_outputs({"--output": output}, {"DETAILS": details, "--gold": gold})
        records = read_details(details)
        gold_sentences = None
        if gold is not None:
            if not Path(gold).exists():
                raise InputError("gold file not found", gold)
            gold_sentences = read_input(gold, policy=policy, label_names=label_names, labelled="--gold")
        page = build_report(records, gold_sentences, title=title or f"xlner report: {Path(details).name}")
        with plan.commit():
            with atomic_write(output) as out:
                out.write(page)
    n_spans = sum(len(r.get("spans") or []) for r in records)
    console.print(f"report of {len(records)} sentences with {n_spans} projected spans -> {output}", highlight=False)
