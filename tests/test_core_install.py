"""The core install (``pip install xlner``, no extras) runs both pipelines with precomputed translations.

Builds a fresh virtual environment in tmp_path from a copy of this checkout
(packages come from the index pip is configured with) and runs
``xlner translate-train`` and ``xlner translate-test`` with ``--translator
file --tokenizer whitespace`` on tiny files.
"""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = "John\tB-PER\nlives\tO\nin\tO\nBerlin\tB-LOC\n.\tO\n\nMary\tB-PER\nworks\tO\nfor\tO\nSiemens\tB-ORG\n\n"
GERMAN = "John wohnt in Berlin .\nMary arbeitet für Siemens\n"


def _run(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_core_install_runs_both_pipelines_with_precomputed_translations(tmp_path):
    package = tmp_path / "xlner-src"
    package.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, package / name)
    shutil.copytree(ROOT / "src", package / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(package)], tmp_path)
    xlner = env_dir / "bin" / "xlner"
    missing = _run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print([m for m in ('torch', 'transformers', 'spacy') if u.find_spec(m)])",
        ],
        tmp_path,
    )
    assert missing.stdout.strip() == "[]", "the core install must not bring the extras"

    (tmp_path / "en.conll").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "de.txt").write_text(GERMAN, encoding="utf-8")
    (tmp_path / "en.txt").write_text("John lives in Berlin .\nMary works for Siemens\n", encoding="utf-8")
    common = [
        "--translator",
        "file",
        "--tokenizer",
        "whitespace",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--aligner-option",
        "n_iterations=[2,2,4]",
    ]
    train = _run(
        [
            str(xlner),
            "translate-train",
            "en.conll",
            "--lang",
            "deu",
            "--translations",
            "de.txt",
            "-o",
            "silver.conll",
            *common,
        ],
        tmp_path,
    )
    silver = (tmp_path / "silver.conll").read_text(encoding="utf-8")
    assert "wohnt" in silver and "B-" in silver, train.stdout + train.stderr

    test = _run(
        [
            str(xlner),
            "translate-test",
            "de.txt",
            "--lang",
            "deu",
            "--translations",
            "en.txt",
            "--tagger",
            "gold",
            "--tagger-labels",
            "en.conll",
            "-o",
            "labelled.conll",
            *common,
        ],
        tmp_path,
    )
    labelled = (tmp_path / "labelled.conll").read_text(encoding="utf-8")
    assert "Siemens" in labelled and "B-" in labelled, test.stdout + test.stderr
