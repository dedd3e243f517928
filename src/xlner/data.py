"""Where the shared real data lives (``../shared/data`` beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path:
    """``$XLNER_SHARED_DATA`` if set, else ``../shared/data`` relative to the repository root."""
    env = os.environ.get("XLNER_SHARED_DATA")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[2]
    candidates = [repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]
