"""docs/benchmarks.md writes: locked, unique temporary files, partial runs never replace published sections."""

from __future__ import annotations

import argparse
import multiprocessing
from pathlib import Path

from xlner.bench import report


def _args(output: Path | None = None, no_write: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    report.add_output_options(parser)
    argv = (["--output", str(output)] if output else []) + (["--no-write"] if no_write else [])
    return parser.parse_args(argv)


def _write_many(path: str, name: str, n: int) -> None:
    for k in range(n):
        report.write_section(name, f"{name} row {k}", Path(path))


def test_concurrent_writers_keep_every_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write_many, args=(str(path), f"bench{w}", 30)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        assert w.exitcode == 0
    text = path.read_text(encoding="utf-8")
    for w in range(4):
        assert f"<!-- bench{w}:start -->\nbench{w} row 29\n<!-- bench{w}:end -->" in text
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left


def test_partial_run_never_replaces_the_published_section(tmp_path, monkeypatch, capsys):
    published = tmp_path / "docs" / "benchmarks.md"
    published.parent.mkdir()
    report.write_section("europarl", "full table", published)
    before = published.read_text(encoding="utf-8")
    monkeypatch.setattr(report, "BENCHMARKS_MD", published)
    assert not report.publish("europarl", "Europarl", "only de", _args(), partial=True)
    assert published.read_text(encoding="utf-8") == before
    assert "partial run" in capsys.readouterr().err
    own = tmp_path / "mine.md"
    assert report.publish("europarl", "Europarl", "only de", _args(own), partial=True)
    assert "only de" in own.read_text(encoding="utf-8") and published.read_text(encoding="utf-8") == before
    assert not report.publish("europarl", "Europarl", "full", _args(no_write=True))
    assert published.read_text(encoding="utf-8") == before
    assert report.publish("europarl", "Europarl", "new full table", _args())
    assert "new full table" in published.read_text(encoding="utf-8")
    assert not report.plots_wanted(_args(own)) and not report.plots_wanted(_args(), partial=True)


def test_every_benchmark_takes_output_and_no_write(capsys):
    import importlib

    import pytest

    from xlner.bench import BENCHMARKS

    for name, module in BENCHMARKS.items():
        with pytest.raises(SystemExit):
            importlib.import_module(module).main(["--help"])
        text = capsys.readouterr().out
        assert "--output" in text and "--no-write" in text, name
