"""The pattern grid: the tracker's main view, one pattern as rows × tracks of note and effect
columns, edited from the keyboard.

Drawn with the line API (`render_line` on a ScrollView): a refresh costs the visible lines and the
visible tracks, never the pattern's size. Every edit goes through the document's History, so undo
works, and is announced with `PatternGrid.Edited` so the app can update playback and other views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tracker.model import edits
from tracker.model.edits import Block, Clip
from tracker.model.song import CUT, OFF, Song, TrackKind, TrackRow
from tracker.session.document import Document
from tracker.ui.edit_state import EditState
from tracker.ui.grid_cursor import GridCursor, GridField, pattern_length, track_fields
from tracker.ui.grid_render import (
    TRACK_SEPARATOR,
    GridLayout,
    field_at,
    field_text,
    row_number_digits,
)
from tracker.ui.piano_keys import (
    EFFECT_KEYS,
    MAX_OCTAVE,
    MIN_OCTAVE,
    NOTE_OFF_KEY,
    clamp,
    clamp_effect_value,
    hex_digit,
    key_roles,
    piano_pitch,
    shift_in_decimal,
    shift_in_hex,
    typed_keys,
)
from tracker.ui.waveform import SPARK, Waveforms, bar, level

NEW_PATTERN_ROWS = 64
_NOTE_FIELD_LIMITS = {"instrument": (1, 0xFF), "velocity": (1, 0x7F)}  # delay: the song's tpl
MAX_STEP = 16
_Position = tuple[int, int, int, int]  # pattern, track, row, field index
_RowKey = tuple[object, ...]  # everything besides the song's content that a row's look depends on

_COMMAND_BINDINGS: list[BindingType] = [
    Binding("up", "cursor_up", "Row up", show=False),
    Binding("down", "cursor_down", "Row down", show=False),
    Binding("left", "cursor_left", "Previous field", show=False),
    Binding("right", "cursor_right", "Next field", show=False),
    Binding("tab", "next_track", "Next track", show=False),
    Binding("shift+tab", "previous_track", "Previous track", show=False),
    Binding("pageup", "page(-1)", "16 rows up", show=False),
    Binding("pagedown", "page(1)", "16 rows down", show=False),
    Binding("home", "first_row", "First row", show=False),
    Binding("end", "last_row", "Last row", show=False),
    Binding("f9", "jump(0)", "Jump to row 0", show=False),
    Binding("f10", "jump(1)", "Jump to ¼ of the pattern", show=False),
    Binding("f11", "jump(2)", "Jump to ½ of the pattern", show=False),
    Binding("f12", "jump(3)", "Jump to ¾ of the pattern", show=False),
    Binding("exclamation_mark", "note_cut", "Note cut (^^^)", show=False),
    Binding("delete", "clear_field", "Clear field, advance", show=False),
    Binding("backspace", "clear_cell", "Clear note/effect cell", show=False),
    Binding("minus", "octave(-1)", "Octave down", key_display="-"),
    Binding("equals_sign,plus", "octave(1)", "Octave up", key_display="+"),
    Binding("left_curly_bracket", "step(-1)", "Edit step down", show=False, key_display="{"),
    Binding("right_curly_bracket", "step(1)", "Edit step up", show=False, key_display="}"),
    Binding("shift+up", "select(-1, 0)", "Select rows up", show=False),
    Binding("shift+down", "select(1, 0)", "Select rows down", show=False),
    Binding("shift+left", "select(0, -1)", "Select track left", show=False),
    Binding("shift+right", "select(0, 1)", "Select track right", show=False),
    Binding("escape", "clear_selection", "Clear selection", show=False),
    Binding("ctrl+a", "select_track", "Select track", show=False),
    Binding("ctrl+c", "copy", "Copy"),
    Binding("ctrl+x", "cut", "Cut"),
    Binding("ctrl+v", "paste", "Paste"),
    Binding("ctrl+up", "transpose(1)", "Transpose +1", show=False),
    Binding("ctrl+down", "transpose(-1)", "Transpose -1", show=False),
    Binding("ctrl+shift+up,ctrl+pageup", "transpose(12)", "Transpose +12", show=False),
    Binding("ctrl+shift+down,ctrl+pagedown", "transpose(-12)", "Transpose -12", show=False),
    Binding("ctrl+r", "ramp", "Velocity ramp", show=False),
    Binding("ctrl+n", "new_pattern", "New pattern", show=False),
    Binding("ctrl+d", "clone_pattern", "Clone pattern", show=False),
    Binding("ctrl+k", "toggle_mute", "Mute track"),
    Binding("ctrl+f", "toggle_solo", "Solo track", show=False),
]
_TYPED_BINDINGS: list[BindingType] = [
    Binding(key, f"type_key('{key}')", key_roles(key), show=False) for key in typed_keys()
]


class PatternGrid(ScrollView, can_focus=True):
    """One pattern of the document's song: rows down, tracks across, with the EditState cursor.

    Line 0 of the widget is the track header; it and the row-number gutter stay put while the
    rows and tracks scroll.
    """

    BINDINGS: ClassVar[list[BindingType]] = _COMMAND_BINDINGS + _TYPED_BINDINGS

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pattern-grid--header",
        "pattern-grid--header-current",
        "pattern-grid--header-silent",
        "pattern-grid--frozen",
        "pattern-grid--wave",
        "pattern-grid--gutter",
        "pattern-grid--row",
        "pattern-grid--beat",
        "pattern-grid--bar",
        "pattern-grid--cursor-row",
        "pattern-grid--selection",
        "pattern-grid--playhead",
        "pattern-grid--cursor",
        "pattern-grid--empty",
        "pattern-grid--note",
        "pattern-grid--off",
        "pattern-grid--instrument",
        "pattern-grid--velocity",
        "pattern-grid--delay",
        "pattern-grid--effect",
        "pattern-grid--separator",
    }

    DEFAULT_CSS = """
    PatternGrid {
        background: $surface;
        color: $foreground;
        scrollbar-gutter: stable;
    }
    PatternGrid > .pattern-grid--header { background: $panel; color: $foreground; }
    PatternGrid > .pattern-grid--header-current {
        background: $primary-muted; color: $text; text-style: bold;
    }
    PatternGrid > .pattern-grid--header-silent { color: $text-disabled; text-style: dim; }
    PatternGrid > .pattern-grid--gutter { color: $text-muted; }
    PatternGrid > .pattern-grid--row { background: $surface; }
    PatternGrid > .pattern-grid--beat { background: $surface-lighten-1; }
    PatternGrid > .pattern-grid--bar { background: $panel-lighten-1; }
    PatternGrid > .pattern-grid--cursor-row { background: $secondary-muted; }
    PatternGrid > .pattern-grid--selection { background: $accent-muted; }
    PatternGrid > .pattern-grid--playhead { background: $success-muted; }
    PatternGrid > .pattern-grid--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    PatternGrid > .pattern-grid--empty { color: $text-disabled; }
    PatternGrid > .pattern-grid--note { color: $text; }
    PatternGrid > .pattern-grid--off { color: $text-error; }
    PatternGrid > .pattern-grid--instrument { color: $text-primary; }
    PatternGrid > .pattern-grid--velocity { color: $text-success; }
    PatternGrid > .pattern-grid--delay { color: $text-muted; }
    PatternGrid > .pattern-grid--effect { color: $text-accent; }
    PatternGrid > .pattern-grid--separator { color: $text-disabled; }
    PatternGrid > .pattern-grid--frozen { color: $text-disabled; text-style: dim; }
    PatternGrid > .pattern-grid--wave { color: $text-accent; }
    """

    hex_rows: reactive[bool] = reactive(False)
    """Row numbers in hex (00..3F) rather than decimal."""

    class Edited(Message):
        """The song changed through the grid. `changed`: the pattern ids edited, None when the
        edit reached beyond patterns (new/clone pattern, mute, solo, resize)."""

        def __init__(self, changed: frozenset[int] | None) -> None:
            super().__init__()
            self.changed = changed

    class CursorMoved(Message):
        """The cursor's track or row (in the shared EditState) changed."""

    class EntryChanged(Message):
        """The octave or step of note entry (in the shared EditState) changed: the transport
        bar shows them, at once rather than at its next refresh."""

    class NoteEntered(Message):
        """A pitch was typed into a track: the app may sound it so the musician hears it."""

        def __init__(
            self, track: int, pitch: int, instrument: int | None, velocity: int | None
        ) -> None:
            super().__init__()
            self.track = track
            self.pitch = pitch
            self.instrument = instrument
            self.velocity = velocity

    def __init__(self, document: Document, state: EditState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.document = document
        self.state = state
        self.cursor = GridCursor(state)
        self.clipboard: Clip | None = None
        self.selection: Block | None = None
        self.playhead: tuple[int, int] | None = None  # (pattern, row) being played
        self._anchor: tuple[int, int] | None = None  # (track, row) where shift-selection began
        self._entry: tuple[_Position, int, int] | None = None  # position, typed raw, written
        self._layout = GridLayout.of(document.song, 2)
        self._style_cache: dict[tuple[str, str], Style] = {}
        # Drawn rows by row number, each with the key it was drawn for. Valid for the history
        # revision `_cache_revision`: any other revision (an edit from elsewhere, undo) drops
        # them all; the grid's own one-cell edits drop just their row (see `_edit`).
        self._row_cache: dict[int, tuple[_RowKey, Strip]] = {}
        self._track_cache: dict[tuple[int, int], tuple[_RowKey, list[Segment]]] = {}
        self._cache_revision = document.history.revision
        self._waveforms = Waveforms(None)
        self._track_levels: tuple[float, ...] = ()  # each track's meter in the header
        self._levels: dict[tuple[int, int], list[float] | None] = {}  # (pattern, track)
        self._clamp_pattern()
        self.cursor.clamp(document.song)
        self._relayout()

    # --- public API -------------------------------------------------------------------------

    @property
    def song(self) -> Song:
        return self.document.song

    def refresh_song(self) -> None:
        """Show the song again after a change made elsewhere (undo/redo, a pattern switch, a
        track added): clamp the cursor, recompute the size, redraw."""
        before = (self.state.track, self.state.row)
        self._clamp_pattern()
        self.cursor.clamp(self.song)
        selection = self.selection
        if selection is not None and not self._block_fits(selection):
            self.clear_selection()
        self._entry = None
        self._relayout()
        self._invalidate()
        self.refresh()
        self._scroll_to_cursor()
        if before != (self.state.track, self.state.row):
            self.post_message(self.CursorMoved())

    def show_levels(self, levels: tuple[float, ...]) -> None:
        """Each track's level (its post-fader peak now) as a meter in the header."""
        if levels != self._track_levels:
            self._track_levels = levels
            self.refresh_line(0)

    def set_playhead(self, pattern: int | None, row: int | None) -> None:
        """Mark the row being played (None, None: stopped). With `state.follow` the cursor and
        the view follow it, switching pattern when the song moves on."""
        old = self.playhead
        self.playhead = None if pattern is None or row is None else (pattern, row)
        if self.playhead == old:
            return
        # Only the old and new playhead rows (and the cursor's, when following) change; a
        # scroll redraws the whole view by itself (ScrollView.watch_scroll_y).
        rows = [mark[1] for mark in (old, self.playhead) if mark is not None]
        if self.playhead is not None and self.state.follow:
            assert pattern is not None and row is not None
            if pattern != self.state.pattern and pattern in self.song.patterns:
                self.state.pattern = pattern
                self.clear_selection()
                self.refresh_song()
            if row != self.state.row:
                rows.append(self.state.row)
                self.cursor.to_row(self.song, row)
                rows.append(self.state.row)
                self.post_message(self.CursorMoved())
            self._scroll_to_cursor(center=True)
        self._refresh_rows(rows)

    def clear_selection(self) -> None:
        had = self.selection is not None
        self.selection = None
        self._anchor = None
        if had:
            self.refresh()

    def copy(self) -> Clip:
        """Copy the selection (else the cursor's track on the cursor's row) to `clipboard`."""
        self.clipboard = edits.copy_block(self.song, self._target_block())
        return self.clipboard

    def cut(self) -> None:
        """Copy, then empty what was copied."""
        block = self._target_block()
        self.clipboard = edits.copy_block(self.song, block)
        self._edit("cut", block.scope(), lambda song: edits.clear_block(song, block))

    def paste(self) -> None:
        """Write the clipboard at the cursor (its track and row are the clip's top left)."""
        clip = self.clipboard
        if clip is None or not self.song.tracks:
            self.app.bell()
            return
        state = self.state
        block = Block(
            state.pattern,
            state.track,
            min(state.track + clip.width, len(self.song.tracks)) - 1,
            state.row,
            min(state.row + clip.height, pattern_length(self.song, state.pattern)) - 1,
        )
        self._edit("paste", block.scope(), lambda song: edits.paste(song, *self._at, clip))

    def transpose(self, semitones: int) -> None:
        """Move the selection's pitches (else the note under the cursor) by semitones."""
        if self.selection is not None:
            block = self.selection
            self._edit(
                "transpose", block.scope(), lambda s: edits.transpose_block(s, block, semitones)
            )
            return
        field = self.cursor.current(self.song)
        state = self.state
        if field is None:
            return
        if field.kind == "effect":
            block = Block(state.pattern, state.track, state.track, state.row, state.row)
            self._edit(
                "transpose", block.scope(), lambda s: edits.transpose_block(s, block, semitones)
            )
            return
        cell = self._note_cell(field.column)
        if cell is None or cell.note is None or cell.note < 0:
            return
        pitch = clamp(cell.note + semitones, 0, 127)
        self._edit_cell("transpose", lambda s: self._write_note_field(s, field, "note", pitch))

    def ramp(self) -> None:
        """Velocity ramp over the selection, from its first note to its last."""
        block = self.selection
        if block is None:
            self.app.bell()
            self.notify("Select rows first (shift+arrows) to ramp their velocities")
            return
        self._edit("velocity ramp", block.scope(), lambda song: edits.ramp_velocity(song, block))

    def new_pattern(self) -> int | None:
        """Add an empty 64-row pattern after the current order position and show it."""
        return self._add_pattern("new pattern", lambda s: edits.new_pattern(s, NEW_PATTERN_ROWS))

    def clone_pattern(self) -> int | None:
        """Copy the current pattern after the current order position and show the copy."""
        source = self.state.pattern
        return self._add_pattern("clone pattern", lambda s: edits.clone_pattern(s, source))

    def resize(self, length: int) -> None:
        """Give the current pattern `length` rows (1..512); rows past the end are dropped."""
        pattern = self.state.pattern
        if self._edit(
            "resize pattern",
            (),
            lambda song: edits.resize_pattern(song, pattern, length),
            song_wide=True,
        ):
            self.refresh_song()

    def toggle_mute(self) -> None:
        self._toggle_track("mute")

    def toggle_solo(self) -> None:
        self._toggle_track("solo")

    # --- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header_strip(width)
        row = self.scroll_offset.y + y - 1
        if self.state.pattern not in self.song.patterns or not (
            0 <= row < pattern_length(self.song, self.state.pattern)
        ):
            return Strip.blank(width, self._style("row"))
        return self._cached_row_strip(row, width)

    def notify_style_update(self) -> None:
        self._style_cache.clear()
        self._invalidate()
        super().notify_style_update()

    def _invalidate(self) -> None:
        """Forget every drawn row (the song, the layout or the styles changed)."""
        self._row_cache.clear()
        self._track_cache.clear()
        self._levels.clear()
        self._cache_revision = self.document.history.revision

    def _row_key(self, row: int, width: int) -> _RowKey:
        state = self.state
        selection = self.selection
        selected = None
        if selection is not None and selection.row0 <= row <= selection.row1:
            selected = (selection.track0, selection.track1)
        cursor = (state.track, self.cursor.field) if row == state.row else None
        return (
            state.pattern,
            self.scroll_offset.x,
            width,
            self._row_background(row),
            cursor,
            selected,
            self.hex_rows,
        )

    def _cached_row_strip(self, row: int, width: int) -> Strip:
        if self.document.history.revision != self._cache_revision:
            self._invalidate()
        key = self._row_key(row, width)
        cached = self._row_cache.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self._row_strip(row, width)
        self._row_cache[row] = (key, strip)
        return strip

    def _style(self, background: str, foreground: str = "") -> Style:
        """A full style of a row class, with a field class's colour on top (cached)."""
        key = (background, foreground)
        style = self._style_cache.get(key)
        if style is None:
            style = self.get_component_rich_style(f"pattern-grid--{background}")
            if foreground:
                name = f"pattern-grid--{foreground}"
                # The partial style brings bold/dim; the full one the colour, its alpha ("auto
                # 38%") already blended, which a partial style leaves unresolved.
                style += self.get_component_rich_style(name, partial=True)
                colour = self.get_component_rich_style(name).color
                if colour is not None:
                    style += Style(color=colour)
            self._style_cache[key] = style
        return style

    def _header_strip(self, width: int) -> Strip:
        song = self.song
        gutter = self._layout.gutter
        head = Segment(" " * (gutter - 1) + TRACK_SEPARATOR, self._style("header", "separator"))
        audible = set(song.audible_tracks())

        def track(index: int) -> list[Segment]:
            t = song.tracks[index]
            text_width = self._layout.track_width[index]
            flags = ("F" if t.frozen else "") + ("M" if t.mute else "") + ("S" if t.solo else "")
            if index < len(self._track_levels):  # the track's meter, while something plays
                flags += SPARK[round(level(self._track_levels[index]) * (len(SPARK) - 1))]
            label = f"{index + 1:02} {t.name}"
            room = max(0, text_width - len(flags) - (1 if flags else 0))
            text = label[:room].ljust(room) + (" " + flags if flags else "")
            base = "header-current" if index == self.state.track else "header"
            style = self._style(base, "" if index in audible else "header-silent")
            return [
                Segment(" ", style),
                Segment(text[:text_width].ljust(text_width), style),
                Segment(" ", style),
                Segment(TRACK_SEPARATOR, self._style("header", "separator")),
            ]

        return self._join(head, track, width, self._style("header"))

    def _row_strip(self, row: int, width: int) -> Strip:
        """One row: the gutter, then the tracks visible at the horizontal scroll position,
        clipped here (cheaper than building a Strip and cropping it)."""
        state = self.state
        layout = self._layout
        background = self._row_background(row)
        digits = layout.gutter - 2
        number = f"{row:0{digits}X}" if self.hex_rows else f"{row:0{digits}d}"
        segments = [Segment(number + " " + TRACK_SEPARATOR, self._style(background, "gutter"))]
        selection = self.selection
        selected = (
            selection.tracks() if selection is not None and row in selection.rows() else range(0)
        )
        cursor_field = self.cursor.field if row == state.row else -1
        left = self.scroll_offset.x
        right = left + max(0, width - layout.gutter)
        for index, x in enumerate(layout.track_x):
            x -= 1  # the track's leading space
            end = x + layout.track_width[index] + 3
            if end <= left:
                continue
            if x >= right:
                break
            cell_background = "selection" if index in selected else background
            field = cursor_field if index == state.track else -1
            track = self._track_segments(row, index, cell_background, background, field)
            if x >= left and end <= right:
                segments.extend(track)
                continue
            for segment in track:  # the track cut by an edge of the view
                text = segment.text
                after = x + len(text)
                if after > left and x < right:
                    if x < left or after > right:
                        text = text[max(0, left - x) : right - x]
                    segments.append(Segment(text, segment.style))
                x = after
        used = layout.gutter + max(0, min(right, layout.width) - left)
        if used < width:
            segments.append(Segment(" " * (width - used), self._style(background)))
        elif used > width:  # a view narrower than the gutter
            return Strip(segments).crop(0, width)
        return Strip(segments, width)

    def _track_segments(
        self, row: int, index: int, cell_background: str, background: str, cursor_field: int
    ) -> list[Segment]:
        """One track of one row, ` <fields> │`, runs of one style merged (cached per row and
        track, like whole rows)."""
        key = (self.state.pattern, cell_background, background, cursor_field)
        cached = self._track_cache.get((row, index))
        if cached is not None and cached[0] == key:
            return cached[1]
        t = self.song.tracks[index]
        if t.kind is TrackKind.AUDIO:
            segments = self._wave_segments(row, index, cell_background, background)
            self._track_cache[(row, index)] = (key, segments)
            return segments
        frozen = t.frozen is not None
        track_row = self.song.patterns[self.state.pattern].get(index, row)
        gap = self._style(cell_background)
        segments: list[Segment] = []
        text = " "
        style = gap
        x = 0
        for number, field in enumerate(track_fields(t.note_columns, t.effect_columns)):
            if field.offset > x:
                pad = " " * (field.offset - x)
                if style is gap:
                    text += pad
                else:
                    segments.append(Segment(text, style))
                    text, style = pad, gap
            value = field_text(track_row, field)
            if number == cursor_field:
                field_style = self._style("cursor")
            elif frozen:  # locked: its audio was rendered from these notes
                field_style = self._style(cell_background, "frozen")
            else:
                field_style = self._style(cell_background, _field_class(field, value))
            shown = value if value is not None else "." * field.width
            if field_style is style:
                text += shown
            else:
                segments.append(Segment(text, style))
                text, style = shown, field_style
            x = field.offset + field.width
        if style is gap:
            text += " "
        else:
            segments.append(Segment(text, style))
            text, style = " ", gap
        segments.append(Segment(text, style))
        segments.append(Segment(TRACK_SEPARATOR, self._style(background, "separator")))
        self._track_cache[(row, index)] = (key, segments)
        return segments

    def _wave_segments(
        self, row: int, index: int, cell_background: str, background: str
    ) -> list[Segment]:
        """An audio track's row: its waveform, as wide as the audio is loud there."""
        width = self._layout.track_width[index]
        key = (self.state.pattern, index)
        if key not in self._levels:
            self._levels[key] = self._current_waveforms().row_levels(
                self.song, index, self.state.pattern
            )
        levels = self._levels[key]
        text = bar(levels[row], width) if levels is not None and row < len(levels) else ""
        return [
            Segment(" " + text.ljust(width) + " ", self._style(cell_background, "wave")),
            Segment(TRACK_SEPARATOR, self._style(background, "separator")),
        ]

    def _current_waveforms(self) -> Waveforms:
        folder = self.document.folder
        if self._waveforms.folder != folder:
            self._waveforms = Waveforms(folder)
        return self._waveforms

    def _row_background(self, row: int) -> str:
        song = self.song
        if self.playhead == (self.state.pattern, row):
            return "playhead"
        if row == self.state.row:
            return "cursor-row"
        lpb = max(1, song.lines_per_beat)
        if row % (lpb * max(1, song.time_signature[0])) == 0:
            return "bar"
        if row % lpb == 0:
            return "beat"
        return "row"

    def _join(
        self, head: Segment, track: Callable[[int], list[Segment]], width: int, fill: Style
    ) -> Strip:
        """The gutter, then the tracks visible at the horizontal scroll position: tracks left
        or right of the screen are never built."""
        layout = self._layout
        view = max(0, width - layout.gutter)
        left = self.scroll_offset.x
        segments: list[Segment] = []
        start: int | None = None
        for index, x in enumerate(layout.track_x):
            if x + layout.track_width[index] + 2 <= left:
                continue
            if x - 1 >= left + view:
                break
            if start is None:
                start = x - 1
            segments.extend(track(index))
        strip = Strip([head])
        if start is not None:
            strip = Strip.join([strip, Strip(segments).crop(left - start, left - start + view)])
        return strip.adjust_cell_length(width, fill)

    def _refresh_rows(self, rows: Iterable[int], *, header: bool = False) -> None:
        """Redraw the lines of these rows (those on screen) and, asked for, the header line."""
        top = self.scroll_offset.y
        height = self.size.height
        width = max(self.virtual_size.width, self.size.width)
        lines = {row - top + 1 for row in rows}
        if header:
            lines.add(0)
        regions = [Region(0, y, width, 1) for y in sorted(lines) if 0 <= y < height]
        if regions:  # refresh() without regions would redraw everything
            self.refresh(*regions)

    # --- layout and scrolling ---------------------------------------------------------------

    def _relayout(self) -> bool:
        """Recompute the layout and the scrollable size; True when either changed."""
        song = self.song
        digits = row_number_digits(pattern_length(song, self.state.pattern), self.hex_rows)
        layout = GridLayout.of(song, digits)
        rows = pattern_length(song, self.state.pattern) if song.patterns else 0
        size = Size(layout.gutter + layout.width, rows + 1)
        changed = layout != self._layout or size != self.virtual_size
        self._layout = layout
        self.virtual_size = size
        if changed:
            self._invalidate()
        return changed

    def watch_hex_rows(self) -> None:
        self._relayout()
        self._invalidate()
        self.refresh()

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _scroll_to_cursor(self, *, center: bool = False) -> None:
        """Scroll just enough to show the cursor field (centred rows when following play)."""
        region = self.scrollable_content_region
        if region.height < 2 or region.width <= self._layout.gutter:
            return
        rows = region.height - 1  # line 0 is the header
        row = self.state.row
        top = self.scroll_offset.y
        if center:
            top = row - rows // 2
        elif row < top:
            top = row
        elif row >= top + rows:
            top = row - rows + 1
        left = self.scroll_offset.x
        field = self.cursor.current(self.song)
        if field is not None:
            # The whole track when it fits (tab lands on a track you can read), else the field.
            view = region.width - self._layout.gutter
            track_x = self._layout.track_x[self.state.track]
            x0, x1 = track_x - 1, track_x + self._layout.track_width[self.state.track] + 2
            if x1 - x0 > view:
                x0 = track_x + field.offset
                x1 = x0 + field.width
            if x0 < left:
                left = x0
            elif x1 > left + view:
                left = x1 - view
        self.scroll_to(max(0, left), max(0, top), animate=False, force=True)

    # --- moving -----------------------------------------------------------------------------

    def _move(self, how: Callable[[Song], None]) -> None:
        """Move the cursor and redraw the two rows it left and reached (the header too when
        the track changed); a scroll redraws everything by itself (ScrollView.watch_scroll_y)."""
        track, row = before = (self.state.track, self.state.row)
        how(self.song)
        self._scroll_to_cursor()
        self._refresh_rows((row, self.state.row), header=track != self.state.track)
        if before != (self.state.track, self.state.row):
            self.post_message(self.CursorMoved())

    def action_cursor_up(self) -> None:
        self._move(lambda song: self.cursor.move_rows(song, -1))

    def action_cursor_down(self) -> None:
        self._move(lambda song: self.cursor.move_rows(song, 1))

    def action_cursor_left(self) -> None:
        self._move(self.cursor.left)

    def action_cursor_right(self) -> None:
        self._move(self.cursor.right)

    def action_next_track(self) -> None:
        self._move(self.cursor.next_track)

    def action_previous_track(self) -> None:
        self._move(self.cursor.previous_track)

    def action_page(self, pages: int) -> None:
        self._move(lambda song: self.cursor.page(song, pages))

    def action_first_row(self) -> None:
        self._move(self.cursor.home)

    def action_last_row(self) -> None:
        self._move(self.cursor.end)

    def action_jump(self, quarter: int) -> None:
        self._move(lambda song: self.cursor.jump(song, quarter))

    def _advance(self) -> None:
        if self.state.step:
            self._move(lambda song: self.cursor.move_rows(song, self.state.step))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.song.tracks:
            return
        layout = self._layout
        x = offset.x - layout.gutter + self.scroll_offset.x
        track = layout.track_at(x) if offset.x >= layout.gutter else None
        row = self.scroll_offset.y + offset.y - 1

        def place(song: Song) -> None:
            if offset.y > 0:
                self.cursor.to_row(song, row)
            if track is not None:
                self.cursor.to_track(song, track)
                self.cursor.field = field_at(song, track, x - layout.track_x[track])

        self._move(place)

    # --- selection --------------------------------------------------------------------------

    def action_select(self, rows: int, tracks: int) -> None:
        state = self.state
        if self.selection is None or self._anchor is None:
            self._anchor = (state.track, state.row)
        if tracks:
            self._move(lambda song: self.cursor.to_track(song, state.track + tracks))
        else:
            self._move(lambda song: self.cursor.move_rows(song, rows))
        anchor_track, anchor_row = self._anchor
        self.selection = Block(state.pattern, anchor_track, state.track, anchor_row, state.row)
        self.refresh()

    def action_clear_selection(self) -> None:
        self.clear_selection()

    def action_select_track(self) -> None:
        if not self.song.tracks:
            return
        state = self.state
        last = pattern_length(self.song, state.pattern) - 1
        self._anchor = (state.track, 0)
        self.selection = Block(state.pattern, state.track, state.track, 0, last)
        self.refresh()

    def action_copy(self) -> None:
        if self.song.tracks:
            self.copy()

    def action_cut(self) -> None:
        if self.song.tracks:
            self.cut()

    def action_paste(self) -> None:
        self.paste()

    def action_transpose(self, semitones: int) -> None:
        self.transpose(semitones)

    def action_ramp(self) -> None:
        self.ramp()

    def action_new_pattern(self) -> None:
        self.new_pattern()

    def action_clone_pattern(self) -> None:
        self.clone_pattern()

    def action_toggle_mute(self) -> None:
        self.toggle_mute()

    def action_toggle_solo(self) -> None:
        self.toggle_solo()

    def action_octave(self, delta: int) -> None:
        self.state.octave = clamp(self.state.octave + delta, MIN_OCTAVE, MAX_OCTAVE)
        self.post_message(self.EntryChanged())

    def action_step(self, delta: int) -> None:
        self.state.step = clamp(self.state.step + delta, 0, MAX_STEP)
        self.post_message(self.EntryChanged())

    # --- typing -----------------------------------------------------------------------------

    def action_type_key(self, key: str) -> None:
        """A typed character: a piano key on a note field, a letter on an effect command, a
        hex digit anywhere else."""
        field = self.cursor.current(self.song)
        if field is None:
            return
        if field.kind == "note" and field.name == "note":
            if key == NOTE_OFF_KEY:
                self._enter_note(OFF)
                return
            pitch = piano_pitch(key, self.state.octave)
            if pitch is None:
                self.app.bell()
            else:
                self._enter_note(pitch)
            return
        if field.kind == "effect" and field.name == "command":
            command = EFFECT_KEYS.get(key)
            if command is None:
                self.app.bell()
                return
            self._edit_cell(
                "effect", lambda s: self._write_effect_field(s, field, "command", command)
            )
            return
        digit = hex_digit(key)
        if digit is None:
            self.app.bell()
            return
        self._type_digit(field, digit)

    def action_note_cut(self) -> None:
        field = self.cursor.current(self.song)
        if field is not None and field.kind == "note" and field.name == "note":
            self._enter_note(CUT)
        else:
            self.app.bell()

    def action_clear_field(self) -> None:
        field = self.cursor.current(self.song)
        if field is None:
            return
        if field.kind == "note":
            if field.name == "note":
                self._edit_cell("clear", lambda s: edits.clear_note(s, *self._at, field.column))
            else:
                self._edit_cell("clear", lambda s: self._write_note_field(s, field, None, None))
        elif field.name == "delay":
            self._edit_cell("clear", lambda s: self._write_effect_field(s, field, "delay", None))
        else:
            self._edit_cell("clear", lambda s: edits.clear_effect(s, *self._at, field.column))
        self._advance()

    def action_clear_cell(self) -> None:
        field = self.cursor.current(self.song)
        if field is None:
            return
        clear = edits.clear_note if field.kind == "note" else edits.clear_effect
        self._edit_cell("clear", lambda s: clear(s, *self._at, field.column))

    def _enter_note(self, note: int) -> None:
        field = self.cursor.current(self.song)
        assert field is not None
        state = self.state
        instrument = state.instrument if note >= 0 else None
        velocity = state.velocity if note >= 0 else None
        if self._edit_cell(
            "note",
            lambda s: edits.write_note(s, *self._at, field.column, note, instrument, velocity),
        ):
            if note >= 0:
                self.post_message(self.NoteEntered(state.track, note, instrument, velocity))
            self._advance()

    def _type_digit(self, field: GridField, digit: int) -> None:
        """Shift a digit into a number field, clamped to what the field can hold."""
        song = self.song
        state = self.state
        position = (state.pattern, state.track, state.row, self.cursor.field)
        current = self._field_value(field)
        old = current
        if self._entry is not None and self._entry[0] == position and self._entry[2] == current:
            old = self._entry[1]
        name = field.name
        if field.kind == "note" or name == "delay":
            raw = shift_in_hex(old, digit)
            low, high = _NOTE_FIELD_LIMITS.get(name, (0, song.ticks_per_line - 1))
            value = clamp(raw, low, high)
        else:
            effect = self._effect_cell(field.column)
            command = effect.command if effect is not None else "C"
            if command == "T":
                if digit > 9:
                    self.app.bell()
                    return
                raw = shift_in_decimal(old, digit)
            else:
                raw = shift_in_hex(old, digit, digits=4)
            value = clamp_effect_value(command, raw)
        write = self._write_note_field if field.kind == "note" else self._write_effect_field

        def change(s: Song) -> None:
            write(s, field, name, value)

        if self._edit_cell("type", change):
            self._entry = (position, raw, value)

    # --- reading cells ----------------------------------------------------------------------

    @property
    def _at(self) -> tuple[int, int, int]:
        return self.state.pattern, self.state.track, self.state.row

    def _track_row(self) -> TrackRow | None:
        pattern = self.song.patterns.get(self.state.pattern)
        return None if pattern is None else pattern.get(self.state.track, self.state.row)

    def _note_cell(self, column: int) -> Any:
        track_row = self._track_row()
        if track_row is None or column >= len(track_row.notes):
            return None
        return track_row.notes[column]

    def _effect_cell(self, column: int) -> Any:
        track_row = self._track_row()
        if track_row is None or column >= len(track_row.effects):
            return None
        return track_row.effects[column]

    def _field_value(self, field: GridField) -> int | None:
        if field.kind == "note":
            cell = self._note_cell(field.column)
            return None if cell is None else getattr(cell, field.name)
        effect = self._effect_cell(field.column)
        if effect is None:
            return None
        if field.name == "value":
            return int(effect.value)
        return effect.delay

    # --- editing ----------------------------------------------------------------------------

    def _write_note_field(self, song: Song, field: GridField, name: str | None, value: Any) -> None:
        name = name or field.name
        edits.write_note_field(song, *self._at, field.column, name, value)  # type: ignore[arg-type]

    def _write_effect_field(self, song: Song, field: GridField, name: str, value: Any) -> None:
        edits.write_effect_field(song, *self._at, field.column, name, value)  # type: ignore[arg-type]

    def _edit_cell(self, label: str, change: Callable[[Song], Any]) -> bool:
        """An edit of the cursor's track on the cursor's pattern, on the cursor's row only."""
        state = self.state
        return self._edit(label, [(state.pattern, state.track)], change, row=state.row)

    def _edit(
        self,
        label: str,
        scope: Iterable[tuple[int, int]],
        change: Callable[[Song], Any],
        *,
        song_wide: bool = False,
        row: int | None = None,
    ) -> bool:
        """Run `change` as one undoable step; tell the app when it changed something.

        Args:
            label: the undo step's name.
            scope: the (pattern, track) pairs `change` may write.
            change: the edit.
            song_wide: `change` may change anything.
            row: `change` writes this row of the current pattern only: just its line is
                redrawn.

        Returns:
            False when the edit was refused (the musician hears a bell and reads why).
        """
        scope = list(scope)
        history = self.document.history
        revision = history.revision
        current = revision == self._cache_revision
        try:
            with history.edit(label, tracks=scope, song_wide=song_wide) as song:
                change(song)
        except ValueError as exc:
            self.app.bell()
            self.notify(str(exc), severity="warning", timeout=3)
            return False
        if history.revision == revision:
            pass  # nothing changed: nothing to redraw
        elif not self._relayout() and row is not None and current and not song_wide:
            # One row changed and the cache was up to date before: keep the other rows.
            self._row_cache.pop(row, None)
            for track in range(len(self.song.tracks)):
                self._track_cache.pop((row, track), None)
            self._cache_revision = history.revision
            self._refresh_rows((row,))
        else:
            self._invalidate()
            self.refresh()
        if history.revision != revision:
            changed = None if song_wide else frozenset(pattern for pattern, _ in scope)
            self.post_message(self.Edited(changed))
        return True

    def _add_pattern(self, label: str, create: Callable[[Song], int]) -> int | None:
        made: list[tuple[int, int]] = []

        def change(song: Song) -> None:
            pattern = create(song)
            index = min(self.state.order_index + 1, len(song.order))
            edits.order_insert(song, index, pattern)
            made.append((pattern, index))

        if not self._edit(label, (), change, song_wide=True) or not made:
            return None
        pattern, index = made[0]
        self.state.order_index = index
        self.state.pattern = pattern
        self.state.row = 0
        self.clear_selection()
        self.refresh_song()
        self.post_message(self.CursorMoved())
        return pattern

    def _toggle_track(self, flag: str) -> None:
        track = self.state.track
        if not 0 <= track < len(self.song.tracks):
            return
        value = not getattr(self.song.tracks[track], flag)
        self._edit(
            flag, (), lambda song: edits.set_track(song, track, **{flag: value}), song_wide=True
        )

    def _target_block(self) -> Block:
        if self.selection is not None:
            return self.selection
        state = self.state
        return Block(state.pattern, state.track, state.track, state.row, state.row)

    def _block_fits(self, block: Block) -> bool:
        return (
            block.pattern == self.state.pattern
            and block.track1 < len(self.song.tracks)
            and block.row1 < pattern_length(self.song, block.pattern)
        )

    def _clamp_pattern(self) -> None:
        song = self.song
        state = self.state
        if song.order:
            state.order_index = max(0, min(state.order_index, len(song.order) - 1))
        if state.pattern in song.patterns:
            return
        if song.order:
            state.pattern = song.order[state.order_index]
        elif song.patterns:
            state.pattern = min(song.patterns)


def _field_class(field: GridField, text: str | None) -> str:
    """The colour class of a field's text."""
    if text is None:
        return "empty"
    if field.kind == "effect":
        return "delay" if field.name == "delay" else "effect"
    if field.name == "note":
        return "off" if text in ("OFF", "^^^") else "note"
    return field.name
