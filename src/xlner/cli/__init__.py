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


def _no_flag_metavar() -> None:
    """Help screens show no ``<bool>`` type for flags (``--evaluate``, ``--help``), only for options taking a value."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_xlner", False):
        return

    def display_type_rich(self, ctx):  # noqa: ANN001
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._xlner = True  # type: ignore[attr-defined]
    setattr(TyperOption, "display_type_rich", display_type_rich)  # a patch of typer's class, not a method call


_no_flag_metavar()


def _print_version(value: bool) -> None:
    if value:
        from xlner import __version__

        typer.echo(f"xlner {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        expose_value=False,
        help="Print the version of xlner and exit.",
    ),
) -> None:
    """Projection-based cross-lingual NER: translate, align, project, evaluate."""


# Sub-command modules register themselves on ``app`` when imported.
from xlner.cli import align as _align  # noqa: E402,F401
from xlner.cli import bench as _bench  # noqa: E402,F401
from xlner.cli import evaluate as _evaluate  # noqa: E402,F401
from xlner.cli import experiment as _experiment  # noqa: E402,F401
from xlner.cli import pipelines as _pipelines  # noqa: E402,F401
from xlner.cli import project as _project  # noqa: E402,F401
from xlner.cli import report as _report  # noqa: E402,F401


def main() -> None:
    """Entry point of the ``xlner`` console script."""
    app()
