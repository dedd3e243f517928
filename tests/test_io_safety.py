"""Output safety (issue 14): devices, FIFOs, links and `-` are never replaced; outputs never overwrite inputs.

Every case runs through the CLI with tiny files and `--alignment FILE.pharaoh`
(no aligner), asserting exit code 2 and a single `error:` line for errors. The
real /dev/null and /dev/stdout are never written (a regression would replace
them as root): a FIFO, a device node made in tmp_path (as root) and a link to
/proc/self/fd/1 in tmp_path stand in for them.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import InputError
from xlner.io import atomic_write, write_conll, write_jsonl, write_pharaoh
from xlner.io.atomic import check_outputs, is_stdout, output_kind
from xlner.types import Sentence, Span

runner = CliRunner()
XLNER = Path(sys.executable).with_name("xlner")

SOURCE = "Anna B-PER\nlacht O\n\nin O\nBerlin B-LOC\n"
TARGET = "Anna rit\nin Berlino\n"
ALIGNMENT = "0-0 1-1\n0-0 1-1\n"
GOLD = "Anna B-PER\nrit O\n\nin O\nBerlino B-LOC\n"
PROJECTED = "Anna\tB-PER\nrit\tO\n\nin\tO\nBerlino\tB-LOC\n\n"
GOLD_WRONG = "Anna O\nrit O\n\nin O\nBerlino B-PER\n"  # projection scores 0.0 against it


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("src", SOURCE), ("tgt", TARGET), ("al", ALIGNMENT), ("gold", GOLD_WRONG)):
        suffix = {"src": ".conll", "tgt": ".txt", "al": ".pharaoh", "gold": ".conll"}[name]
        paths[name] = tmp_path / f"{name}{suffix}"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def project(files: dict[str, Path], output, *extra: str):
    args = [
        "project",
        "-s",
        str(files["src"]),
        "-t",
        str(files["tgt"]),
        "--alignment",
        str(files["al"]),
        "--method",
        "heuristic",
        "-o",
        str(output),
        *extra,
    ]
    return runner.invoke(app, args)


def one_error(result, *fragments: str) -> str:
    """Exit 2 and exactly one line, `error: ...`, containing every fragment."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- streams: FIFO, device, -, /dev/stdout


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as handle:
            into.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


def test_output_fifo_is_streamed_and_stays_a_fifo(files, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = _read_fifo(fifo, received)
    result = project(files, fifo)
    thread.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received == [PROJECTED.encode()]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.fifo", *(p.name for p in files.values())])


def test_output_char_device_stays_a_device(files, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    try:
        with open(node, "w"):
            pass
    except OSError:
        pytest.skip("tmp_path does not allow device nodes (nodev)")
    result = project(files, node)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(node).st_mode) and os.lstat(node).st_rdev == os.makedev(1, 3)
    for writer, items in (
        (write_conll, [Sentence(["a"])]),
        (write_jsonl, [Sentence(["a"])]),
        (write_pharaoh, [{(0, 0)}]),
    ):
        writer(node, items)
        assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_output_dash_streams_to_stdout(files):
    result = project(files, "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(PROJECTED)
    assert "projected 2 of 2" in result.stderr and "projected" not in result.stdout


def test_output_dev_stdout_in_a_real_process(files, tmp_path):
    # /dev/stdout is a link to /proc/self/fd/1; a private link of the same kind keeps a regression (which would
    # replace the link with a file, as the old code did to /dev/stdout as root) inside tmp_path.
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    args = [
        str(XLNER),
        "project",
        "-s",
        str(files["src"]),
        "-t",
        str(files["tgt"]),
        "--alignment",
        str(files["al"]),
        "--method",
        "heuristic",
        "-o",
        str(stdout),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == PROJECTED and stdout.is_symlink()
    assert output_kind("/dev/stdout") == output_kind("/dev/fd/1") == "stream"
    assert "projected 2 of 2" in done.stderr
    assert is_stdout("/dev/stdout") and is_stdout("-") and not is_stdout(files["src"])


# ---------------------------------------------------------------- links, directories


def test_symlink_output_replaces_the_target_and_keeps_the_link(files, tmp_path):
    real = tmp_path / "real" / "target.conll"
    real.parent.mkdir()
    real.write_text("old O\n")
    link = tmp_path / "link.conll"
    link.symlink_to(real)
    result = project(files, link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == PROJECTED
    assert sorted(p.name for p in real.parent.iterdir()) == ["target.conll"]  # no temp file left


def test_directory_output_is_an_error(files, tmp_path):
    folder = tmp_path / "outdir"
    folder.mkdir()
    one_error(project(files, folder), "--output is a directory")
    result = runner.invoke(
        app,
        [
            "align",
            str(files["tgt"]),
            str(files["tgt"]),
            "-o",
            str(folder),
            "--aligner",
            "pharaoh",
            "--option",
            f"path={files['al']}",
        ],
    )
    one_error(result, "--output is a directory")


def test_missing_output_folder_is_created_but_a_file_parent_is_an_error(files, tmp_path):
    out = tmp_path / "new" / "deeper" / "out.conll"
    assert project(files, out).exit_code == 0
    assert out.read_text() == PROJECTED
    one_error(project(files, files["src"] / "x.conll"), "cannot create the folder of --output")


# ---------------------------------------------------------------- outputs naming inputs


def test_output_equal_to_gold_is_an_error_and_gold_is_kept(files):
    one_error(project(files, files["gold"], "--gold", str(files["gold"])), "--output and --gold name the same file")
    assert files["gold"].read_text() == GOLD_WRONG


def test_output_equal_to_evaluated_target_is_an_error(files, tmp_path):
    target = tmp_path / "target.conll"
    target.write_text(GOLD_WRONG)
    args = [
        "project",
        "-s",
        str(files["src"]),
        "-t",
        str(target),
        "--alignment",
        str(files["al"]),
        "-o",
        str(target),
        "--evaluate",
    ]
    one_error(runner.invoke(app, args), "--output and --target name the same file")
    assert target.read_text() == GOLD_WRONG


def test_output_equal_to_source_is_an_error(files):
    one_error(project(files, files["src"]), "--output and --source name the same file")
    assert files["src"].read_text() == SOURCE


def test_output_through_a_link_or_hard_link_to_an_input(files, tmp_path):
    soft = tmp_path / "soft.conll"
    soft.symlink_to(files["gold"])
    one_error(project(files, soft, "--gold", str(files["gold"])), "--output and --gold name the same file")
    hard = tmp_path / "hard.conll"
    os.link(files["gold"], hard)
    one_error(project(files, hard, "--gold", str(files["gold"])), "--output and --gold name the same file")
    dotted = tmp_path / "." / files["al"].name
    one_error(project(files, dotted), "--output and --alignment name the same file")
    assert files["gold"].read_text() == GOLD_WRONG and files["al"].read_text() == ALIGNMENT


def test_align_output_equal_to_an_input(files):
    result = runner.invoke(
        app,
        [
            "align",
            str(files["tgt"]),
            str(files["al"]),
            "-o",
            str(files["al"]),
            "--aligner",
            "pharaoh",
            "--option",
            f"path={files['al']}",
        ],
    )
    one_error(result, "--output and TGT name the same file")


# ---------------------------------------------------------------- translate-train: --details


@pytest.fixture
def train_files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "en": tmp_path / "en.conll",
        "tr": tmp_path / "tr.txt",
        "al": tmp_path / "al.pharaoh",
        "out": tmp_path / "out.conll",
    }
    paths["en"].write_text(SOURCE)
    paths["tr"].write_text(TARGET)
    paths["al"].write_text(ALIGNMENT)
    paths["out"].write_text("keep O\n")
    return paths


def translate_train(paths: dict[str, Path], *extra: str):
    args = [
        "translate-train",
        str(paths["en"]),
        "--lang",
        "deu",
        "-o",
        str(paths["out"]),
        "--translator",
        "file",
        "--translations",
        str(paths["tr"]),
        "--tokenizer",
        "whitespace",
        "--aligner",
        "pharaoh",
        "--aligner-option",
        f"path={paths['al']}",
        "--method",
        "heuristic",
        "--no-cache",
        *extra,
    ]
    return runner.invoke(app, args)


def test_translate_train_runs_and_writes_both_outputs(train_files, tmp_path):
    details = tmp_path / "d" / "details.jsonl"
    result = translate_train(train_files, "--details", str(details))
    assert result.exit_code == 0, result.output
    assert train_files["out"].read_text() == PROJECTED and len(details.read_text().splitlines()) == 2


def test_translate_train_bad_details_fails_before_output_is_touched(train_files, tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    before = os.stat(train_files["out"])
    one_error(translate_train(train_files, "--details", str(folder)), "--details is a directory")
    one_error(translate_train(train_files, "--details", str(train_files["en"] / "x.jsonl")), "--details")
    assert train_files["out"].read_text() == "keep O\n" and os.stat(train_files["out"]).st_ino == before.st_ino


def test_translate_train_details_equal_to_output(train_files):
    one_error(translate_train(train_files, "--details", str(train_files["out"])), "name the same file")
    assert train_files["out"].read_text() == "keep O\n"


def test_translate_train_output_equal_to_translations(train_files):
    args = [
        "translate-train",
        str(train_files["en"]),
        "--lang",
        "deu",
        "-o",
        str(train_files["tr"]),
        "--translator",
        "file",
        "--translations",
        str(train_files["tr"]),
        "--tokenizer",
        "whitespace",
        "--no-cache",
    ]
    one_error(runner.invoke(app, args), "--output and --translations name the same file")
    assert train_files["tr"].read_text() == TARGET


# ---------------------------------------------------------------- the mechanism itself


def test_atomic_write_follows_links_and_streams_to_fifos(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    with atomic_write(link) as out:
        out.write("new")
    assert link.is_symlink() and real.read_text() == "new" and os.stat(real).st_mode & 0o777 == 0o600
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "created.txt")
    with atomic_write(dangling) as out:
        out.write("x")
    assert dangling.is_symlink() and (tmp_path / "created.txt").read_text() == "x"
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = _read_fifo(fifo, received)
    with atomic_write(fifo, "wb") as out:
        out.write(b"\x00data")
    thread.join(10)
    assert received == [b"\x00data"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(InputError, match="is a directory"):
        with atomic_write(tmp_path) as out:
            out.write("x")


def test_outputs_of_one_run_are_committed_together(tmp_path):
    first, second = tmp_path / "a.conll", tmp_path / "b.jsonl"
    first.write_text("old a\n")
    plan = check_outputs({"--output": first, "--details": second}, {"--source": tmp_path / "missing"})
    with pytest.raises(RuntimeError):
        with plan.commit():
            write_conll(first, [Sentence(["x"], [Span(0, 1, "PER")])])
            assert first.read_text() == "old a\n"  # written, not yet replaced
            raise RuntimeError("the second output failed")
    assert first.read_text() == "old a\n" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.conll"]  # no temporary file left
    with plan.commit():
        write_conll(first, [Sentence(["x"], [Span(0, 1, "PER")])])
        write_jsonl(second, [Sentence(["y"])])
        assert first.read_text() == "old a\n" and not second.exists()
    assert first.read_text() == "x\tB-PER\n\n" and second.exists()
