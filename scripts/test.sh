#!/usr/bin/env bash
# Set up .venv with every extra the tests use, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,hf,ct2,spacy,bench,ray,fast
# static checks: lint and format (ruff), import layers (import-linter, contracts in pyproject.toml), types (mypy)
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/lint-imports
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
