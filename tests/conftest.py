"""Shared fixtures. Tests on ../shared/data skip when it is absent, except under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlner.data import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder; skip (or fail under CI=true) when it is missing."""
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the shared data folder {path} is missing")
        pytest.skip(f"shared data folder {path} not found")
    return path
