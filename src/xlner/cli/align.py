"""``xlner align``: word-align two parallel files and write Pharaoh links."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, List, Optional

import typer

from xlner.cli import app
from xlner.cli.common import console, elapsed_status, err_console, show_defaults, user_errors

DEFAULTS: dict[str, Any] = {"output": None, "aligner": "eflomal"}


@app.command()
def align(
    src: Path = typer.Argument(
        ...,
        help="Source sentences: CoNLL, JSONL or tokenized text (one sentence per line); alone, a fast_align/awesome-align file of 'source tokens ||| target tokens' lines.",
    ),
    tgt: Optional[Path] = typer.Argument(
        None, help="Target sentences, same formats, same number of sentences; omit it when SRC holds both sides (|||)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Pharaoh output: one line of i-j links (source-target) per pair."
    ),
    aligner: Optional[str] = typer.Option(None, help="Aligner by name: eflomal, simalign, pharaoh, backtranslation."),
    extra_parallel: Optional[List[Path]] = typer.Option(
        None,
        "--extra-parallel",
        help="Extra line-aligned parallel text (file, prefix or folder) for eflomal; repeatable.",
    ),
    src_lang: Optional[str] = typer.Option(
        None, help="Source language code, e.g. en (picks files from --extra-parallel folders)."
    ),
    tgt_lang: Optional[str] = typer.Option(None, help="Target language code, e.g. de."),
    symmetrization: Optional[str] = typer.Option(
        None,
        help="eflomal: intersection, union, grow-diag, grow-diag-final or grow-diag-final-and (default: the offline recipe, xlner.recipe).",
    ),
    seed: Optional[int] = typer.Option(None, help="eflomal: random seed (default 0)."),
    lowercase: Optional[bool] = typer.Option(
        None, "--lowercase/--no-lowercase", help="eflomal: lowercase words (default on)."
    ),
    subword: Optional[str] = typer.Option(
        None,
        help="eflomal: align SentencePiece subwords: none, auto (words below 10k pairs; the offline recipe's default), a vocabulary size (8000) or per side (src=none,tgt=16000).",
    ),
    runs: Optional[int] = typer.Option(
        None, min=1, help="eflomal: runs with seeds seed, seed+1, ...; majority vote of their links (default 1)."
    ),
    subword_vote: Optional[bool] = typer.Option(
        None,
        "--subword-vote/--no-subword-vote",
        help="eflomal with subwords: also align words; keep links 3 of the 4 directional alignments share (default: the offline recipe).",
    ),
    priors: Optional[str] = typer.Option(
        None,
        metavar="true|false|auto",
        help="eflomal: true aligns --extra-parallel once and aligns the input alone with its cached priors; false aligns them together on every call; auto: true when there is extra text (default: the offline recipe).",
    ),
    aligner_option: Optional[List[str]] = typer.Option(
        None, "--aligner-option", help="Aligner option KEY=VALUE (e.g. method=itermax); repeatable."
    ),
    option: Optional[List[str]] = typer.Option(
        None, "--option", hidden=True, help="Deprecated alias of --aligner-option."
    ),
    config: Optional[Path] = typer.Option(
        None, "--config", help="TOML/YAML file with the same keys as these flags; flags override it."
    ),
) -> None:
    """Align SRC with TGT sentence by sentence and write the links to OUTPUT.

    With one file, `xlner align PAIRS.txt -o out.pharaoh` reads the fast_align / awesome-align
    input format: one `source tokens ||| target tokens` line per sentence pair.
    """
    with user_errors():
        from xlner.config import command_params, load_config, merge_options, parse_key_values
        from xlner.errors import InputError

        file_config = load_config(config, command_params(align))
        options = {  # --option is the deprecated name of --aligner-option, in flags and config keys alike
            **(file_config.get("option") or {}),
            **(file_config.get("aligner_option") or {}),
            **parse_key_values(option),
            **parse_key_values(aligner_option),
        }
        eflomal_flags = dict(
            extra_parallel=[str(p) for p in extra_parallel or []] or None,
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            symmetrization=symmetrization,
            seed=seed,
            lowercase=lowercase,
            subword=subword,
            runs=runs,
            subword_vote=subword_vote,
            priors=priors,
        )
        opts = merge_options(file_config, {"output": output, "aligner": aligner, **eflomal_flags}, DEFAULTS)
        eflomal_flags = {key: None if opts.get(key) == [] else opts.get(key) for key in eflomal_flags}
        if not opts["output"]:
            raise InputError("missing --output (or `output` in the config file)")
        from xlner.cli.inputs import plan_outputs

        plan = plan_outputs(
            {"--output": opts["output"]},
            {"SRC": src, "TGT": tgt, "--config": config, "--extra-parallel": eflomal_flags["extra_parallel"]},
        )
        with plan.commit():
            run_align(src, tgt, Path(opts["output"]), opts["aligner"], options, eflomal_flags)


show_defaults(align, DEFAULTS, required=("output",))


def run_align(
    src: Path, tgt: Path | None, output: Path, name: str, options: dict[str, Any], eflomal_flags: dict[str, Any]
) -> None:
    """Read both sides, check they pair up, align and write Pharaoh atomically."""
    from xlner.errors import InputError, XlnerError
    from xlner.io.atomic import is_stdout
    from xlner.io.pharaoh import write_pharaoh
    from xlner.io.text import read_corpus
    from xlner.registry import registry

    if tgt is None:
        from xlner.io.pairs import read_pairs

        token_pairs = read_pairs(src)
    else:
        sources = read_corpus(src, labels=False)
        targets = read_corpus(tgt, labels=False)
        if len(sources) != len(targets):
            raise InputError(
                f"{src} has {len(sources)} sentences but {tgt} has {len(targets)}; they must pair up line by line"
            )
        token_pairs = [(s.tokens, t.tokens) for s, t in zip(sources, targets)]
    given = {key: value for key, value in eflomal_flags.items() if value is not None}
    if name == "eflomal":
        options = {**given, **options}
    elif set(given) - {"src_lang", "tgt_lang"}:
        raise XlnerError(
            f"--{'/--'.join(sorted(k.replace('_', '-') for k in given))} only apply to the eflomal aligner, not {name!r}"
        )
    started = time.perf_counter()
    try:
        aligner = registry.aligners.create(name, **options)
    except TypeError as error:
        raise XlnerError(f"bad option for aligner {name!r}: {error}") from None
    with elapsed_status(f"aligning {len(token_pairs)} sentence pairs ({name})", aligner):
        alignments = aligner.align(token_pairs)
    elapsed = time.perf_counter() - started
    write_pharaoh(output, alignments)
    links = sum(len(a) for a in alignments)
    (err_console if is_stdout(output) else console).print(
        f"aligned {len(alignments)} sentence pairs ({links} links) in {elapsed:.1f} s -> {output}", highlight=False
    )
