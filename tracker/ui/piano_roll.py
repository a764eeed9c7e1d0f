"""The piano roll: one track of one pattern as note bars over a keyboard, with lanes below.

Drawn with the line API: `render_line` paints only the visible columns of one screen line, so a
512-row pattern costs what the window shows. The top line (a time ruler), the keyboard at the
left and the velocity and CC lanes at the bottom stay put; the pitch area between them scrolls.
The virtual size is the pitch area's (plus the fixed parts), so the scrollbars and the
scroll offsets mean pitch lines and time columns.

Every edit is one undo step (`history.edit`) made of tracker.model.roll calls, followed by an
`Edited` message for the app (live playback, the pattern grid).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tracker.model.quantize import quantize
from tracker.model.roll import (
    RollNote,
    add_roll_note,
    cc_values,
    delete_roll_note,
    move_roll_note,
    resize_roll_note,
    roll_notes,
    set_cc,
    set_roll_velocity,
)
from tracker.model.song import Song
from tracker.session.document import Document
from tracker.ui.edit_state import EditState
from tracker.ui.quantize_dialog import QuantizeDialog, QuantizeSettings
from tracker.ui.roll_view import (
    PITCHES,
    ZOOMS,
    TimeScale,
    bar_char,
    bar_eighths,
    cc_by_column,
    centre_pitch,
    centred,
    grid_kind,
    is_black_key,
    keyboard_label,
    line_of_pitch,
    note_at,
    notes_in_rect,
    paint_notes,
    pitch_of_line,
    ruler_text,
    scroll_to_show,
    velocity_by_column,
)

T = TypeVar("T")
NoteKey = tuple[int, int, int]  # (start, pitch, column): how roll.py finds a note again

KEY_WIDTH = 5  # the keyboard at the left
TOP_LINES = 1  # the time ruler
VELOCITY_LINES = 4
CC_LINES = 3
BOTTOM_LINES = 1 + VELOCITY_LINES + 1 + CC_LINES  # a title line above each lane
CONTROLLERS = (1, 7, 10, 11, 64, 74)  # mod wheel, volume, pan, expression, sustain, cutoff
VELOCITY_STEP = 8

_KEY_WHITE = Style(color="#101010", bgcolor="#b8b8b8")
_KEY_BLACK = Style(color="#d0d0d0", bgcolor="#2a2a2a")
_KEY_CURSOR = Style(color="#000000", bgcolor="#e8c060", bold=True)
_ROW_WHITE = "#1e1e1e"
_ROW_BLACK = "#151515"
_CURSOR_BG = "#6a6a6a"
_PLAYHEAD_BG = "#1f4a2a"
_GRID_FG = {"bar": "#707070", "beat": "#484848", "row": "#303030", "": "#303030"}
_GRID_CHAR = {"bar": "│", "beat": "┊", "row": " ", "": " "}
_NOTE_COLOURS = ("#3a5f9a", "#4a7cc0", "#5c9ae0", "#7ab8ff")  # by velocity, soft to loud
_SELECTED = "#ffb020"
_CURSOR_NOTE = "#ffffff"
_LANE_FG = "#5c9ae0"
_LANE_BG = "#101010"
_TITLE = Style(color="#909090", bgcolor="#101010")
_RULER = Style(color="#a0a0a0", bgcolor="#101010")


def _style(fg: str, bg: str, *, bold: bool = False) -> Style:
    return Style(color=fg, bgcolor=bg, bold=bold)


def _strip(cells: list[tuple[str, Style]], width: int) -> Strip:
    """Join cells into segments, one per run of equal style."""
    segments: list[Segment] = []
    text = ""
    style: Style | None = None
    for char, cell_style in cells:
        if cell_style == style:
            text += char
            continue
        if text:
            segments.append(Segment(text, style))
        text, style = char, cell_style
    if text:
        segments.append(Segment(text, style))
    return Strip(segments).adjust_cell_length(width, _TITLE)


class PianoRoll(ScrollView, can_focus=True):
    """Notes of the current track of the current pattern as bars over a keyboard."""

    DEFAULT_CSS = """
    PianoRoll {
        scrollbar-size: 1 1;
        background: #101010;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "cursor(-1, 0)", "Cursor left one column", show=False),
        Binding("right", "cursor(1, 0)", "Cursor right one column", show=False),
        Binding("up", "cursor(0, 1)", "Cursor up a semitone", show=False),
        Binding("down", "cursor(0, -1)", "Cursor down a semitone", show=False),
        Binding("pageup", "cursor(0, 12)", "Cursor up an octave", show=False),
        Binding("pagedown", "cursor(0, -12)", "Cursor down an octave", show=False),
        Binding("home", "cursor_to_edge(False)", "Cursor to the pattern start", show=False),
        Binding("end", "cursor_to_edge(True)", "Cursor to the pattern end", show=False),
        Binding("shift+left", "cursor(-1, 0, True)", "Extend selection left", show=False),
        Binding("shift+right", "cursor(1, 0, True)", "Extend selection right", show=False),
        Binding("shift+up", "cursor(0, 1, True)", "Extend selection up", show=False),
        Binding("shift+down", "cursor(0, -1, True)", "Extend selection down", show=False),
        Binding("enter,n", "add_note", "Add note", show=True),
        Binding("delete,x", "delete_notes", "Delete notes", show=True),
        Binding("s", "toggle_select", "Select/unselect the note at the cursor", show=True),
        Binding("ctrl+a", "select_all", "Select all notes", show=False),
        Binding("escape", "clear_selection", "Clear the selection", show=False),
        Binding("ctrl+up", "move_notes(0, 1)", "Move notes up a semitone", show=False),
        Binding("ctrl+down", "move_notes(0, -1)", "Move notes down a semitone", show=False),
        Binding("ctrl+left", "move_notes(-1, 0)", "Move notes one column earlier", show=False),
        Binding("ctrl+right", "move_notes(1, 0)", "Move notes one column later", show=False),
        Binding("l", "resize_notes(1, False)", "Lengthen notes by a column", show=True),
        Binding("h", "resize_notes(-1, False)", "Shorten notes by a column", show=True),
        Binding("L", "resize_notes(1, True)", "Lengthen notes by a beat", show=False),
        Binding("H", "resize_notes(-1, True)", "Shorten notes by a beat", show=False),
        Binding("plus,equals_sign", "velocity(1)", "Velocity +8", show=True),
        Binding("minus", "velocity(-1)", "Velocity -8", show=True),
        Binding("c", "cycle_controller", "Next CC lane controller", show=True),
        *(
            Binding(
                str(d),
                f"cc_value({d})",
                f"CC value {round(d * 127 / 9)} at the cursor row",
                show=False,
            )
            for d in range(10)
        ),
        Binding("backspace", "cc_value(-1)", "Remove the CC value at the cursor row", show=False),
        Binding("q", "quantize", "Quantize", show=True),
        Binding("full_stop", "zoom(1)", "Zoom in (more columns per row)", show=False),
        Binding("comma", "zoom(-1)", "Zoom out (fewer columns per row)", show=False),
    ]

    class Edited(Message):
        """The roll changed the song; `changed` is the pattern ids touched (None: song-wide)."""

        def __init__(self, changed: frozenset[int] | None) -> None:
            super().__init__()
            self.changed = changed

    def __init__(self, document: Document, state: EditState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.document = document
        self.state = state
        self.cursor_col = 0
        self.cursor_pitch = 60
        self.cols_per_row = ZOOMS[0]
        self.controller = CONTROLLERS[0]
        self.last_length: int | None = None  # ticks; None: one row
        self.selected: set[NoteKey] = set()
        self.quantize_settings = QuantizeSettings()
        self._anchor: tuple[int, int] | None = None  # (column, pitch) of a selection rectangle
        self._playhead_row: int | None = None
        self._notes: list[RollNote] = []
        self._by_pitch: dict[int, list[RollNote]] = {}
        self._cc: dict[int, int] = {}
        self._shown: tuple[int, int] | None = None
        self._centred = False
        self.refresh_song()

    # --- what is shown ----------------------------------------------------------------------

    @property
    def song(self) -> Song:
        return self.document.song

    @property
    def notes(self) -> list[RollNote]:
        """The notes drawn, as roll_notes read them at the last refresh."""
        return self._notes

    @property
    def scale(self) -> TimeScale:
        pattern = self.song.patterns.get(self.state.pattern)
        rows = pattern.length if pattern is not None else 1
        return TimeScale(self.song.ticks_per_line, self.cols_per_row, rows)

    def _valid(self) -> bool:
        return self.state.pattern in self.song.patterns and 0 <= self.state.track < len(
            self.song.tracks
        )

    def refresh_song(self) -> None:
        """Re-read the notes (after undo/redo, or a pattern or track switch) and redraw."""
        shown = (self.state.pattern, self.state.track)
        switched = shown != self._shown
        self._shown = shown
        self._reload()
        if switched:
            self.selected.clear()
            self._anchor = None
            if self._centred:
                self.cursor_pitch = centre_pitch(self._notes)
        else:
            self.selected &= {self._key(n) for n in self._notes}
        scale = self.scale
        if scale.row_of_col(self.cursor_col) != self.state.row:
            self.cursor_col = scale.col_of_row(self.state.row)
        self.cursor_col = scale.clamp_col(self.cursor_col)
        self.virtual_size = Size(KEY_WIDTH + scale.columns, TOP_LINES + PITCHES + BOTTOM_LINES)
        if switched and self._centred:
            self._centre()
        else:
            self._show_cursor()
        self.refresh()

    def _reload(self) -> None:
        if not self._valid():
            self._notes, self._cc = [], {}
        else:
            p, t = self.state.pattern, self.state.track
            self._notes = roll_notes(self.song, p, t)
            self._cc = cc_values(self.song, p, t, self.controller)
        self._by_pitch = {}
        for note in self._notes:
            self._by_pitch.setdefault(note.pitch, []).append(note)

    def set_playhead(self, pattern: int | None, row: int | None) -> None:
        """Draw the playhead on `row` when `pattern` is the one shown (None hides it)."""
        new = row if pattern is not None and pattern == self.state.pattern else None
        if new == self._playhead_row:
            return
        self._playhead_row = new
        if new is not None and self.state.follow:
            col = self.scale.col_of_row(new)
            x = scroll_to_show(col, self.scroll_offset.x, self._time_width())
            if x != self.scroll_offset.x:
                self.scroll_to(x=x, animate=False)
        self.refresh()

    # --- geometry ---------------------------------------------------------------------------

    def _time_width(self) -> int:
        return max(0, self.scrollable_content_region.width - KEY_WIDTH)

    def _pitch_lines(self) -> int:
        return max(0, self.scrollable_content_region.height - TOP_LINES - BOTTOM_LINES)

    def _show_cursor(self) -> None:
        if not self._centred:
            return
        x = scroll_to_show(self.cursor_col, self.scroll_offset.x, self._time_width())
        y = scroll_to_show(
            line_of_pitch(self.cursor_pitch), self.scroll_offset.y, self._pitch_lines()
        )
        if (x, y) != tuple(self.scroll_offset):
            self.scroll_to(x=x, y=y, animate=False)

    def _centre(self) -> None:
        y = centred(line_of_pitch(self.cursor_pitch), self._pitch_lines(), PITCHES)
        x = scroll_to_show(self.cursor_col, 0, self._time_width())
        self.scroll_to(x=x, y=y, animate=False, force=True)

    def on_resize(self) -> None:
        if not self._centred and self.scrollable_content_region.height > 0:
            self._centred = True
            self.cursor_pitch = centre_pitch(self._notes)
            self._centre()
        else:
            self._show_cursor()

    # --- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width <= 0:
            return Strip.blank(0)
        scale = self.scale
        col0 = self.scroll_offset.x
        col1 = min(scale.columns, col0 + max(0, width - KEY_WIDTH))
        pitch_lines = self._pitch_lines()
        if y < TOP_LINES:
            cells = self._ruler(scale, col0, col1)
        elif y < TOP_LINES + pitch_lines:
            line = self.scroll_offset.y + y - TOP_LINES
            if line >= PITCHES:
                return Strip.blank(width, _TITLE)
            cells = self._pitch_line(pitch_of_line(line), scale, col0, col1)
        else:
            cells = self._lane_line(y - TOP_LINES - pitch_lines, scale, col0, col1)
        return _strip(cells, width)

    def _ruler(self, scale: TimeScale, col0: int, col1: int) -> list[tuple[str, Style]]:
        label = f"P{self.state.pattern}"[:KEY_WIDTH].ljust(KEY_WIDTH)
        cells = [(ch, _RULER) for ch in label]
        lpb, bpb = self.song.lines_per_beat, self.song.time_signature[0]
        text = ruler_text(scale, lpb, bpb, col0, col1)
        playhead = self._playhead_col(scale)
        for col, ch in zip(range(col0, col1), text, strict=True):
            if col == playhead:
                cells.append(("▼", _style("#60e080", "#101010", bold=True)))
            elif col == self.cursor_col:
                cells.append((ch, _style("#000000", "#e8c060")))
            else:
                cells.append((ch, _RULER))
        return cells

    def _playhead_col(self, scale: TimeScale) -> int | None:
        return None if self._playhead_row is None else scale.col_of_row(self._playhead_row)

    def _pitch_line(
        self, pitch: int, scale: TimeScale, col0: int, col1: int
    ) -> list[tuple[str, Style]]:
        cursor_line = pitch == self.cursor_pitch
        label = keyboard_label(pitch, cursor=cursor_line).ljust(KEY_WIDTH)
        key = _KEY_CURSOR if cursor_line else (_KEY_BLACK if is_black_key(pitch) else _KEY_WHITE)
        cells = [(ch, key) for ch in label]
        notes = self._by_pitch.get(pitch, [])
        painted = paint_notes(notes, scale, col0, col1)
        row_bg = _ROW_BLACK if is_black_key(pitch) else _ROW_WHITE
        lpb, bpb = self.song.lines_per_beat, self.song.time_signature[0]
        playhead = self._playhead_col(scale)
        styles: dict[tuple[str, str], Style] = {}
        for i, note in enumerate(painted):
            col = col0 + i
            at_cursor = cursor_line and col == self.cursor_col
            if col == playhead:
                bg = _PLAYHEAD_BG
            elif at_cursor:
                bg = _CURSOR_BG
            else:
                bg = row_bg
            if note is None:
                kind = grid_kind(col, scale, lpb, bpb)
                char, fg = _GRID_CHAR[kind], _GRID_FG[kind]
            else:
                char = "█"
                following = painted[i + 1] if i + 1 < len(painted) else None
                if following is not None and following is not note:
                    char = "▊"  # a gap shows where one note ends and the next begins
                if at_cursor:
                    fg = _CURSOR_NOTE
                elif self._key(note) in self.selected:
                    fg = _SELECTED
                else:
                    fg = _NOTE_COLOURS[min(3, (note.velocity - 1) // 32)]
            style = styles.get((fg, bg))
            if style is None:
                style = styles[(fg, bg)] = _style(fg, bg)
            cells.append((char, style))
        return cells

    def _lane_line(
        self, line: int, scale: TimeScale, col0: int, col1: int
    ) -> list[tuple[str, Style]]:
        if line == 0:
            return self._title("velocity", col1 - col0)
        if line <= VELOCITY_LINES:
            values = velocity_by_column(self._notes, scale, col0, col1)
            cursor_note = self.note_at_cursor()
            shown = "" if cursor_note is None else f"{cursor_note.velocity:>4}"
            label = ("vel" if line == 1 else shown if line == 2 else "").ljust(KEY_WIDTH)
            return self._lane(label, values, line - 1, VELOCITY_LINES, col0)
        if line == VELOCITY_LINES + 1:
            return self._title(f"CC {self.controller}", col1 - col0)
        lane_line = line - VELOCITY_LINES - 2
        if lane_line >= CC_LINES:
            return []
        values = cc_by_column(self._cc, scale, col0, col1)
        cursor_value = self._cc.get(scale.row_of_col(self.cursor_col))
        shown = "" if cursor_value is None else f"{cursor_value:>4}"
        label = f"CC{self.controller}" if lane_line == 0 else shown if lane_line == 1 else ""
        return self._lane(label[:KEY_WIDTH].ljust(KEY_WIDTH), values, lane_line, CC_LINES, col0)

    def _title(self, title: str, width: int) -> list[tuple[str, Style]]:
        text = ("─" + f" {title} ").ljust(width, "─")[:width]
        return [(ch, _TITLE) for ch in "─" * KEY_WIDTH + text]

    def _lane(
        self, label: str, values: list[int | None], line: int, height: int, col0: int
    ) -> list[tuple[str, Style]]:
        cells = [(ch, _TITLE) for ch in label]
        plain = _style(_LANE_FG, _LANE_BG)
        at_cursor = _style(_LANE_FG, _CURSOR_BG)
        for i, value in enumerate(values):
            char = " " if value is None else bar_char(bar_eighths(value, height), line, height)
            cells.append((char, at_cursor if col0 + i == self.cursor_col else plain))
        return cells

    # --- cursor and selection ---------------------------------------------------------------

    def note_at_cursor(self) -> RollNote | None:
        return note_at(
            self._by_pitch.get(self.cursor_pitch, []),
            self.scale,
            self.cursor_col,
            self.cursor_pitch,
        )

    def selected_notes(self) -> list[RollNote]:
        return [n for n in self._notes if self._key(n) in self.selected]

    @staticmethod
    def _key(note: RollNote) -> NoteKey:
        return (note.start, note.pitch, note.column)

    def _set_cursor(self, col: int, pitch: int) -> None:
        scale = self.scale
        self.cursor_col = scale.clamp_col(col)
        self.cursor_pitch = max(0, min(PITCHES - 1, pitch))
        self.state.row = scale.row_of_col(self.cursor_col)
        self._show_cursor()
        self.refresh()

    def action_cursor(self, d_col: int, d_pitch: int, extend: bool = False) -> None:
        if extend and self._anchor is None:
            self._anchor = (self.cursor_col, self.cursor_pitch)
        elif not extend:
            self._anchor = None
        self._set_cursor(self.cursor_col + d_col, self.cursor_pitch + d_pitch)
        if self._anchor is not None:
            cols = (self._anchor[0], self.cursor_col)
            pitches = (self._anchor[1], self.cursor_pitch)
            inside = notes_in_rect(self._notes, self.scale, cols, pitches)
            self.selected = {self._key(n) for n in inside}

    def on_click(self, event: events.Click) -> None:
        """A click in the pitch area puts the cursor there (and selects nothing)."""
        offset = event.get_content_offset(self)
        if offset is None or offset.x < KEY_WIDTH:
            return
        line = offset.y - TOP_LINES
        if not 0 <= line < self._pitch_lines():
            return
        self._anchor = None
        col = self.scroll_offset.x + offset.x - KEY_WIDTH
        self._set_cursor(col, pitch_of_line(self.scroll_offset.y + line))

    def action_cursor_to_edge(self, end: bool) -> None:
        self._anchor = None
        self._set_cursor(self.scale.columns - 1 if end else 0, self.cursor_pitch)

    def action_toggle_select(self) -> None:
        note = self.note_at_cursor()
        if note is None:
            self.app.bell()
            return
        self.selected ^= {self._key(note)}
        self.last_length = note.length
        self.refresh()

    def action_select_all(self) -> None:
        self.selected = {self._key(n) for n in self._notes}
        self.refresh()

    def action_clear_selection(self) -> None:
        self.selected.clear()
        self._anchor = None
        self.refresh()

    # --- editing ----------------------------------------------------------------------------

    def _edit(self, label: str, change: Callable[[Song], T]) -> T | None:
        """Run `change` as one undo step; on success reload and tell the app what changed."""
        if not self._valid():
            return None
        history = self.document.history
        revision = history.revision
        try:
            with history.edit(label, tracks=[(self.state.pattern, self.state.track)]) as song:
                result = change(song)
        except ValueError as error:
            self.app.bell()
            self.notify(str(error), severity="warning")
            return None
        self._reload()
        self.refresh()
        if history.revision != revision:
            self.post_message(self.Edited(history.last_changed))
        return result

    def _targets(self) -> list[RollNote]:
        """The selected notes, or the one under the cursor."""
        chosen = self.selected_notes()
        if chosen:
            return chosen
        note = self.note_at_cursor()
        return [] if note is None else [note]

    def _column_ticks(self) -> int:
        return self.scale.col_ticks(self.cursor_col)

    def add_note(self) -> RollNote | None:
        """Add a note at the cursor (the last length used, the edit velocity); the cursor then
        moves to its end when the edit step is not 0. A note under the cursor is selected instead.
        """
        existing = self.note_at_cursor()
        if existing is not None:
            self.selected = {self._key(existing)}
            self.refresh()
            return None
        p, t = self.state.pattern, self.state.track
        scale = self.scale
        start = scale.tick_of_col(self.cursor_col)
        length = self.last_length or self.song.ticks_per_line
        length = max(1, min(length, scale.ticks - start))
        velocity = self.state.velocity or 100
        pitch = self.cursor_pitch
        note = self._edit(
            "add note", lambda song: add_roll_note(song, p, t, start, length, pitch, velocity)
        )
        if note is not None:
            self.last_length = note.length
            if self.state.step:
                self._set_cursor(scale.col_of_tick(note.end), self.cursor_pitch)
        return note

    def delete_notes(self) -> None:
        """Delete the selected notes, or the one under the cursor."""
        targets = self._targets()
        if not targets:
            self.app.bell()
            return
        p, t = self.state.pattern, self.state.track

        def change(song: Song) -> None:
            for note in sorted(targets, key=lambda n: n.start, reverse=True):
                delete_roll_note(song, p, t, note)

        self._edit("delete notes", change)
        self.selected.clear()
        self.refresh()

    def move_notes(self, d_cols: int, d_pitch: int) -> None:
        """Move the selected notes (or the cursor's) by columns and semitones; the cursor too."""
        targets = self._targets()
        if not targets:
            self.app.bell()
            return
        p, t = self.state.pattern, self.state.track
        d_ticks = d_cols * self._column_ticks()
        had_selection = bool(self.selected)
        # Move the leading notes first, so no note lands on one of its own group still waiting.
        order = sorted(targets, key=lambda n: (n.start * d_ticks, n.pitch * d_pitch), reverse=True)

        def change(song: Song) -> list[RollNote]:
            return [move_roll_note(song, p, t, note, d_ticks, d_pitch) for note in order]

        moved = self._edit("move notes", change)
        if moved is None:
            return
        if had_selection:
            self.selected = {self._key(n) for n in moved}
        self._anchor = None
        self._set_cursor(self.cursor_col + d_cols, self.cursor_pitch + d_pitch)

    def resize_notes(self, d_cols: int, by_beat: bool = False) -> None:
        """Lengthen (d > 0) or shorten the selected notes (or the cursor's) by columns or beats."""
        targets = self._targets()
        if not targets:
            self.app.bell()
            return
        p, t = self.state.pattern, self.state.track
        step = self.song.ticks_per_beat if by_beat else self._column_ticks()
        had_selection = bool(self.selected)
        order = sorted(targets, key=lambda n: n.start, reverse=True)

        def change(song: Song) -> list[RollNote]:
            return [
                resize_roll_note(song, p, t, note, max(1, note.length + d_cols * step))
                for note in order
            ]

        resized = self._edit("resize notes", change)
        if resized:
            self.last_length = resized[-1].length
            if had_selection:
                self.selected = {self._key(n) for n in resized}

    def change_velocity(self, delta: int) -> None:
        """Raise (or lower) the velocity of the selected notes (or the cursor's), 1..127."""
        targets = self._targets()
        if not targets:
            self.app.bell()
            return
        p, t = self.state.pattern, self.state.track

        def change(song: Song) -> None:
            for note in targets:
                velocity = max(1, min(127, note.velocity + delta))
                set_roll_velocity(song, p, t, note, velocity)

        self._edit("velocity", change)

    def write_cc(self, value: int | None) -> None:
        """Set (None: remove) the lane controller's value on the cursor's row."""
        p, t = self.state.pattern, self.state.track
        row = self.scale.row_of_col(self.cursor_col)
        controller = self.controller
        self._edit("controller", lambda song: set_cc(song, p, t, row, controller, value))

    def quantize_selection(self, grid: int, strength: float, swing: float) -> None:
        """Quantize the selected notes (all of the track's when none is) to a grid of `grid`
        rows, moving each `strength` percent of the way, odd grid lines late by `swing`."""
        targets = self.selected_notes() or list(self._notes)
        if not targets:
            return
        p, t = self.state.pattern, self.state.track
        grid_ticks = grid * self.song.ticks_per_line
        had_selection = bool(self.selected)

        def change(song: Song) -> list[RollNote]:
            return quantize(song, p, t, targets, grid=grid_ticks, strength=strength, swing=swing)

        moved = self._edit("quantize", change)
        if moved is not None and had_selection:
            self.selected = {self._key(n) for n in moved}
            self.refresh()

    # --- actions bound to keys --------------------------------------------------------------

    def action_add_note(self) -> None:
        self.add_note()

    def action_delete_notes(self) -> None:
        self.delete_notes()

    def action_move_notes(self, d_cols: int, d_pitch: int) -> None:
        self.move_notes(d_cols, d_pitch)

    def action_resize_notes(self, d_cols: int, by_beat: bool) -> None:
        self.resize_notes(d_cols, by_beat)

    def action_velocity(self, direction: int) -> None:
        self.change_velocity(direction * VELOCITY_STEP)

    def action_cycle_controller(self) -> None:
        index = CONTROLLERS.index(self.controller) if self.controller in CONTROLLERS else -1
        self.controller = CONTROLLERS[(index + 1) % len(CONTROLLERS)]
        self._reload()
        self.refresh()

    def action_cc_value(self, digit: int) -> None:
        """Digits draw: write digit × 127/9 and step one row right; -1 (backspace) removes."""
        if digit < 0:
            self.write_cc(None)
            return
        self.write_cc(round(digit * 127 / 9))
        self._anchor = None
        self._set_cursor(self.cursor_col + self.cols_per_row, self.cursor_pitch)

    def action_zoom(self, direction: int) -> None:
        index = max(0, min(len(ZOOMS) - 1, ZOOMS.index(self.cols_per_row) + direction))
        if ZOOMS[index] == self.cols_per_row:
            return
        tick = self.scale.tick_of_col(self.cursor_col)
        self.cols_per_row = ZOOMS[index]
        scale = self.scale
        self.cursor_col = scale.clamp_col(scale.col_of_tick(tick))
        self.virtual_size = Size(KEY_WIDTH + scale.columns, TOP_LINES + PITCHES + BOTTOM_LINES)
        self.call_after_refresh(self._show_cursor)
        self.refresh()

    def action_quantize(self) -> None:
        def done(settings: QuantizeSettings | None) -> None:
            if settings is None:
                return
            self.quantize_settings = settings
            self.quantize_selection(settings.grid, settings.strength, settings.swing)

        self.app.push_screen(QuantizeDialog(self.quantize_settings), done)
