"""Issue 16 item 4: --version, project --list-options, consistent help screens, bench on Typer, "(cached)"."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import xlner
from xlner.bench import BENCHMARKS
from xlner.cache import StepCache, cached_map
from xlner.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def test_version_comes_from_the_installed_package():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    installed = importlib.metadata.version("xlner")
    assert result.output.strip() == f"xlner {installed}" and xlner.__version__ == installed
    declared = re.search(r'^version = "([^"]+)"', PYPROJECT.read_text(encoding="utf-8"), re.M).group(1)
    assert installed == declared


def test_project_list_options_needs_no_other_flag():
    from xlner.project import describe_methods

    result = runner.invoke(app, ["project", "--list-options"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == describe_methods().strip()
    assert "Presets:" in result.output and "ilp" in result.output


@pytest.mark.parametrize("command", [["project"], ["align"], ["evaluate"], ["translate-test"], ["translate-train"], []])
def test_help_has_no_bool_metavar_on_flags(command):
    text = _help(*command)
    assert "<bool>" not in text
    assert "--help" in text


def test_help_shows_defaults_and_required_markers():
    project = _help("project")
    for option, default in (
        ("--method", "ilp"),
        ("--aligner", "eflomal"),
        ("--src-lang", "en"),
        ("--policy", "repair"),
    ):
        line = next(line for line in project.splitlines() if option + " " in line)
        assert f"[default: ({default})]" in line, line
    assert project.count("Required (here or in --config).") == 3
    train = _help("translate-train")
    assert "[default: (hf)]" in train and "[default: (32)]" in train and "[default: (cache)]" in train
    assert train.count("Required (here or in --config).") == 2
    assert "*" in _help("align")  # Typer's required marker for -o


def _doc(module: str) -> str:
    source = Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    return ast.get_docstring(ast.parse(source))


def test_bench_help_lists_every_benchmark_with_its_whole_summary():
    text = " ".join(_help("bench").split())
    for name, module in BENCHMARKS.items():
        summary = " ".join(_doc(module).split("\n\n")[0].split())
        assert name in text and summary in text, name


def test_bench_name_help_shows_the_whole_docstring_and_options():
    text = _help("bench", "europarl")
    flat = " ".join(text.split())
    for paragraph in _doc("xlner.bench.europarl").split("\n\n"):
        assert " ".join(paragraph.split()) in flat
    assert "--seeds" in text and "--no-write" in text
    assert runner.invoke(app, ["bench", "nope"]).exit_code == 2


def test_cached_step_prints_cached_instead_of_a_bar(tmp_path, capsys):
    calls = []

    def double(batch):
        calls.append(len(batch))
        return [2 * x for x in batch]

    cache = StepCache.open(tmp_path, "tag", "double", {})
    assert cached_map(double, [1, 2, 3], cache=cache, batch_size=2, desc="tag") == [2, 4, 6]
    assert calls == [2, 1] and "(cached)" not in capsys.readouterr().err
    assert cached_map(double, [1, 2, 3], cache=cache, batch_size=2, desc="tag") == [2, 4, 6]
    err = capsys.readouterr().err
    assert calls == [2, 1] and "tag: 3 sent (cached)" in err and "0%" not in err
    assert cached_map(double, [1, 2, 3, 4, 5], cache=cache, batch_size=2, desc="tag") == [2, 4, 6, 8, 10]
    assert calls == [2, 1, 2, 1]  # the first batch reused, the rest computed
