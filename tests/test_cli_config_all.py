"""``--config`` on every command: each option is a config key, unknown keys and wrong types exit 2, strings stay one item."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from xlner.cli import app
from xlner.cli.align import align
from xlner.cli.evaluate import evaluate
from xlner.cli.pipelines import translate_test, translate_train
from xlner.cli.project import project
from xlner.config import command_params, load_config

runner = CliRunner()
COMMANDS = {
    "project": project,
    "align": align,
    "evaluate": evaluate,
    "translate-test": translate_test,
    "translate-train": translate_train,
}
POSITIONAL = {"project": [], "align": ["src.txt"], "evaluate": ["gold.conll", "pred.conll"]}


def _click_options(name: str) -> list[TyperOption]:
    """The options of ``xlner NAME`` that carry a value into the run (not --config, --help or eager actions)."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return [
        p for p in command.params if isinstance(p, TyperOption) and p.expose_value and p.name not in ("config", "help")
    ]


def _flag_key(option: TyperOption) -> str:
    """``--extra-parallel`` -> ``extra_parallel``: the key a user writes for a flag."""
    return max(option.opts, key=len).lstrip("-").replace("-", "_")


def _toml_value(key: str, kind: typing.Any) -> str:
    """A TOML value of the type of option ``key``."""
    if key == "option" or key.endswith("_option"):
        return "{k = 1}"
    if typing.get_origin(kind) is list:
        return '["a"]'
    return {bool: "true", int: "1", float: "0.5"}.get(kind, '"x"')


def _invoke(name: str, config: Path, *extra: str):
    return runner.invoke(app, [name, *POSITIONAL.get(name, ["input.txt"]), "--config", str(config), *extra])


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_a_config_key_named_as_its_flag(name, tmp_path):
    params = command_params(COMMANDS[name])
    options = _click_options(name)
    assert options
    assert sorted(_flag_key(o) for o in options) == sorted(params)
    for option in options:
        assert option.name is not None and option.name.rstrip("_") == _flag_key(option)
    path = tmp_path / "all.toml"
    path.write_text("\n".join(f"{key} = {_toml_value(key, kind)}" for key, kind in params.items()), encoding="utf-8")
    assert sorted(load_config(path, params)) == sorted(params)


@pytest.mark.parametrize("name", COMMANDS)
def test_unknown_key_exits_2_with_a_close_match(name, tmp_path):
    key = max(command_params(COMMANDS[name]), key=len)
    path = tmp_path / "run.toml"
    path.write_text(f'{key[:-1]} = "x"\n', encoding="utf-8")
    result = _invoke(name, path)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"unknown key '{key[:-1]}'" in text and f"did you mean {key}" in text and "run.toml" in text


@pytest.mark.parametrize("name", COMMANDS)
def test_wrong_type_names_the_key_and_the_file(name, tmp_path):
    params = command_params(COMMANDS[name])
    key = next(k for k, kind in params.items() if kind in (int, bool))
    path = tmp_path / "typed.toml"
    path.write_text(f'{key} = "many"\n', encoding="utf-8")
    result = _invoke(name, path)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "typed.toml" in text and f"{key}: expected" in text


def test_hidden_aliases_are_accepted_but_not_shown():
    shown = runner.invoke(app, ["align", "--help"], env={"COLUMNS": "200"}).output
    assert "--aligner-option" in shown and "--option " not in shown
    assert {"option", "aligner_option"} <= set(command_params(align))


GOLD = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n"
PRED = "EU B-ORG\nrejects O\nGerman O\ncall B-MISC\n\nPeter B-PER\nBlackburn I-PER\n"


def test_evaluate_config_ignore_string_is_one_label(tmp_path):
    gold, pred = tmp_path / "gold.conll", tmp_path / "pred.conll"
    gold.write_text(GOLD, encoding="utf-8")
    pred.write_text(PRED, encoding="utf-8")
    config = tmp_path / "eval.toml"
    config.write_text('ignore = "MISC"\njson = true\n', encoding="utf-8")

    def micro(*args: str) -> float:
        result = runner.invoke(app, ["evaluate", str(gold), str(pred), *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["micro"]["f1"]

    assert micro("--config", str(config)) == micro("--ignore", "MISC", "--json") == 1.0
    assert micro("--json") < 1.0
    config.write_text('scheme = "nonsense"\n', encoding="utf-8")  # a flag overrides the file
    assert runner.invoke(app, ["evaluate", str(gold), str(pred), "--config", str(config)]).exit_code == 2
    assert micro("--config", str(config), "--scheme", "auto", "--json") < 1.0


def test_project_config_ignore_string_is_one_label(tmp_path):
    source = tmp_path / "en.conll"
    source.write_text(GOLD, encoding="utf-8")
    target = tmp_path / "de.conll"
    target.write_text(PRED, encoding="utf-8")
    links = tmp_path / "links.pharaoh"
    links.write_text("0-0 1-1 2-2 3-3\n0-0 1-1\n", encoding="utf-8")
    out = tmp_path / "out.conll"
    config = tmp_path / "project.toml"
    config.write_text(
        f'source = "{source}"\ntarget = "{target}"\noutput = "{out}"\nalignment = "{links}"\n'
        'method = "heuristic"\nevaluate = true\nignore = "MISC"\n',
        encoding="utf-8",
    )

    def report(*args: str) -> str:
        result = runner.invoke(app, ["project", *args], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return re.sub(r"\(align [\d.]+ s, project [\d.]+ ms\)", "", " ".join(result.output.split()))  # no timings

    from_config = report("--config", str(config))
    assert "MISC" not in from_config.replace("MISC->O", "")
    flags = ["-s", str(source), "-t", str(target), "-o", str(out), "--alignment", str(links), "--method", "heuristic"]
    assert from_config == report(*flags, "--evaluate", "--ignore", "MISC")
    assert from_config != report(*flags, "--evaluate")


def test_align_reads_config_and_old_option_key(tmp_path):
    (tmp_path / "src.txt").write_text("a b c\nd e\n", encoding="utf-8")
    (tmp_path / "tgt.txt").write_text("x y\nz\n", encoding="utf-8")
    links = tmp_path / "links.pharaoh"
    links.write_text("0-0 2-1\n1-0\n", encoding="utf-8")
    out = tmp_path / "out.pharaoh"
    args = ["align", str(tmp_path / "src.txt"), str(tmp_path / "tgt.txt")]
    for key in ("aligner_option", "option"):
        config = tmp_path / f"{key}.yaml"
        config.write_text(f"aligner: pharaoh\noutput: {out}\n{key}: path={links}\n", encoding="utf-8")
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert out.read_text() == "0-0 2-1\n1-0\n"
        out.unlink()
    flag = runner.invoke(app, [*args, "-o", str(out), "--aligner", "pharaoh", "--aligner-option", f"path={links}"])
    assert flag.exit_code == 0, flag.output
    assert out.read_text() == "0-0 2-1\n1-0\n"


ALIASES = [  # command, option, its deprecated hidden name
    ("align", "--aligner-option", "--option"),
    ("project", "--projection-option", "--option"),
    ("translate-test", "--projection-option", "--method-option"),
    ("translate-train", "--projection-option", "--method-option"),
]


@pytest.mark.parametrize("name, new, old", ALIASES)
def test_old_option_names_are_hidden_aliases_and_config_keys(name, new, old):
    shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
    assert f"{new} " in shown and f"{old} " not in shown
    assert {new[2:].replace("-", "_"), old[2:].replace("-", "_")} <= set(command_params(COMMANDS[name]))


def test_projection_options_reach_the_method_under_both_names(tmp_path):
    source = tmp_path / "en.conll"
    source.write_text(GOLD, encoding="utf-8")
    translations = tmp_path / "tr.txt"
    translations.write_text("EU rejects German call\nPeter Blackburn\n", encoding="utf-8")
    links = tmp_path / "links.pharaoh"
    links.write_text("0-0 1-1 2-2 3-3\n0-0 1-1\n", encoding="utf-8")
    out = str(tmp_path / "out.conll")
    project_args = ["project", "-s", str(source), "-t", str(source), "-o", out, "--alignment", str(links)]
    train_args = ["translate-train", str(source), "--lang", "deu", "-o", out, "--translator", "file"]
    train_args += ["--translations", str(translations), "--tokenizer", "whitespace", "--no-cache"]
    for args, keys in (
        (project_args, ("projection_option", "option")),
        (train_args, ("projection_option", "method_option")),
    ):
        for key in keys:
            config = tmp_path / f"{key}.toml"
            config.write_text(f'{key} = "tresh=1"\n', encoding="utf-8")
            for extra in (["--" + key.replace("_", "-"), "tresh=1"], ["--config", str(config)]):
                result = runner.invoke(app, [*args, *extra])
                assert result.exit_code == 2 and "unknown option(s) tresh" in result.output, (extra, result.output)
