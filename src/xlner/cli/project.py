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
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, plan_outputs
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
    "projection_option": {},
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
    projection_option: Optional[List[str]] = typer.Option(
        None, "--projection-option", help="Projection option KEY=VALUE; repeatable."
    ),
    option: Optional[List[str]] = typer.Option(
        None, "--option", hidden=True, help="Deprecated alias of --projection-option."
    ),
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
        projection_options = {  # --option is the deprecated name of --projection-option, in flags and config keys
            **(opts.get("option") or {}),
            **(opts.get("projection_option") or {}),
            **parse_key_values(option),
            **parse_key_values(projection_option),
        }
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


#: Sentence pairs projected (and held) at a time (see xlner.project.stream).
CHUNK_SIZE = 1000


def run_projection(opts: dict[str, Any], projection_options: dict[str, Any], aligner_options: dict[str, Any]) -> None:
    """Check the inputs, align, then project and write chunk by chunk; prints stage timings.

    Every input is read once to check it (errors name ``FILE:LINE`` before
    any long work), then again, a chunk of :data:`CHUNK_SIZE` pairs at a time,
    while projecting; outputs are written as the chunks come (into the
    temporary files that the output plan commits at the end). With
    ``--alignment`` nothing grows with the input but the sentence lengths;
    an aligner such as eflomal aligns the whole input at once, so its token
    lists are held until it is done.
    """
    from xlner.io.atomic import is_stdout
    from xlner.project import resolve

    for required in ("source", "target", "output"):
        if not opts.get(required):
            raise InputError(f"missing --{required} (or `{required}` in the config file)")
    options = dict(projection_options)
    if opts.get("preset"):
        options["preset"] = opts["preset"]
    options = resolve(opts["method"], options, opts["src_lang"], opts["tgt_lang"]).given  # checked before alignment
    timings: dict[str, float] = {}
    started = time.perf_counter()
    names = opts.get("label_names")
    source, src_lens = checked_input(opts["source"], policy=opts["policy"], label_names=names, labelled="--source")
    target, tgt_lens = checked_input(opts["target"], labels=False)
    if source.count != target.count:
        raise InputError(f"{opts['source']} has {source.count} sentences but {opts['target']} has {target.count}")
    gold_path = opts.get("gold") or (opts["target"] if opts.get("evaluate") else None)
    gold = None
    if gold_path:  # read and matched with the target before the slow alignment
        gold, _ = checked_input(
            gold_path,
            policy=opts["policy"],
            label_names=names,
            labelled="--gold" if opts.get("gold") else "--evaluate",
            same_as=target,
        )
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    aligner = make_aligner(opts, aligner_options)
    with elapsed_status(
        f"aligning {target.count} sentence pairs ({opts.get('alignment') or opts['aligner']})", aligner
    ):
        if opts.get("alignment"):
            check_alignment_file(Path(opts["alignment"]), src_lens, tgt_lens)
            alignments: Any = None
        else:
            token_pairs = [(s.tokens, t.tokens) for (_, s), (_, t) in zip(source.sentences(), target.sentences())]
            alignments = aligner.align(token_pairs)
            del token_pairs
    del src_lens, tgt_lens
    timings["align"] = time.perf_counter() - started

    counts = {"source": source.entities, "projected": 0}
    from xlner.metrics import SpanCounts, render_report
    from xlner.tags import LabelMap

    label_map = LabelMap.from_options(ignore=opts.get("ignore") or [], maps=opts.get("map") or [])
    evaluation = SpanCounts(label_map) if gold is not None else None
    project_timings: dict[str, float] = {"project": 0.0}
    sentences = projected_sentences(
        source, target, opts, options, alignments, gold, evaluation, counts, project_timings
    )
    write_projection(opts, sentences)
    timings["project"] = project_timings["project"]
    out = err_console if is_stdout(opts["output"]) else console
    out.print(
        f"projected {counts['projected']} of {counts['source']} source entities onto {target.count} sentences -> "
        f"{opts['output']} (align {timings['align']:.2f} s, project {timings['project'] * 1000:.1f} ms)"
    )
    if evaluation is not None:
        assert gold_path is not None  # gold is read from gold_path
        out.print(render_report(evaluation.report(), title=f"{opts['output']} vs {gold_path}"))


def checked_input(
    path: Any,
    *,
    labels: bool = True,
    policy: str = "repair",
    label_names: Any = None,
    labelled: str | None = None,
    same_as: Any = None,
) -> tuple[Any, Any]:
    """Check one input as :func:`xlner.cli.inputs.read_input` reads it, holding one sentence at a time.

    Returns the prepared :class:`~xlner.io.stream.SentenceFile` and the token
    count of each sentence. ``same_as``: a checked file whose tokens this one
    must repeat (as :func:`xlner.cli.inputs.same_tokens` checks it).
    """
    from xlner.cli.inputs import check_labels
    from xlner.io.stream import SentenceFile

    corpus = SentenceFile(path, labels=labels, policy=policy, label_names=label_names)
    mismatch: list[str] = []
    others = same_as.sentences() if same_as is not None else None

    def compare(index: int, line: int, tokens: list[str]) -> None:
        if others is None or mismatch:
            return
        other = next(others, None)
        if other is not None and other[1].tokens != tokens:
            mismatch.append(_difference(index, (path, line, tokens), (same_as.path, other[0], other[1].tokens)))

    lengths = corpus.check(compare if same_as is not None else None)
    if not corpus.has_tokens:
        raise InputError(f"no sentences in {path}")
    check_labels(path, corpus.format, corpus.repairs, lambda: bool(corpus.entities), labels, labelled)
    if same_as is not None:
        if corpus.count != same_as.count:
            raise InputError(f"{path} has {corpus.count} sentences but {same_as.path} has {same_as.count}")
        if mismatch:
            raise InputError(mismatch[0])
    return corpus, lengths


def _difference(index: int, gold: tuple[Any, int, list[str]], pred: tuple[Any, int, list[str]]) -> str:
    """The message of :func:`xlner.io.conll.check_same_tokens` for sentence ``index``."""
    (gold_path, gold_line, a), (pred_path, pred_line, b) = gold, pred
    where = f"sentence {index + 1} differs ({gold_path}:{gold_line} and {pred_path}:{pred_line})"
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"{where}: token {k + 1} is {x!r} in {gold_path} but {y!r} in {pred_path}"
    return f"{where}: {len(a)} tokens in {gold_path} but {len(b)} in {pred_path}"


def check_alignment_file(path: Path, src_lens: Any, tgt_lens: Any) -> None:
    """Check a Pharaoh file as :class:`xlner.align.file.PharaohAligner` does, one line at a time."""
    from xlner.io.stream import iter_pharaoh

    if not path.is_file():
        raise InputError("alignment file not found", path)
    count = 0
    bad: tuple[str, int] | None = None
    for number, links in iter_pharaoh(path):
        if bad is None and count < len(src_lens):
            n_src, n_tgt = src_lens[count], tgt_lens[count]
            for i, j in sorted(links):
                if i >= n_src or j >= n_tgt:
                    bad = (f"link {i}-{j} is outside the sentence pair ({n_src} source, {n_tgt} target words)", number)
                    break
        count += 1
    if count != len(src_lens):
        raise InputError(f"{count} alignment lines for {len(src_lens)} sentence pairs", path)
    if bad is not None:
        raise InputError(bad[0], path, bad[1])


def projected_sentences(
    source: Any,
    target: Any,
    opts: dict[str, Any],
    options: dict[str, Any],
    alignments: Any,
    gold: Any,
    evaluation: Any,
    counts: dict[str, int],
    timings: dict[str, float],
) -> Any:
    """Per chunk of pairs: (projected target sentences, details records), read and projected lazily."""
    from itertools import islice

    from xlner.io.stream import iter_pharaoh
    from xlner.project.stream import chunks, explain_stream, spans_stream
    from xlner.types import Sentence, SentencePair

    labels = frozenset(source.labels_seen)  # of the checking pass (each pass refills it)
    if alignments is None:
        alignments = (links for _, links in iter_pharaoh(opts["alignment"]))
    pairs = (
        SentencePair(src_tokens=s.tokens, tgt_tokens=t.tokens, src_spans=list(s.spans), alignment=a, id=t.id)
        for (_, s), (_, t), a in zip(source.sentences(), target.sentences(), alignments)
    )
    golds = (g for _, g in gold.sentences()) if gold is not None else None
    common = dict(chunk_size=CHUNK_SIZE, source_labels=labels, timings=timings, **options)
    for chunk in chunks(pairs, CHUNK_SIZE):
        if opts.get("details"):
            found = list(explain_stream(chunk, opts["method"], **common))
            spans_of = [result.spans for result, _ in found]
            records = [record for _, record in found]
        else:
            spans_of, records = list(spans_stream(chunk, opts["method"], **common)), []
        counts["projected"] += sum(len(spans) for spans in spans_of)
        if evaluation is not None and golds is not None:
            evaluation.add([g.spans for g in islice(golds, len(chunk))], spans_of)
        yield [Sentence(tokens=p.tgt_tokens, spans=spans, id=p.id) for p, spans in zip(chunk, spans_of)], records


def write_projection(opts: dict[str, Any], produced: Any) -> None:
    """Write the output (and ``--details``) as the chunks come, through :func:`xlner.io.atomic.atomic_write`."""
    import contextlib
    import json

    from xlner.io import write_sentences
    from xlner.io.atomic import atomic_write

    with contextlib.ExitStack() as stack:
        details = stack.enter_context(atomic_write(opts["details"])) if opts.get("details") else None

        def sentences() -> Any:
            for chunk, records in produced:
                if details is not None:
                    details.write("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
                yield from chunk

        write_sentences(opts["output"], sentences())


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
