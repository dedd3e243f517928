"""``xlner project``: project source entity spans onto target sentences."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, List, Optional

import typer

from xlner import recipe
from xlner.checks import check_project
from xlner.cli import app
from xlner.cli.common import console, elapsed_status, err_console, show_defaults, user_errors
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, plan_outputs, read_input, same_tokens
from xlner.config import command_params, load_config, merge_options, parse_key_values
from xlner.errors import InputError

DEFAULTS: dict[str, Any] = {
    "src_lang": "en",
    "tgt_lang": None,
    "aligner": "eflomal",
    "alignment": None,
    "extra_parallel": [],
    "symmetrization": recipe.SYMMETRIZATION,
    "method": "ilp",
    "preset": None,
    "option": {},
    "gold": None,
    "evaluate": False,
    "ignore": [],
    "map": [],
    "policy": "repair",
    "label_names": None,
    "details": None,
}


def _list_options(value: bool) -> None:
    """``--list-options``: print :func:`xlner.project.describe_methods` and exit 0."""
    if value:
        from xlner.project import describe_methods

        typer.echo(describe_methods())
        raise typer.Exit()


@app.command()
def project(
    source: Optional[Path] = typer.Option(None, "--source", "-s", help="Labelled source sentences (CoNLL or JSONL)."),
    target: Optional[Path] = typer.Option(
        None,
        "--target",
        "-t",
        help="Target sentences: CoNLL (labels ignored) or tokenized text, one sentence per line.",
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Projected target sentences, by suffix: .conll/.txt/.tsv IOB2 CoNLL, .jsonl JSONL (spans and ner_tags), .spacy spaCy DocBin; - for CoNLL on stdout. Required (here or in --config).",
    ),
    src_lang: Optional[str] = typer.Option(None, help="Source language code (default en)."),
    tgt_lang: Optional[str] = typer.Option(
        None, help="Target language code, e.g. de (picks files from --extra-parallel folders)."
    ),
    aligner: Optional[str] = typer.Option(None, help="Aligner by name (default eflomal)."),
    alignment: Optional[Path] = typer.Option(
        None, help="Precomputed Pharaoh alignments (i-j, source-target) instead of an aligner."
    ),
    extra_parallel: Optional[List[Path]] = typer.Option(
        None,
        "--extra-parallel",
        help="Extra line-aligned parallel text (file or folder) for the statistical aligner; repeatable.",
    ),
    symmetrization: Optional[str] = typer.Option(
        None,
        help="Symmetrization of eflomal's two directions (default: the offline recipe, xlner.recipe; see docs/benchmarks.md#defaults).",
    ),
    method: Optional[str] = typer.Option(
        None, help="heuristic, ilp (exact candidate matching) or greedy (default ilp)."
    ),
    preset: Optional[str] = typer.Option(None, help="Named preset of projection options."),
    option: Optional[List[str]] = typer.Option(None, "--option", help="Projection option KEY=VALUE; repeatable."),
    aligner_option: Optional[List[str]] = typer.Option(
        None, "--aligner-option", help="Aligner option KEY=VALUE; repeatable."
    ),
    gold: Optional[Path] = typer.Option(
        None, help="Gold target CoNLL: print strict span F1 of the projection against it."
    ),
    evaluate: bool = typer.Option(False, "--evaluate", help="Evaluate against the labels of --target (a CoNLL file)."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", help="Label mapped to O in evaluation (e.g. MISC); repeatable."
    ),
    map_: Optional[List[str]] = typer.Option(
        None, "--map", help="Label map A=B in evaluation (e.g. DATE=O); repeatable."
    ),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    label_names: Optional[str] = typer.Option(None, "--label-names", help=LABEL_NAMES_HELP),
    details: Optional[Path] = typer.Option(
        None,
        "--details",
        help="Also write one JSON line per sentence: tokens, alignment, each span's source, score and its parts, links, and unprojected entities with the reason (see xlner report).",
    ),
    config: Optional[Path] = typer.Option(
        None, help="TOML/YAML file with the same keys as these flags; flags override it."
    ),
    list_options: bool = typer.Option(
        False,
        "--list-options",
        is_eager=True,
        callback=_list_options,
        expose_value=False,
        help="List the projection methods, their options with defaults, and the presets, then exit.",
    ),
) -> None:
    """Project entity spans from SOURCE onto TARGET through a word alignment."""
    with user_errors():
        flags = dict(
            source=source,
            target=target,
            output=output,
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            aligner=aligner,
            alignment=alignment,
            extra_parallel=extra_parallel,
            symmetrization=symmetrization,
            method=method,
            preset=preset,
            gold=gold,
            ignore=ignore,
            map=map_,
            evaluate=evaluate or None,
            policy=policy,
            label_names=label_names,
            details=details,
        )
        opts = merge_options(load_config(config, command_params(project)), flags, DEFAULTS)
        projection_options = {**(opts.get("option") or {}), **parse_key_values(option)}
        aligner_options = {**(opts.get("aligner_option") or {}), **parse_key_values(aligner_option)}
        check_project(opts, aligner_options, projection_options)  # every option, before any work (xlner.checks)
        opts["policy"] = check_policy(opts.get("policy"))
        plan = plan_outputs(
            {"--output": opts.get("output"), "--details": opts.get("details")},
            {
                "--source": opts.get("source"),
                "--target": opts.get("target"),
                "--alignment": opts.get("alignment"),
                "--gold": opts.get("gold"),
                "--config": config,
                "--extra-parallel": opts.get("extra_parallel"),
            },
        )
        if opts.get("output"):
            from xlner.io.formats import output_format

            output_format(opts["output"])  # an unknown suffix before any work
        with plan.commit():
            run_projection(opts, projection_options, aligner_options)


show_defaults(project, DEFAULTS, required=("source", "target", "output"))


def run_projection(opts: dict[str, Any], projection_options: dict[str, Any], aligner_options: dict[str, Any]) -> None:
    """Read, align, project, write and (optionally) evaluate; prints stage timings."""
    from xlner.io import write_sentences
    from xlner.io.atomic import is_stdout
    from xlner.project import project as project_pairs
    from xlner.project.config import resolve_options
    from xlner.project.fusion import with_languages
    from xlner.types import Sentence, SentencePair

    for required in ("source", "target", "output"):
        if not opts.get(required):
            raise InputError(f"missing --{required} (or `{required}` in the config file)")
    options = dict(projection_options)
    if opts.get("preset"):
        options["preset"] = opts["preset"]
    options = with_languages(opts["method"], options, opts["src_lang"], opts["tgt_lang"])
    resolve_options(opts["method"], options)  # fail on a bad option before the slow alignment
    timings: dict[str, float] = {}
    started = time.perf_counter()
    names = opts.get("label_names")
    sources = read_input(opts["source"], policy=opts["policy"], label_names=names, labelled="--source")
    targets = read_input(opts["target"], labels=False)
    if len(sources) != len(targets):
        raise InputError(f"{opts['source']} has {len(sources)} sentences but {opts['target']} has {len(targets)}")
    gold_path = opts.get("gold") or (opts["target"] if opts.get("evaluate") else None)
    gold = None
    if gold_path:  # read and matched with the target before the slow alignment
        gold = read_input(
            gold_path, policy=opts["policy"], label_names=names, labelled="--gold" if opts.get("gold") else "--evaluate"
        )
        same_tokens(gold, targets)
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    token_pairs = [(s.tokens, t.tokens) for s, t in zip(sources, targets)]
    aligner = make_aligner(opts, aligner_options)
    with elapsed_status(
        f"aligning {len(token_pairs)} sentence pairs ({opts.get('alignment') or opts['aligner']})", aligner
    ):
        alignments = aligner.align(token_pairs)
    timings["align"] = time.perf_counter() - started

    started = time.perf_counter()
    pairs = [
        SentencePair(src_tokens=s.tokens, tgt_tokens=t.tokens, src_spans=list(s.spans), alignment=a, id=t.id)
        for s, t, a in zip(sources, targets, alignments)
    ]
    if opts.get("details"):
        from xlner.project.explain import project_explained, write_details

        results, records = project_explained(pairs, method=opts["method"], **options)
        projected = [r.spans for r in results]
        write_details(opts["details"], records)
    else:
        projected = project_pairs(pairs, method=opts["method"], **options)
    timings["project"] = time.perf_counter() - started

    write_sentences(
        opts["output"], [Sentence(tokens=t.tokens, spans=spans, id=t.id) for t, spans in zip(targets, projected)]
    )
    n_src = sum(len(s.spans) for s in sources)
    n_tgt = sum(len(spans) for spans in projected)
    out = err_console if is_stdout(opts["output"]) else console
    out.print(
        f"projected {n_tgt} of {n_src} source entities onto {len(targets)} sentences -> {opts['output']} "
        f"(align {timings['align']:.2f} s, project {timings['project'] * 1000:.1f} ms)"
    )
    if gold is not None:
        assert gold_path is not None  # gold is read from gold_path
        print_evaluation(Path(gold_path), gold, projected, opts)


def make_aligner(opts: dict[str, Any], aligner_options: dict[str, Any]):
    """The aligner named in ``opts`` (or the Pharaoh file given by ``--alignment``)."""
    from xlner.registry import registry

    if opts.get("alignment"):
        return registry.aligners.create("pharaoh", path=opts["alignment"])
    options = dict(aligner_options)
    if opts["aligner"] == "eflomal":
        options.setdefault("src_lang", opts["src_lang"])
        options.setdefault("tgt_lang", opts["tgt_lang"])
        options.setdefault("extra_parallel", [Path(p) for p in opts.get("extra_parallel") or []])
        if opts.get("symmetrization"):
            options.setdefault("symmetrization", opts["symmetrization"])
    return registry.aligners.create(opts["aligner"], **options)


def print_evaluation(gold_path: Path, gold, projected, opts: dict[str, Any]) -> None:
    """Strict span F1 of the projection against the gold target sentences (read and checked before)."""
    from xlner.io.atomic import is_stdout
    from xlner.metrics import LabelMap, evaluate_spans, render_report

    label_map = LabelMap.from_options(ignore=opts.get("ignore") or [], maps=opts.get("map") or [])
    report = evaluate_spans([g.spans for g in gold], projected, label_map=label_map)
    (err_console if is_stdout(opts["output"]) else console).print(
        render_report(report, title=f"{opts['output']} vs {gold_path}")
    )
