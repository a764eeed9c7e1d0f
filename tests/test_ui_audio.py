"""Freeze, unfreeze, flatten and resample in the app, from the track list's keys and from the
command palette; frozen tracks greyed and locked, audio tracks drawn as waveforms."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.pilot import Pilot

from tests.test_ui_app import track_list_row
from tracker.model.serialize import load_song
from tracker.model.song import TrackKind
from tracker.paths import demo_song
from tracker.session.document import Document
from tracker.ui.app import TrackerApp

SIZE = (180, 50)
BASS = 1


def demo_app(tmp_path: Path) -> TrackerApp:
    path = tmp_path / "night.song"
    shutil.copy(demo_song(), path)
    return TrackerApp(Document.open(path), transport_factory=None, autosave_seconds=0)


async def settle(app: TrackerApp, pilot: Pilot[None]) -> None:
    """Let the render worker finish and its result reach the song."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def notices(app: TrackerApp) -> str:
    """The notifications the app has shown (toasts are drawn on a layer of their own)."""
    return "\n".join(n.message for n in app._notifications)


def bass_column(app: TrackerApp, row: int) -> str:
    """The Bass track's text on a grid row."""
    line = app.grid.render_line(row - app.grid.scroll_offset.y + 1).text
    return line.split("│")[BASS + 1]


async def test_freeze_flatten_and_undo_from_the_track_list(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "down", "enter")  # the Groove pattern: the bass plays
        await pilot.press("f4", "down")  # the track list, on Bass
        await pilot.press("f")
        await settle(app, pilot)
        bass = app.document.song.tracks[BASS]
        assert bass.frozen == "audio/02-Bass.freeze.wav"
        assert (tmp_path / "audio/02-Bass.freeze.wav").stat().st_size > 1_000_000
        assert track_list_row(app, "Bass")[-1] == "frozen"
        assert "F" in app.grid.render_line(0).text.split("│")[BASS + 1]  # the header says so
        notes_before = bass_column(app, 0)
        assert "C-" in notes_before or "D-" in notes_before or "." in notes_before

        # Locked: typing into the frozen track changes nothing and says why.
        await pilot.press("f2")
        assert app.state.track == BASS
        await pilot.press("z", "x", "1")
        await pilot.pause(0.3)  # the toast appears
        assert app.document.song.patterns[1].data.get(BASS) == load_song(demo_song()).patterns[
            1
        ].data.get(BASS)
        assert "frozen: unfreeze it to edit" in notices(app)

        await pilot.press("f4", "F")  # flatten
        await pilot.pause()
        bass = app.document.song.tracks[BASS]
        assert bass.kind is TrackKind.AUDIO and bass.clips[0].path == "audio/02-Bass.freeze.wav"
        # The grid draws the bass's audio down the rows: loud rows wide, and not all alike.
        widths = {bass_column(app, row).count("█") for row in range(16)}
        assert max(widths) >= 3 and len(widths) >= 2
        assert "audio" in track_list_row(app, "Bass")

        await pilot.press("ctrl+z")  # back to frozen
        await pilot.pause()
        assert app.document.song.tracks[BASS].frozen is not None
        assert app.document.song.tracks[BASS].kind is TrackKind.INSTRUMENT
        await pilot.press("ctrl+z")  # back to playing its instrument
        await pilot.pause()
        assert app.document.song.tracks[BASS].frozen is None
        assert track_list_row(app, "Bass")[-1] == "on"


async def test_resample_the_master_from_the_palette(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Resample master", "enter")
        await settle(app, pilot)
        added = app.document.song.tracks[-1]
        assert added.name == "Resample" and added.kind is TrackKind.AUDIO and added.mute
        assert (tmp_path / added.clips[0].path).exists()
        row = track_list_row(app, "Resample")
        assert row[-1] == "silent"  # added muted
        assert any(set(word) <= set(" ▁▂▃▄▅▆▇█") and "█" in word for word in row)


async def test_an_untitled_song_asks_to_be_saved_first() -> None:
    from tracker.model.templates import new_song

    app = TrackerApp(Document(new_song("x"), None), transport_factory=None, autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "f")
        await pilot.pause(0.3)  # the toast appears
        assert app.document.song.tracks[0].frozen is None
        assert "save the song first" in notices(app)


async def test_an_audio_track_takes_no_notes(tmp_path: Path) -> None:
    from tracker.cli import main

    path = tmp_path / "night.song"
    shutil.copy(demo_song(), path)
    for args in (("freeze", "Bass"), ("flatten", "Bass")):
        assert main([args[0], str(path), "--track", args[1]]) == 0
    app = TrackerApp(Document.open(path), transport_factory=None, autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "down", "f2")
        assert app.state.track == BASS
        await pilot.press("z", "x")
        await pilot.pause()
        assert all(BASS not in p.data for p in app.document.song.patterns.values())
        assert "is an audio track: it plays no notes" in notices(app)


async def test_duplicate_then_flatten_keeps_a_midi_copy(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "down", "d")  # duplicate Bass
        await pilot.pause()
        song = app.document.song
        assert [t.name for t in song.tracks[:3]] == ["Drums", "Bass", "Bass copy"]
        assert app.state.track == 2
        assert all(p.data.get(1) == p.data.get(2) for p in song.patterns.values())
        assert song.patterns[1].data.get(3) == load_song(demo_song()).patterns[1].data.get(2)
        await pilot.press("f")  # freeze the copy, then flatten it
        await settle(app, pilot)
        await pilot.press("F")
        await pilot.pause()
        song = app.document.song
        assert song.tracks[2].kind is TrackKind.AUDIO and 2 not in song.patterns[1].data
        assert song.tracks[1].kind is TrackKind.INSTRUMENT and song.patterns[1].data.get(1)
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+z")  # flatten, freeze, duplicate undone
        await pilot.pause()
        assert [t.name for t in app.document.song.tracks] == [
            t.name for t in load_song(demo_song()).tracks
        ]


def test_renaming_a_group_keeps_what_plays_into_it() -> None:
    from tracker.model import edits
    from tracker.model.song import Song, Track

    song = Song(
        tracks=[
            Track("A", output="G", sends={"R": -6.0}),
            Track("G", kind=TrackKind.GROUP),
            Track("R", kind=TrackKind.RETURN),
        ]
    )
    edits.set_track(song, 1, name="Synths")
    edits.set_track(song, 2, name="Room")
    assert song.tracks[0].output == "Synths" and song.tracks[0].sends == {"Room": -6.0}
