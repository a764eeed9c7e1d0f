"""Snapshots of the screens a musician sees (pytest-textual-snapshot; `--snapshot-update` after
a deliberate change, then look at the SVGs in tests/__snapshots__/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tracker.session.document import Document
from tracker.ui.app import TrackerApp

SIZE = (160, 48)


@pytest.fixture
def demo_app(tmp_path: Path) -> TrackerApp:
    path = tmp_path / "demo.song"
    shutil.copy(REPO / "patterns" / "demo.song", path)
    return TrackerApp(Document.open(path), transport_factory=None, autosave_seconds=0)


def test_main_screen(snap_compare, demo_app: TrackerApp) -> None:
    # The Groove pattern, cursor moved into the bass line.
    assert snap_compare(
        demo_app, press=["ctrl+l", "down", "enter", "tab", "down", "down"], terminal_size=SIZE
    )


def test_piano_roll(snap_compare, demo_app: TrackerApp) -> None:
    # The bass of the Groove pattern in the piano roll.
    assert snap_compare(
        demo_app, press=["ctrl+l", "down", "enter", "tab", "f3"], terminal_size=SIZE
    )


def test_help(snap_compare, demo_app: TrackerApp) -> None:
    assert snap_compare(demo_app, press=["question_mark"], terminal_size=SIZE)
