"""The ``xlner`` command. Each sub-command lives in its own module of this package."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="xlner",
    help="Projection-based cross-lingual NER: translate, align, project, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-command modules register themselves on ``app`` when imported.
from xlner.cli import evaluate as _evaluate  # noqa: E402,F401
from xlner.cli import align as _align  # noqa: E402,F401
from xlner.cli import project as _project  # noqa: E402,F401
from xlner.cli import pipelines as _pipelines  # noqa: E402,F401
from xlner.cli import bench as _bench  # noqa: E402,F401
from xlner.cli import experiment as _experiment  # noqa: E402,F401


def main() -> None:
    """Entry point of the ``xlner`` console script."""
    app()
