"""Shared fixtures: where the corpus is, and how tests that need real programs behave."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "midi"


def require_program(name: str) -> str:
    """The path of an external program; skip without it, fail when CI says it must be there."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("TRACKER_REQUIRE_JACK") == "1":
            pytest.fail(f"{name} is required here (TRACKER_REQUIRE_JACK=1) but not installed")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/midi is absent (a user's clone has no shared/)")
    return sorted(CORPUS.glob("*.mid"))
