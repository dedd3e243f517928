#!/usr/bin/env bash
# Set up .venv with every extra the tests use, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,hf,ct2,spacy,bench,ray,fast
exec .venv/bin/python -m pytest -q "$@"
