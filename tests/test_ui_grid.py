"""The pattern grid, driven from the keyboard: what lands in the song and what shows on screen."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip

from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Pattern, Song, Track
from tracker.session.document import Document
from tracker.ui.edit_state import EditState
from tracker.ui.pattern_grid import PatternGrid

SIZE = (160, 50)


def two_track_song(rows: int = 64) -> Song:
    return Song(
        title="grid",
        instruments={1: "drums", 2: "bass"},
        tracks=[Track("Drums", instrument=1), Track("Bass", instrument=2)],
        patterns={0: Pattern(rows, "main")},
        order=[0],
    )


class GridHost(App[None]):
    """Only the grid, plus what the real app would do with its messages."""

    def __init__(self, song: Song | None = None, state: EditState | None = None) -> None:
        super().__init__()
        self.document = Document(song or two_track_song(), None)
        self.state = state or EditState(instrument=1)
        self.edited: list[frozenset[int] | None] = []
        self.moves = 0
        self.played: list[int] = []

    def compose(self) -> ComposeResult:
        yield PatternGrid(self.document, self.state, id="grid")

    @property
    def grid(self) -> PatternGrid:
        return self.query_one(PatternGrid)

    def undo(self) -> None:
        self.document.history.undo()
        self.grid.refresh_song()

    def on_pattern_grid_edited(self, message: PatternGrid.Edited) -> None:
        self.edited.append(message.changed)

    def on_pattern_grid_cursor_moved(self, _: PatternGrid.CursorMoved) -> None:
        self.moves += 1

    def on_pattern_grid_note_entered(self, message: PatternGrid.NoteEntered) -> None:
        self.played.append(message.pitch)


def cell(app: GridHost, track: int, row: int, column: int = 0) -> NoteCell | None:
    track_row = app.document.song.patterns[app.state.pattern].get(track, row)
    if track_row is None or column >= len(track_row.notes):
        return None
    return track_row.notes[column]


def pitches(app: GridHost, track: int) -> dict[int, int | None]:
    rows = app.document.song.patterns[app.state.pattern].data.get(track, {})
    return {row: tr.notes[0].note for row, tr in sorted(rows.items()) if tr.notes and tr.notes[0]}


def line(app: GridHost, row: int) -> str:
    """The text the grid draws for a pattern row (line 0 is the header)."""
    grid = app.grid
    return grid.render_line(row - grid.scroll_offset.y + 1).text


async def test_four_on_the_floor_kick_then_undo() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        app.state.step = 4
        await pilot.press("z", "z", "z", "z")
        assert pitches(app, 0) == {0: 60, 4: 60, 8: 60, 12: 60}
        assert cell(app, 0, 4) == NoteCell(60, 1, None, None)
        assert app.state.row == 16
        assert "C-4 01 .. .." in line(app, 0)
        assert "C-4 01 .. .." in line(app, 12)
        assert "... .. .. .." in line(app, 1)
        assert app.edited == [frozenset({0})] * 4
        assert app.played == [60] * 4
        app.undo()
        assert pitches(app, 0) == {0: 60, 4: 60, 8: 60}
        await pilot.pause()
        assert "C-4" not in line(app, 12)


async def test_bassline_with_note_offs_and_a_cut_on_the_second_track() -> None:
    app = GridHost(state=EditState(octave=2, step=2, instrument=2))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert app.state.track == 1
        await pilot.press("z", "1", "v", "1", "q", "exclamation_mark")
        assert pitches(app, 1) == {0: 36, 2: OFF, 4: 41, 6: OFF, 8: 48, 10: CUT}
        assert cell(app, 1, 2) == NoteCell(OFF)  # no instrument or velocity on an OFF
        assert pitches(app, 0) == {}
        text = line(app, 2)
        assert text.index("OFF") > text.index("│ ... .. .. ..")  # drawn in the second track
        assert "C-2 02 .. .." in line(app, 0)
        assert "F-2 02" in line(app, 4)
        assert "^^^ .. .. .." in line(app, 10)


async def test_hex_entry_of_instrument_velocity_and_delay() -> None:
    app = GridHost(state=EditState())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "up")  # C-4 on row 0 with no instrument; back to row 0
        await pilot.press("right", "0", "2")  # instrument 02
        assert cell(app, 0, 0) == NoteCell(60, 2, None, None)
        await pilot.press("right", "6", "4")  # velocity 64
        assert cell(app, 0, 0).velocity == 0x64  # type: ignore[union-attr]
        assert "C-4 02 64 .." in line(app, 0)
        await pilot.press("f", "f")  # 4F, then FF clamps to the highest velocity
        assert cell(app, 0, 0).velocity == 0x7F  # type: ignore[union-attr]
        await pilot.press("right", "f", "f")  # delay: below ticks-per-line (24)
        assert cell(app, 0, 0).delay == 23  # type: ignore[union-attr]
        assert "C-4 02 7F 17" in line(app, 0)
        # An empty velocity: `0` would be 00 (clamped to 01), then `8` makes 08, not 18.
        await pilot.press("down", "left", "0")
        assert cell(app, 0, 1) == NoteCell(None, None, 1, None)
        await pilot.press("8")
        assert cell(app, 0, 1).velocity == 8  # type: ignore[union-attr]
        assert app.state.row == 1  # hex entry does not move the cursor


async def test_octave_and_step_keys() -> None:
    app = GridHost(state=EditState(step=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("minus", "z")
        await pilot.press("plus", "plus", "z")
        await pilot.press("equals_sign", "q")
        assert pitches(app, 0) == {0: 48, 1: 72, 2: 96}  # C-3, C-5, C-7 (upper row of 6)
        assert app.state.octave == 6
        for _ in range(10):
            await pilot.press("plus")
        assert app.state.octave == 8
        await pilot.press("right_curly_bracket", "right_curly_bracket")
        assert app.state.step == 3
        for _ in range(5):
            await pilot.press("left_curly_bracket")
        assert app.state.step == 0
        await pilot.press("home", "m")
        assert app.state.row == 0  # step 0: the cursor stays
        assert cell(app, 0, 0).note == 119  # type: ignore[union-attr]  # B-8


async def test_block_select_copy_and_paste() -> None:
    app = GridHost(state=EditState(step=4, instrument=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "x")  # C-4 on 0, D-4 on 4
        await pilot.press("home")
        for _ in range(7):
            await pilot.press("shift+down")
        grid = app.grid
        assert grid.selection is not None
        assert (grid.selection.row0, grid.selection.row1) == (0, 7)
        await pilot.press("ctrl+c", "f10")  # copy, then jump to row 16
        assert app.state.row == 16
        await pilot.press("ctrl+v")
        assert pitches(app, 0) == {0: 60, 4: 62, 16: 60, 20: 62}
        assert "C-4 01 .. .." in line(app, 16)
        assert "D-4 01 .. .." in line(app, 20)
        # Paste into the second track too: the clip is one track wide.
        await pilot.press("tab", "f11", "ctrl+v")
        assert pitches(app, 1) == {32: 60, 36: 62}
        app.undo()
        assert pitches(app, 1) == {}
        assert pitches(app, 0) == {0: 60, 4: 62, 16: 60, 20: 62}


async def test_copy_without_a_selection_takes_the_cursor_row() -> None:
    app = GridHost(state=EditState(step=0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "ctrl+c", "down", "down", "ctrl+v")
        assert pitches(app, 0) == {0: 64, 2: 64}


async def test_shift_left_right_select_whole_tracks() -> None:
    app = GridHost(state=EditState(step=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "tab", "up", "x", "up")
        await pilot.press("shift+left", "shift+down", "ctrl+c")
        block = app.grid.selection
        assert block is not None
        assert (block.track0, block.track1, block.row0, block.row1) == (0, 1, 0, 1)
        await pilot.press("escape")
        assert app.grid.selection is None
        await pilot.press("f10", "ctrl+v")
        assert pitches(app, 0) == {0: 60, 16: 60}
        assert pitches(app, 1) == {0: 62, 16: 62}


async def test_transpose_by_semitone_and_octave() -> None:
    app = GridHost(state=EditState(step=4))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "z", "1", "home")
        await pilot.press("shift+down", "shift+down", "shift+down", "shift+down")
        await pilot.press("ctrl+up")  # rows 0..4
        assert pitches(app, 0) == {0: 61, 4: 61, 8: OFF}
        assert "C#4" in line(app, 0)
        await pilot.press("ctrl+shift+up")
        assert pitches(app, 0) == {0: 73, 4: 73, 8: OFF}
        await pilot.press("ctrl+pagedown", "ctrl+pagedown")  # terminals without ctrl+shift
        assert pitches(app, 0) == {0: 49, 4: 49, 8: OFF}
        assert "C#3" in line(app, 4)
        await pilot.press("escape", "ctrl+down")  # no selection: the note under the cursor
        assert pitches(app, 0) == {0: 49, 4: 48, 8: OFF}
        await pilot.press("ctrl+pageup")
        assert pitches(app, 0) == {0: 49, 4: 60, 8: OFF}
        app.undo()
        assert pitches(app, 0) == {0: 49, 4: 48, 8: OFF}


async def test_velocity_ramp_over_the_selection() -> None:
    state = EditState(step=4, velocity=0x10)
    app = GridHost(state=state)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z")
        state.velocity = None
        await pilot.press("z", "z")
        state.velocity = 0x70
        await pilot.press("z", "ctrl+a", "ctrl+r")
        velocities = [cell(app, 0, row).velocity for row in (0, 4, 8, 12)]  # type: ignore[union-attr]
        assert velocities == [0x10, 0x30, 0x50, 0x70]
        assert "C-4 .. 30 .." in line(app, 4)
        assert "C-4 .. 50 .." in line(app, 8)


async def test_cut_then_paste_elsewhere() -> None:
    app = GridHost(state=EditState(step=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "x", "c", "home", "shift+down", "ctrl+x")
        assert pitches(app, 0) == {2: 64}
        assert app.grid.clipboard is not None
        await pilot.press("escape", "end", "up", "ctrl+v")
        assert pitches(app, 0) == {2: 64, 62: 60, 63: 62}
        assert "D-4" in line(app, 63)


async def test_delete_and_backspace() -> None:
    app = GridHost(state=EditState(step=1, instrument=1, velocity=0x40))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "z", "z", "home")
        await pilot.press("right", "right", "delete")  # velocity of row 0, then down a row
        assert cell(app, 0, 0) == NoteCell(60, 1, None, None)
        assert app.state.row == 1
        await pilot.press("left", "left", "delete")  # the whole note cell of row 1
        assert cell(app, 0, 1) is None
        assert app.state.row == 2
        await pilot.press("right", "backspace")  # whole cell from the instrument field, stays
        assert cell(app, 0, 2) is None
        assert app.state.row == 2
        assert pitches(app, 0) == {0: 60}
        assert "C-4 01 .. .." in line(app, 0)
        assert "... .. .. .." in line(app, 2)


async def test_effect_entry() -> None:
    app = GridHost(state=EditState(step=1))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(4):
            await pilot.press("right")  # note, instrument, velocity, delay → effect command
        await pilot.press("c", "right", "0", "7", "4", "0")
        effects = app.document.song.patterns[0].get(0, 0).effects  # type: ignore[union-attr]
        assert effects == [EffectCell("C", 0x0740)]
        assert "C0740 .." in line(app, 0)
        await pilot.press("down", "left", "t", "right", "1", "2", "8")
        tempo = app.document.song.patterns[0].get(0, 1).effects[0]  # type: ignore[union-attr]
        assert (tempo.command, tempo.value) == ("T", 128)
        assert "T128  .." in line(app, 1)
        await pilot.press("right", "0", "c")  # effect delay 0C
        assert app.document.song.patterns[0].get(0, 1).effects[0].delay == 12  # type: ignore[union-attr]
        assert "T128  0C" in line(app, 1)
        await pilot.press("left", "delete")  # the value field: clears the whole effect
        assert app.document.song.patterns[0].get(0, 1) is None


async def test_navigation_keys() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("pagedown")
        assert app.state.row == 16
        await pilot.press("f12")
        assert app.state.row == 48
        await pilot.press("end")
        assert app.state.row == 63
        await pilot.press("down")
        assert app.state.row == 63  # no wrapping
        await pilot.press("pageup", "f9")
        assert app.state.row == 0
        await pilot.press("shift+tab")
        assert app.state.track == 0
        await pilot.press("tab", "tab")
        assert app.state.track == 1
        assert app.moves >= 5


async def test_new_and_cloned_patterns_join_the_order_after_the_current_one() -> None:
    app = GridHost(state=EditState(step=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "ctrl+d")
        song = app.document.song
        assert song.order == [0, 1]
        assert app.state.pattern == 1 and app.state.order_index == 1
        assert pitches(app, 0) == {0: 60}  # the clone
        assert song.patterns[1].name == "main copy"
        await pilot.press("ctrl+n")
        assert song.order == [0, 1, 2]
        assert (app.state.pattern, song.patterns[2].length) == (2, 64)
        assert pitches(app, 0) == {}
        assert app.edited[-1] is None  # song-wide
        app.undo()
        assert song.order == [0, 1]
        assert app.state.pattern == 1  # refresh_song fell back to the order position


async def test_resize_from_the_palette_clamps_the_cursor() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end")
        app.grid.resize(16)
        await pilot.pause()
        assert app.document.song.patterns[0].length == 16
        assert app.state.row == 15
        assert app.grid.virtual_size.height == 17  # the header and 16 rows
        app.undo()
        assert app.document.song.patterns[0].length == 64


async def test_mute_and_solo_dim_the_headers() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        grid = app.grid
        assert "01 Drums" in grid.render_line(0).text
        await pilot.press("ctrl+k")
        assert app.document.song.tracks[0].mute
        assert "M │" in grid.render_line(0).text
        silent = grid.get_component_rich_style("pattern-grid--header-silent")
        header = grid.render_line(0)
        drums = next(seg for seg in header if "Drums" in seg.text)
        bass = next(seg for seg in header if "Bass" in seg.text)
        assert drums.style is not None and bass.style is not None
        assert drums.style.color == silent.color != bass.style.color
        await pilot.press("ctrl+k", "tab", "ctrl+f")
        assert app.document.song.tracks[1].solo
        assert not app.document.song.tracks[0].mute
        assert "S │" in grid.render_line(0).text
        app.undo()
        assert not app.document.song.tracks[1].solo


async def test_playhead_follow_moves_the_cursor_and_scrolls() -> None:
    app = GridHost(Song(tracks=[Track("T")], patterns={0: Pattern(256)}, order=[0]))
    async with app.run_test(size=SIZE) as pilot:
        grid = app.grid
        grid.set_playhead(0, 200)
        await pilot.pause()
        assert app.state.row == 200
        assert grid.scroll_offset.y > 150
        playing = grid.get_component_rich_style("pattern-grid--playhead")
        first = next(iter(grid.render_line(200 - grid.scroll_offset.y + 1)))
        assert first.style is not None and first.style.bgcolor == playing.bgcolor
        app.state.follow = False
        grid.set_playhead(0, 10)
        assert app.state.row == 200
        grid.set_playhead(None, None)
        assert grid.playhead is None


async def test_hex_row_numbers() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        grid = app.grid
        assert line(app, 10).startswith("10 │")
        grid.hex_rows = True
        await pilot.pause()
        assert line(app, 10).startswith("0A │")


async def test_rendering_costs_the_visible_lines_only() -> None:
    rendered: list[int] = []

    class CountingGrid(PatternGrid):
        def _row_strip(self, row, width):  # type: ignore[no-untyped-def]
            rendered.append(row)
            return super()._row_strip(row, width)

    class BigHost(GridHost):
        def compose(self) -> ComposeResult:
            yield CountingGrid(self.document, self.state)

    tracks = [Track(f"T{i}", note_columns=1, effect_columns=1) for i in range(16)]
    song = Song(tracks=tracks, patterns={0: Pattern(512)}, order=[0])
    app = BigHost(song)
    async with app.run_test(size=SIZE) as pilot:
        grid = app.grid
        height = grid.scrollable_content_region.height
        assert grid.virtual_size.height == 513
        assert rendered and max(rendered) < height
        rendered.clear()
        await pilot.press("end")
        await pilot.pause()
        assert rendered and min(rendered) >= 512 - height
        assert len(rendered) <= 2 * height  # a refresh or two, never the pattern


async def test_the_view_follows_the_cursor_across_many_tracks() -> None:
    tracks = [Track(f"Track{i}", note_columns=1, effect_columns=1) for i in range(16)]
    song = Song(tracks=tracks, instruments={1: "bass"}, patterns={0: Pattern(64)}, order=[0])
    app = GridHost(song)
    async with app.run_test(size=(100, 30)) as pilot:
        grid = app.grid
        assert "01 Track0" in grid.render_line(0).text
        for _ in range(15):
            await pilot.press("tab")
        await pilot.press("z")
        header = grid.render_line(0).text
        assert "16 Track15" in header and "01 Track0" not in header
        assert line(app, 0).startswith("00 │")  # the gutter stays put
        assert line(app, 0).rstrip().endswith("C-4 01 .. .. ..... .. │")


async def test_a_click_puts_the_cursor_on_a_field() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        grid = app.grid
        x = grid.render_line(1).text.index("│ ...", 5) + 2 + len("... .. ")  # 2nd velocity
        await pilot.click(PatternGrid, offset=(x, 6))  # line 6 shows row 5
        assert (app.state.track, app.state.row) == (1, 5)
        assert grid.cursor.current(app.document.song).name == "velocity"  # type: ignore[union-attr]


async def test_every_binding_has_a_description_and_spares_the_apps_keys() -> None:
    reserved = {"space", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "question_mark"}
    reserved |= {f"ctrl+{k}" for k in "sqzypolg"}
    reserved |= {"less_than_sign", "greater_than_sign", "left_square_bracket"}
    reserved |= {"right_square_bracket"}
    keys: set[str] = set()
    for binding in PatternGrid.BINDINGS:
        assert isinstance(binding, Binding)
        assert binding.description, binding.key
        keys.update(binding.key.split(","))
    assert not keys & reserved
    assert {"z", "q", "1", "exclamation_mark", "ctrl+pageup", "f9", "shift+tab"} <= keys


# --- drawing only what changed ---------------------------------------------------------------


def shown(app: GridHost, row: int) -> str:
    """The text on screen for a pattern row: through Textual's line cache, so a line the grid
    forgot to refresh shows its old text."""
    grid = app.grid
    y = row - grid.scroll_offset.y + 1
    return grid.render_lines(Region(0, y, grid.size.width, 1))[0].text


def count_drawn_rows(grid: PatternGrid) -> list[int]:
    """Record the rows the grid draws from now on."""
    drawn: list[int] = []
    draw = grid._row_strip

    def counting(row: int, width: int) -> Strip:
        drawn.append(row)
        return draw(row, width)

    grid._row_strip = counting  # type: ignore[method-assign]
    return drawn


async def test_edits_typed_made_elsewhere_and_undone_all_show_on_screen() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "C-4" not in shown(app, 0)
        await pilot.press("z")
        await pilot.pause()
        assert "C-4 01" in shown(app, 0)
        with app.document.history.edit("elsewhere", tracks=[(0, 1)]) as song:
            song.patterns[0].set_note(1, 5, 0, NoteCell(62, 2, None, None))
        app.grid.refresh_song()
        await pilot.pause()
        assert "D-4 02" in shown(app, 5)
        app.undo()  # outside the widget, then refresh_song()
        await pilot.pause()
        assert "D-4" not in shown(app, 5)
        app.undo()
        await pilot.pause()
        assert "C-4" not in shown(app, 0)


async def test_a_cursor_move_draws_only_the_two_rows_it_touches() -> None:
    app = GridHost()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        drawn = count_drawn_rows(app.grid)
        await pilot.press("down")
        await pilot.pause()
        assert sorted(drawn) == [0, 1]
        drawn.clear()
        await pilot.press("z")  # the note's row, then the cursor leaves it for the next one
        await pilot.pause()
        assert sorted(set(drawn)) == [1, 2]
        assert "C-4 01" in shown(app, 1)


async def test_the_playhead_redraws_only_the_rows_it_leaves_and_reaches() -> None:
    app = GridHost(state=EditState(instrument=1, follow=False))
    async with app.run_test(size=SIZE) as pilot:
        app.grid.set_playhead(0, 4)
        await pilot.pause()
        drawn = count_drawn_rows(app.grid)
        app.grid.set_playhead(0, 5)
        await pilot.pause()
        assert sorted(drawn) == [4, 5]
        assert shown(app, 5).rstrip() == line(app, 5).rstrip()


async def test_a_drawn_row_is_reused_when_the_view_scrolls_back() -> None:
    app = GridHost()
    async with app.run_test(size=(160, 20)) as pilot:
        await pilot.press("z")
        await pilot.press("pagedown", "pagedown", "home")
        await pilot.pause()
        assert "C-4 01" in shown(app, 0)
        assert app.grid.scroll_offset.y == 0
