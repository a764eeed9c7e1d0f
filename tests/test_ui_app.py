"""The whole app end to end, driven only from the keyboard as a musician would drive it.

Nothing here calls the model to make music: every note, copy, transpose, quantize and save is a
key press through Textual's Pilot. The song is only read, to check what the keys did, and the
screen is read to check what the musician sees.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from tracker.model.song import OFF, NoteCell, Song
from tracker.model.templates import new_song
from tracker.session.document import Document
from tracker.ui import app as app_module
from tracker.ui.app import TrackerApp
from tracker.ui.dialogs import ChoiceScreen
from tracker.ui.help_screen import HelpScreen
from tracker.ui.quantize_dialog import QuantizeDialog
from tracker.ui.transport_bar import TransportBar

SIZE = (180, 50)
DRUMS, BASS = 0, 1
KICK = 36  # General MIDI bass drum 1, C-2 on the channel-10 kit
Cell = tuple[int | None, int | None, int | None, int | None]  # note, instrument, velocity, delay


def make_app(path: Path) -> TrackerApp:
    return TrackerApp(Document(new_song("Beat"), path), transport_factory=None, autosave_seconds=0)


def cells(song: Song, track: int, pattern: int = 0) -> dict[int, Cell]:
    """The first note column of a track, row → (note, instrument, velocity, delay)."""
    rows = song.patterns[pattern].data.get(track, {})
    found: dict[int, Cell] = {}
    for row, track_row in sorted(rows.items()):
        cell = track_row.notes[0] if track_row.notes else None
        if cell is not None and not cell.is_empty():
            found[row] = (cell.note, cell.instrument, cell.velocity, cell.delay)
    return found


def contents(song: Song) -> dict[int, tuple[int, str, dict[int, dict[int, tuple]]]]:
    """Every pattern's length, name and non-empty cells; a row's trailing empty columns dropped
    (the file reader pads a row to the track's columns, an edit leaves them out)."""

    def trimmed(cells: list) -> tuple:
        kept = [
            None if c is None or (isinstance(c, NoteCell) and c.is_empty()) else c for c in cells
        ]
        while kept and kept[-1] is None:
            kept.pop()
        return tuple(kept)

    return {
        pid: (
            pattern.length,
            pattern.name,
            {
                track: {
                    row: (trimmed(track_row.notes), trimmed(track_row.effects))
                    for row, track_row in sorted(rows.items())
                    if not track_row.is_empty()
                }
                for track, rows in sorted(pattern.data.items())
                if any(not track_row.is_empty() for track_row in rows.values())
            },
        )
        for pid, pattern in sorted(song.patterns.items())
    }


def grid_line(app: TrackerApp, row: int) -> str:
    """The text the pattern grid draws for a pattern row (widget line 0 is the track header)."""
    grid = app.grid
    return grid.render_line(row - grid.scroll_offset.y + 1).text


def screen_text(app: TrackerApp) -> str:
    """Everything on the terminal, as the musician reads it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def track_list_row(app: TrackerApp, name: str) -> list[str]:
    """The words of a track's line in the track list, as drawn (the list is left of the grid)."""
    for line in screen_text(app).splitlines():
        words = line.split("│")[0].split()
        if len(words) > 1 and words[1] == name:
            return words
    raise AssertionError(f"no track {name!r} on screen")


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def type_kick(pilot: Pilot[None]) -> None:
    """Octave 2 (two `-` from 4), edit step 4 (three `}` from 1), then `z` (C) sixteen times."""
    await press(pilot, "-", "-", "}", "}", "}")
    await press(pilot, *["z"] * 16)


async def type_bassline(pilot: Pilot[None]) -> None:
    """Tab to Bass, octave 3, step 2: C-3 OFF G-3 OFF F-3(vel 50) E-3 OFF from row 0."""
    await press(pilot, "tab", "home", "+", "{", "{")
    await press(pilot, "z", "1", "b", "1", "v")  # rows 0, 2, 4, 6, 8; the cursor is on row 10
    # Back to the F-3, two fields right to its velocity, hex 5 0, and back to the note field.
    await press(pilot, "up", "up", "right", "right", "5", "0", "left", "left", "down", "down")
    await press(pilot, "c", "1")  # E-3 on row 10, OFF on row 12


BASSLINE: dict[int, Cell] = {
    0: (48, None, None, None),
    2: (OFF, None, None, None),
    4: (55, None, None, None),
    6: (OFF, None, None, None),
    8: (53, None, 0x50, None),
    10: (52, None, None, None),
    12: (OFF, None, None, None),
}


async def test_a_musician_makes_a_beat_from_the_keyboard_only(tmp_path: Path) -> None:
    path = tmp_path / "beat.song"
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        song = app.document.song
        await pilot.pause()

        # 1. Four on the floor on the Drums track.
        await type_kick(pilot)
        assert app.state.octave == 2 and app.state.step == 4
        assert cells(song, DRUMS) == {row: (KICK, None, None, None) for row in range(0, 64, 4)}
        assert set(song.patterns[0].data) == {DRUMS}
        assert grid_line(app, 60).split("│")[1].strip().startswith("C-2")

        # 2. A bassline with note-offs and one velocity typed in hex.
        await type_bassline(pilot)
        assert app.state.track == BASS and app.state.octave == 3 and app.state.step == 2
        assert cells(song, BASS) == BASSLINE
        assert cells(song, DRUMS) == {row: (KICK, None, None, None) for row in range(0, 64, 4)}

        # 3. Undo the last two notes, redo them; the grid shows what the song holds.
        await press(pilot, "ctrl+z", "ctrl+z")
        assert cells(song, BASS) == {r: c for r, c in BASSLINE.items() if r < 10}
        assert "E-3" not in grid_line(app, 10)
        await press(pilot, "ctrl+y", "ctrl+y")
        assert cells(song, BASS) == BASSLINE
        assert "E-3" in grid_line(app, 10)
        assert "OFF" in grid_line(app, 12)
        assert "E-3" in screen_text(app)

        # 4. Copy rows 0..7 of the bass and paste them at row 32.
        await press(pilot, "home", *["shift+down"] * 7, "ctrl+c", "escape")
        await press(pilot, "home", "pagedown", "pagedown")
        assert app.state.row == 32
        await press(pilot, "ctrl+v")
        pasted = {row + 32: cell for row, cell in BASSLINE.items() if row < 8}
        assert cells(song, BASS) == BASSLINE | pasted

        # 5. Transpose the pasted block: +1 +1 -1 semitones, then an octave up: +13 in all.
        await press(pilot, *["shift+down"] * 7)
        await press(pilot, "ctrl+up", "ctrl+up", "ctrl+down", "ctrl+pageup", "escape")
        transposed = {
            row: (note + 13 if note is not None and note >= 0 else note, *rest)
            for row, (note, *rest) in pasted.items()
        }
        assert cells(song, BASS) == BASSLINE | transposed
        assert [cells(song, BASS)[r][0] for r in (32, 36)] == [61, 68]  # C#4, G#4
        assert "C#4" in grid_line(app, 32)

        # 6. Two late notes (delays typed in hex), quantized in the piano roll.
        # Row 20: A-3 with delay 10 (16 ticks), OFF on row 22; row 26: D-3 delay 05, OFF row 28.
        await press(pilot, "home", "pagedown", "down", "down", "down", "down")
        assert app.state.row == 20
        await press(pilot, "n", "1")  # A-3 on row 20, OFF on row 22; cursor on row 24
        await press(pilot, "up", "up", "up", "up", "right", "right", "right", "1", "0")
        await press(pilot, "left", "left", "left", "down", "down", "down", "down", "down", "down")
        assert app.state.row == 26
        await press(pilot, "x", "1")  # D-3 on row 26, OFF on row 28
        await press(pilot, "up", "up", "up", "up", "right", "right", "right", "5")
        await press(pilot, "left", "left", "left")
        late = {
            20: (57, None, None, 0x10),
            22: (OFF, None, None, None),
            26: (50, None, None, 5),
            28: (OFF, None, None, None),
        }
        assert cells(song, BASS) == BASSLINE | late | transposed

        await press(pilot, "f3")
        roll = app.roll
        assert app.focused is roll
        assert app.query_one("#views").current == "roll"
        # Select the two late notes: the cursor to each one's column and pitch, then `s`.
        for row, pitch in ((20, 57), (26, 50)):
            await press(pilot, "home", *["right"] * row)
            steps = pitch - roll.cursor_pitch
            await press(pilot, *(["up"] * steps if steps > 0 else ["down"] * -steps))
            await press(pilot, "s")
        assert sorted((n.start, n.pitch) for n in roll.selected_notes()) == [
            (20 * 24 + 16, 57),
            (26 * 24 + 5, 50),
        ]
        await press(pilot, "q")
        assert isinstance(app.screen, QuantizeDialog)
        for value in ("1", "100", "50"):
            await press(pilot, "end", "ctrl+u", *value, "tab")
        await press(pilot, "shift+tab", "enter")
        assert not isinstance(app.screen, QuantizeDialog)
        bass = cells(song, BASS)
        # 496 → 504 (row 21), 629 → 624 (row 26); each keeps its length, so the offs move too.
        assert bass[21][:3] == (57, None, None) and not bass[21][3]  # delay None or 0
        assert bass[26][:3] == (50, None, None) and not bass[26][3]
        assert 20 not in bass
        assert {row: cell for row, cell in bass.items() if 20 <= row < 32} == {
            21: bass[21],
            22: (OFF, None, None, 8),  # 504 + 32 = 536 = row 22 + 8
            26: bass[26],
            27: (OFF, None, None, 19),  # 624 + 43 = 667 = row 27 + 19
        }
        assert sorted((n.start, n.pitch) for n in roll.selected_notes()) == [
            (21 * 24, 57),
            (26 * 24, 50),
        ]

        # 7. Save; the file holds the song; one more edit makes it dirty again.
        assert app.document.dirty
        await press(pilot, "ctrl+s")
        assert path.exists()
        assert not app.document.dirty
        reloaded = Document.open(path).song
        assert reloaded.tracks == song.tracks
        assert reloaded.order == song.order
        assert sorted(reloaded.patterns) == sorted(song.patterns)
        for pid, pattern in song.patterns.items():
            assert reloaded.patterns[pid].length == pattern.length
            for track in range(len(song.tracks)):
                assert cells(reloaded, track, pid) == cells(song, track, pid)
        # Cells, columns, tempo, instruments...: the same song (empty columns written or not).
        assert contents(reloaded) == contents(song)
        assert replace(reloaded, patterns={}) == replace(song, patterns={})
        await press(pilot, "f2")
        assert app.focused is app.grid
        await press(pilot, "home", "x")  # D-3 over the C-3 on row 0
        assert cells(song, BASS)[0] == (50, None, None, None)
        assert app.document.dirty

        # 8. Quitting with unsaved changes asks; Cancel stays, Discard quits.
        await press(pilot, "ctrl+q")
        assert isinstance(app.screen, ChoiceScreen)
        assert "Save the changes to beat.song?" in screen_text(app)
        await press(pilot, "c")
        assert not isinstance(app.screen, ChoiceScreen)
        assert app.is_running and app.return_code is None
        await press(pilot, "ctrl+q")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("d")
        await pilot.pause()
        assert app.return_code == 0
    assert Document.open(path).song.patterns[0].get(BASS, 0) is not None  # the saved file stays


async def test_help_lists_the_keys_of_every_view_and_escape_closes_it(tmp_path: Path) -> None:
    app = make_app(tmp_path / "help.song")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "?")
        assert isinstance(app.screen, HelpScreen)
        # Read the whole help as the musician would: page down until it stops moving.
        seen: list[str] = []
        scroller = app.screen.query_one("VerticalScroll")
        for _ in range(40):
            seen.append(screen_text(app))
            before = scroller.scroll_offset.y
            await press(pilot, "pagedown")
            if scroller.scroll_offset.y == before:
                break
        text = "\n".join(seen)
        for title in ("Everywhere", "Pattern grid (F2)", "Piano roll (F3)", "Track list (F4)"):
            assert title in text
        assert "Order list (ctrl+l)" in text
        for description in (
            "Transpose +12",  # grid
            "Velocity ramp",  # grid
            "Edit step up",  # grid
            "Lengthen notes by a column",  # roll
            "Next CC lane controller",  # roll
            "Zoom in (more columns per row)",  # roll
            "Volume +1 dB",  # track list
            "Insert position",  # order list
            "Undo",  # app
        ):
            assert description in text, description
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.grid


async def test_track_list_mutes_and_undo_unmutes(tmp_path: Path) -> None:
    app = make_app(tmp_path / "tracks.song")
    async with app.run_test(size=SIZE) as pilot:
        song = app.document.song
        await pilot.pause()
        await press(pilot, "f4")
        assert app.focused is app.query_one("#tracks")
        await press(pilot, "down")  # to the Bass track
        assert app.state.track == BASS
        await press(pilot, "m")
        assert [t.mute for t in song.tracks] == [False, True, False, False]
        assert track_list_row(app, "Bass")[4] == "M"
        await press(pilot, "ctrl+z")
        assert [t.mute for t in song.tracks] == [False, False, False, False]
        assert track_list_row(app, "Bass")[4] == "·"
        await press(pilot, "ctrl+y")
        assert song.tracks[BASS].mute
        # Enter edits the chosen track in the grid.
        await press(pilot, "enter")
        assert app.focused is app.grid and app.state.track == BASS


async def test_the_bar_shows_a_new_octave_and_step_with_the_key(
    tmp_path: Path, monkeypatch
) -> None:
    """Not at the bar's next refresh (20 a second): the musician sees the octave change as the
    key goes down, as the grid shows a typed note. (The refresh is slowed to once in 100 s
    here, so only the key can have changed the bar.)"""
    monkeypatch.setattr(app_module, "STATUS_HZ", 0.01)
    app = make_app(tmp_path / "keys.song")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        bar = app.query_one(TransportBar)
        for key, shown in (("plus", "Oct 5 Step 1"), ("minus", "Oct 4 Step 1"),
                           ("right_curly_bracket", "Oct 4 Step 2")):  # fmt: skip
            await pilot.press(key)
            assert shown in bar.render().plain, key


async def test_the_track_list_shows_a_muted_track_as_silent(tmp_path: Path) -> None:
    app = make_app(tmp_path / "tracks.song")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "f4", "down", "m")
        assert track_list_row(app, "Bass")[-1] == "silent"
        assert track_list_row(app, "Drums")[-1] == "on"


async def test_order_list_changes_and_inserts_positions(tmp_path: Path) -> None:
    app = make_app(tmp_path / "order.song")
    async with app.run_test(size=SIZE) as pilot:
        song = app.document.song
        await pilot.pause()
        await press(pilot, "ctrl+n", "ctrl+n")  # two new patterns after the first
        assert sorted(song.patterns) == [0, 1, 2]
        assert song.order == [0, 1, 2]
        await press(pilot, "ctrl+l")
        assert app.focused is app.query_one("#order")
        await press(pilot, "up")
        assert app.state.order_index == 1 and app.state.pattern == 1
        await press(pilot, "+")
        assert song.order == [0, 2, 2]
        assert app.state.pattern == 2
        await press(pilot, "insert")
        assert song.order == [0, 2, 2, 2]
        assert app.state.order_index == 2
        await press(pilot, "ctrl+z")
        assert song.order == [0, 2, 2]
        await press(pilot, "ctrl+z")
        assert song.order == [0, 1, 2]
