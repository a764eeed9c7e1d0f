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


def test_no_audio(snap_compare, tmp_path: Path) -> None:
    """A server over SSH: no sound card. The transport falls back to its silent clock (the
    sink it uses when no device opens) and the bar says so; editing goes on."""
    from tracker.audio.sinks import ClockSink
    from tracker.live.transport import Transport

    path = tmp_path / "demo.song"
    shutil.copy(REPO / "patterns" / "demo.song", path)

    def silent(document: Document) -> Transport:
        sink = ClockSink(48000, 512, "no audio output device")
        return Transport(document.song, output=sink)

    app = TrackerApp(Document.open(path), transport_factory=silent, autosave_seconds=0)

    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await app.transport_ready.wait()
        await pilot.pause(0.2)

    assert snap_compare(app, press=["down", "z"], terminal_size=SIZE, run_before=ready)


def test_frozen_and_audio_tracks(snap_compare, tmp_path: Path) -> None:
    """Keys frozen (greyed, locked), Bass flattened into an audio track (its waveform drawn
    down the rows and in the track list)."""
    from tracker.cli import main

    path = tmp_path / "demo.song"
    shutil.copy(REPO / "patterns" / "demo.song", path)
    for args in (("freeze", "Keys"), ("freeze", "Bass"), ("flatten", "Bass")):
        assert main([args[0], str(path), "--track", args[1]]) == 0
    app = TrackerApp(Document.open(path), transport_factory=None, autosave_seconds=0)
    assert snap_compare(app, press=["ctrl+l", "down", "enter"], terminal_size=SIZE)
