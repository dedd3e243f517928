#!/usr/bin/env bash
# Create .venv (if needed) and install xlner with the given extras.
#   bash scripts/setup.sh            # core only: the offline default
#   bash scripts/setup.sh dev,hf     # plus extras
# torch is pinned to the CPU build (2.13.0) before any extra that needs it,
# because an unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.xlner-installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${extras//,/_}"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [[ ",$extras," == *",hf,"* ]]; then
        .venv/bin/python -m pip install -q "torch==2.13.0"
    fi
    if [ -n "$extras" ]; then
        .venv/bin/python -m pip install -q -e ".[$extras]"
    else
        .venv/bin/python -m pip install -q -e .
    fi
    touch "$stamp"
fi
