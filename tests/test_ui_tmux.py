"""The real program in a real terminal (tmux): start, help, a note, save, quit; crash recovery."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.tmux import TmuxPane
from tracker.model.serialize import load_song
from tracker.model.song import Song

DEMO = REPO / "patterns" / "demo.song"


def empty_cell(song: Song) -> tuple[int, int]:
    """(track, row) of the first pattern's first empty note cell, scanning tracks then rows."""
    pattern = song.patterns[song.order[0]]
    for track in range(len(song.tracks)):
        for row in range(pattern.length):
            cell = pattern.get(track, row)
            if cell is None or not cell.notes or cell.notes[0] is None:
                return track, row
    raise AssertionError("the demo's first pattern has no empty cell")


def go_to(pane: TmuxPane, track: int, row: int) -> None:
    for _ in range(track):
        pane.send("Tab")
    for _ in range(row):
        pane.send("Down")


def save_and_quit(pane: TmuxPane) -> None:
    pane.send("C-s")
    pane.wait_for("saved night.song")
    pane.send("C-q")
    pane.wait_for("EXITED 0")


def first_note(song_path: Path, track: int, row: int) -> int | None:
    """The pitch in the first note column of (track, row) of the saved song's first pattern."""
    song = load_song(song_path)
    cell = song.patterns[song.order[0]].get(track, row)
    return None if cell is None or cell.notes[0] is None else cell.notes[0].note


def start(tmp_path: Path, song: Path, *extra: str) -> TmuxPane:
    return TmuxPane([sys.executable, "-m", "tracker", str(song), *extra], cwd=tmp_path)


def test_start_help_note_save_quit(tmp_path: Path) -> None:
    song_path = tmp_path / "night.song"
    shutil.copy(DEMO, song_path)
    track, row = empty_cell(load_song(song_path))
    pane = start(tmp_path, song_path, "--autosave", "0")
    try:
        screen = pane.wait_for("Drums")
        assert "Night Bus" in screen or "night.song" in screen
        assert "C-" in screen  # the grid shows the drums' notes
        pane.send("?")
        help_screen = pane.wait_for("tracker — keys")
        assert "Play/stop" in help_screen
        pane.send("Escape")
        time.sleep(0.3)
        go_to(pane, track, row)
        pane.send("z")  # C of octave 4 on the QWERTY piano
        save_and_quit(pane)
    finally:
        pane.close()
    assert first_note(song_path, track, row) == 60
    assert not (tmp_path / "night.song.recovery").exists()


def test_sigkill_then_recover(tmp_path: Path) -> None:
    song_path = tmp_path / "night.song"
    shutil.copy(DEMO, song_path)
    original = song_path.read_bytes()
    track, row = empty_cell(load_song(song_path))
    recovery = tmp_path / "night.song.recovery"
    pane = start(tmp_path, song_path, "--autosave", "1")
    try:
        pane.wait_for("Drums")
        go_to(pane, track, row)
        pane.send("q")  # C-5 on the upper row of the piano
        deadline = time.monotonic() + 30
        while not (recovery.exists() and b"C-5" in recovery.read_bytes()):
            assert time.monotonic() < deadline, "no autosave to the recovery file"
            time.sleep(0.1)
        os.kill(pane.pid(), signal.SIGKILL)
        pane.wait_for("EXITED 137")
    finally:
        pane.close()
    assert song_path.read_bytes() == original  # a crash never touches the song itself
    pane = start(tmp_path, song_path, "--autosave", "0")
    try:
        pane.wait_for("Recover them?")
        pane.send("r")
        pane.wait_for("recovered")
        save_and_quit(pane)
    finally:
        pane.close()
    assert first_note(song_path, track, row) == 72
    assert not recovery.exists()
