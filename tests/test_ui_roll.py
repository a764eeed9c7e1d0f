"""The piano roll, driven from the keyboard: notes, lengths, velocities, CC, quantize."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

import tracker.ui.piano_roll as piano_roll
from tests.builders import note, one_track_song
from tracker.model.song import OFF, EffectCell, NoteCell, Pattern, Song
from tracker.session.document import Document
from tracker.ui.edit_state import EditState
from tracker.ui.piano_roll import KEY_WIDTH, PianoRoll
from tracker.ui.quantize_dialog import QuantizeDialog

SIZE = (140, 45)


class RollHost(App[None]):
    """Just the roll, and a record of the edits it reports."""

    def __init__(self, song: Song, state: EditState | None = None) -> None:
        super().__init__()
        self.document = Document(song, None)
        self.state = state or EditState()
        self.edits: list[frozenset[int] | None] = []

    def compose(self) -> ComposeResult:
        yield PianoRoll(self.document, self.state, id="roll")

    def on_piano_roll_edited(self, message: PianoRoll.Edited) -> None:
        self.edits.append(message.changed)


def cells(song: Song) -> dict[int, list[tuple[int | None, int | None, int | None]]]:
    """Row → (note, velocity, delay) of each note column of track 0, pattern 0."""
    return {
        row: [(c.note, c.velocity, c.delay) if c else (None, None, None) for c in tr.notes]
        for row, tr in sorted(song.patterns[0].data.get(0, {}).items())
        if any(c is not None and c.note is not None for c in tr.notes)
    }


def screen_lines(roll: PianoRoll) -> list[str]:
    return [roll.render_line(y).text for y in range(roll.scrollable_content_region.height)]


def pitch_line(roll: PianoRoll, label: str) -> str:
    """The time area (after the keyboard) of the line whose key is labelled `label`."""
    for line in screen_lines(roll):
        if line.startswith(label):
            return line[KEY_WIDTH:]
    raise AssertionError(f"no line labelled {label!r} on screen")


def lane(roll: PianoRoll, title: str, height: int) -> list[str]:
    """The time area of the `height` lines under the lane title line."""
    lines = screen_lines(roll)
    top = next(i for i, line in enumerate(lines) if f" {title} " in line)
    return [line[KEY_WIDTH:] for line in lines[top + 1 : top + 1 + height]]


async def test_keyboard_and_a_note_bar_are_drawn() -> None:
    song = one_track_song({0: note("C-4"), 3: note("OFF"), 4: note("E-4", 80)}, rows=16)
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        assert pitch_line(roll, "C-4")[:5] == "███ ┊"  # rows 0..2, then the beat line at row 4
        assert pitch_line(roll, "C-3")[:1] == "│"  # the bar line at row 0
        # The cursor's line names its key too: it starts on the median pitch, E-4.
        assert pitch_line(roll, "E-4")[4:].startswith("█" * 12)
        assert "C-5" in "".join(screen_lines(roll))


async def test_add_move_lengthen_and_delete_from_the_keyboard() -> None:
    app = RollHost(one_track_song({}, rows=16))
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        song = app.document.song
        await pilot.press("right", "right", "enter")  # C-4 at row 2, one row long
        assert cells(song) == {2: [(60, None, None)], 3: [(OFF, None, None)]}
        assert roll.cursor_col == 3  # the cursor steps past the new note
        await pilot.press("left", "ctrl+right", "ctrl+up", "ctrl+up")  # a row later, D-4
        assert cells(song) == {3: [(62, None, None)], 4: [(OFF, None, None)]}
        await pilot.press("l", "l")  # three rows long
        assert cells(song) == {3: [(62, None, None)], 6: [(OFF, None, None)]}
        assert pitch_line(roll, "D-4")[3:9] == "███  ┊"
        await pilot.press("H")  # a beat shorter: one tick, which the roll rounds to a row
        assert cells(song) == {3: [(62, None, None)], 4: [(OFF, None, None)]}
        await pilot.press("L")  # a beat longer
        assert cells(song) == {3: [(62, None, None)], 8: [(OFF, None, None)]}
        await pilot.press("x")
        assert cells(song) == {}
        assert len(app.edits) == 9 and app.edits[-1] == frozenset({0})
        app.document.history.undo()
        roll.refresh_song()
        assert [(n.start, n.length, n.pitch) for n in roll.notes] == [(72, 120, 62)]


async def test_new_notes_take_the_last_length_and_the_edit_velocity() -> None:
    state = EditState(velocity=90)
    app = RollHost(one_track_song({}, rows=16), state)
    async with app.run_test(size=SIZE) as pilot:
        song = app.document.song
        await pilot.press("enter", "left", "l", "right", "right", "up", "n")
        # The second note is two rows long, like the first after lengthening; it starts where
        # the first ends, so it takes the place of the first one's OFF.
        assert cells(song) == {
            0: [(60, 90, None)],
            2: [(61, 90, None)],
            4: [(OFF, None, None)],
        }


async def test_velocity_keys_and_the_velocity_lane() -> None:
    song = one_track_song({0: note("C-4"), 2: note("OFF"), 4: note("E-4", 40)}, rows=16)
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        bars = lane(roll, "velocity", 4)
        # Velocity 100 is 25 eighths of 4 lines; 40 is 10 eighths.
        assert [line[0] for line in bars] == ["▁", "█", "█", "█"]
        assert [line[4] for line in bars] == [" ", " ", "▂", "█"]
        assert roll.cursor_pitch == 64  # the median pitch of the notes
        await pilot.press("end", "home", "right", "right", "right", "right", "plus", "plus")
        assert song.patterns[0].data[0][4].notes[0].velocity == 56
        await pilot.press("home", "down", "down", "down", "down")
        await pilot.press("plus", "plus", "plus", "plus")  # 100 + 32, capped at 127
        assert song.patterns[0].data[0][0].notes[0].velocity == 127
        await pilot.press("minus")
        assert song.patterns[0].data[0][0].notes[0].velocity == 119
        await pilot.press("plus")
        bars = lane(roll, "velocity", 4)
        assert [line[0] for line in bars] == ["█", "█", "█", "█"]


async def test_digits_draw_controller_values_and_c_switches_the_lane() -> None:
    app = RollHost(one_track_song({}, rows=16))
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        song = app.document.song
        await pilot.press("9", "4", "0")  # rows 0, 1, 2; the cursor steps right
        effects = {r: tr.effects for r, tr in song.patterns[0].data[0].items()}
        assert effects == {
            0: [EffectCell("C", 1 * 256 + 127)],
            1: [EffectCell("C", 1 * 256 + 56)],
            2: [EffectCell("C", 1 * 256 + 0)],
        }
        bars = lane(roll, "CC 1", 3)
        assert [line[:4] for line in bars] == ["█   ", "█▃  ", "██▁ "]
        await pilot.press("left", "backspace")
        assert 2 not in song.patterns[0].data[0]
        await pilot.press("c", "c", "c", "c", "c")  # 7, 10, 11, 64, 74
        assert roll.controller == 74
        assert all(not line.strip() for line in lane(roll, "CC 74", 3))
        await pilot.press("home", "5")
        assert song.patterns[0].data[0][0].effects == [
            EffectCell("C", 1 * 256 + 127),
            EffectCell("C", 74 * 256 + 71),
        ]


async def test_selection_by_toggle_rectangle_all_and_escape() -> None:
    song = one_track_song({0: note("C-4"), 1: note("OFF"), 2: note("E-4")}, rows=16)
    song.patterns[0].set_note(0, 4, 1, NoteCell(67))
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        starts = lambda: sorted(n.start for n in roll.selected_notes())  # noqa: E731
        await pilot.press("s")  # the cursor (E-4, row 0) is on no note
        assert starts() == []
        await pilot.press("right", "right", "s")
        assert starts() == [48]
        await pilot.press("s")
        assert starts() == []
        await pilot.press("ctrl+a")
        assert starts() == [0, 48, 96]
        await pilot.press("escape")
        assert starts() == []
        # A rectangle from (row 0, E-4) to (row 2, C-4): the first two notes.
        await pilot.press("home", "shift+right", "shift+right")
        await pilot.press("shift+down", "shift+down", "shift+down", "shift+down")
        assert starts() == [0, 48]
        # Moving the selection moves both notes, and the selection follows them.
        await pilot.press("ctrl+up")
        assert [(n.start, n.pitch) for n in roll.notes] == [(0, 61), (48, 65), (96, 67)]
        assert starts() == [0, 48]
        await pilot.press("delete")
        assert [(n.start, n.pitch) for n in roll.notes] == [(96, 67)]


def off_grid_song() -> Song:
    """Two notes played late and early against the rows (tpl 24)."""
    return one_track_song(
        {
            1: note("C-4", delay=6),  # tick 30
            3: note("OFF", delay=6),  # tick 78: 48 ticks long
            5: note("E-4", delay=16),  # tick 136
            7: note("OFF", delay=16),
        },
        rows=16,
    )


async def quantize_via_dialog(pilot, grid: str, strength: str, swing: str) -> None:
    await pilot.press("q")
    await pilot.pause()
    assert isinstance(pilot.app.screen, QuantizeDialog)
    for value in (grid, strength, swing):
        await pilot.press("end", "ctrl+u", *value, "tab")
    await pilot.press("shift+tab", "enter")
    await pilot.pause()
    assert not isinstance(pilot.app.screen, QuantizeDialog)


async def test_quantize_all_notes_fully() -> None:
    app = RollHost(off_grid_song())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await quantize_via_dialog(pilot, "1", "100", "50")
        assert cells(app.document.song) == {
            1: [(60, None, None)],
            3: [(OFF, None, None)],
            6: [(64, None, None)],
            8: [(OFF, None, None)],
        }


async def test_quantize_halfway_moves_only_the_selection() -> None:
    app = RollHost(off_grid_song())
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        await pilot.press("home")
        while roll.cursor_pitch != 60:
            await pilot.press("down")
        await pilot.press("right", "s")  # C-4 at row 1
        await quantize_via_dialog(pilot, "1", "50", "50")
        # C-4 moves half of its 6 ticks; its OFF keeps the length; E-4 stays.
        assert cells(app.document.song) == {
            1: [(60, None, 3)],
            3: [(OFF, None, 3)],
            5: [(64, None, 16)],
            7: [(OFF, None, 16)],
        }
        assert [n.start for n in roll.selected_notes()] == [27]


async def test_quantize_with_swing_moves_odd_grid_lines_later() -> None:
    app = RollHost(off_grid_song())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await quantize_via_dialog(pilot, "1", "100", "75")
        # Lines at 0, 36, 48, 84, 96, 132, 144...: 30 → 36 (row 1 + 12), 136 → 132 (row 5 + 12).
        assert cells(app.document.song) == {
            1: [(60, None, 12)],
            3: [(OFF, None, 12)],
            5: [(64, None, 12)],
            7: [(OFF, None, 12)],
        }


async def test_a_wrong_quantize_value_keeps_the_dialog_open() -> None:
    app = RollHost(off_grid_song())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q", "end", "ctrl+u", "0", "enter")
        assert isinstance(app.screen, QuantizeDialog)
        await pilot.press("escape")
        assert not isinstance(app.screen, QuantizeDialog)
        assert cells(app.document.song)[1] == [(60, None, 6)]


async def test_zoom_draws_rows_wider() -> None:
    song = one_track_song({0: note("C-4"), 1: note("OFF")}, rows=16)
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        assert pitch_line(roll, "C-4")[:2] == "█ "
        await pilot.press("full_stop")
        assert pitch_line(roll, "C-4")[:3] == "██ "
        await pilot.press("full_stop")
        assert pitch_line(roll, "C-4")[:5] == "████ "
        await pilot.press("comma", "comma")
        assert pitch_line(roll, "C-4")[:2] == "█ "


async def test_playhead_is_drawn_on_the_ruler() -> None:
    app = RollHost(one_track_song({}, rows=16))
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        roll.set_playhead(0, 5)
        await pilot.pause()
        assert screen_lines(roll)[0][KEY_WIDTH + 5] == "▼"
        roll.set_playhead(3, 5)  # another pattern plays
        assert "▼" not in screen_lines(roll)[0]


async def test_a_long_pattern_renders_only_what_is_visible(monkeypatch) -> None:
    song = one_track_song({}, rows=16)
    song.patterns[0] = Pattern(512)
    for row in range(0, 512, 8):
        song.patterns[0].set_note(0, row, 0, NoteCell(48 + row % 24))
    painted: list[tuple[int, int]] = []
    real = piano_roll.paint_notes

    def spy(notes, scale, col0, col1):
        painted.append((col0, col1))
        return real(notes, scale, col0, col1)

    monkeypatch.setattr(piano_roll, "paint_notes", spy)
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.press("end")
        await pilot.pause()
        painted.clear()
        roll.refresh()
        await pilot.pause()
        region = roll.scrollable_content_region
        visible_cols = region.width - KEY_WIDTH
        assert painted, "nothing was drawn"
        assert len(painted) <= region.height  # one call per visible pitch line at most
        assert all(col1 - col0 <= visible_cols for col0, col1 in painted)
        assert all(col1 == 512 and col0 > 0 for col0, col1 in painted)  # scrolled to the end
        assert roll.cursor_col == 511


async def test_switching_pattern_and_clicking() -> None:
    song = one_track_song({0: note("C-4"), 1: note("OFF")}, rows=16)
    song.patterns[1] = Pattern(8)
    song.patterns[1].set_note(0, 2, 0, NoteCell(72))
    app = RollHost(song)
    async with app.run_test(size=SIZE) as pilot:
        roll = app.query_one(PianoRoll)
        await pilot.pause()
        app.state.pattern = 1
        roll.refresh_song()
        await pilot.pause()
        assert [(n.start, n.pitch) for n in roll.notes] == [(48, 72)]
        assert pitch_line(roll, "C-5")[:9] == "│ ██████ "  # to the end of 8 rows
        lines = screen_lines(roll)
        y = next(i for i, line in enumerate(lines) if line.startswith("C-5"))
        await pilot.click(PianoRoll, offset=(KEY_WIDTH + 6, y))
        assert (roll.cursor_col, roll.cursor_pitch, app.state.row) == (6, 72, 6)


@pytest.mark.parametrize("key", ["space", "tab", "question_mark", "less_than_sign", "f1"])
async def test_keys_of_the_app_are_left_alone(key: str) -> None:
    bound = {k for b in PianoRoll.BINDINGS for k in b.key.split(",")}  # type: ignore[union-attr]
    assert key not in bound
