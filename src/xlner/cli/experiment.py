"""``xlner experiment CONFIG``: the encoder x language x dataset x method grid (see :mod:`xlner.experiment`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from xlner.cli import app
from xlner.cli.common import console, err_console, user_errors


@app.command()
def experiment(
    config: Path = typer.Argument(..., help="Experiment config (TOML or YAML), e.g. examples/multimodal.toml."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Output folder (overrides the config's output)."
    ),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Step cache (default: OUTPUT/cache)."),
    limit: Optional[int] = typer.Option(
        None, "--limit", help="Use only the first N sentences of every dataset (quick runs)."
    ),
    device: Optional[str] = typer.Option(
        None, "--device", help="Device of the encoders: cpu, cuda, cuda:1 (overrides the config)."
    ),
) -> None:
    """Run the grid of CONFIG and write results.md, results.json and plot.png into the output folder.

    Every step is cached: rerunning the same command resumes where it stopped.
    """
    from xlner.experiment import load_experiment, run_experiment

    with user_errors():
        from xlner.checks import check_cache_dir, check_int

        check_int("--limit", limit, 1)
        spec = load_experiment(config, output=output, cache_dir=cache_dir, limit=limit, device=device)
        check_cache_dir(spec.cache_dir, "--cache-dir" if cache_dir is not None else "cache_dir")
        data = run_experiment(spec, log=lambda line: err_console.print(line, highlight=False, markup=False))
        for line in data["summary"]:
            console.print(f"- {line}", highlight=False, markup=False)
        console.print(
            f"wrote {spec.output / 'results.md'}, results.json, plot.png ({data['seconds']:.0f} s)", highlight=False
        )
