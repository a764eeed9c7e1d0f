"""The pattern grid's cursor as pure data: which field of which column of which track, and how
the keys move it. No Textual here, so every move is tested without a screen.

The track and row live in the shared EditState (the piano roll and the app read them); the field
inside the track is the grid's own business and lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from tracker.model.song import Song
from tracker.ui.edit_state import EditState

FieldKind = Literal["note", "effect"]

# (field name, first character inside its column, width): `C-4 01 64 ..` and `C0740 ..`.
NOTE_FIELDS = (("note", 0, 3), ("instrument", 4, 2), ("velocity", 7, 2), ("delay", 10, 2))
NOTE_COLUMN_WIDTH = 12
EFFECT_FIELDS = (("command", 0, 1), ("value", 1, 4), ("delay", 6, 2))
EFFECT_COLUMN_WIDTH = 8
COLUMN_GAP = 1  # spaces between two columns of a track
PAGE_ROWS = 16


@dataclass(frozen=True, slots=True)
class GridField:
    """One editable field of a track: where it sits in the track's text and what it edits."""

    kind: FieldKind
    column: int  # note column or effect column index
    name: str  # a NoteField ("note", "instrument", ...) or an EffectField ("command", ...)
    offset: int  # first character inside the track's text
    width: int


@lru_cache(maxsize=256)
def track_fields(note_columns: int, effect_columns: int) -> tuple[GridField, ...]:
    """The fields of a track with these columns, left to right."""
    fields: list[GridField] = []
    x = 0
    for column in range(note_columns):
        fields.extend(GridField("note", column, n, x + o, w) for n, o, w in NOTE_FIELDS)
        x += NOTE_COLUMN_WIDTH + COLUMN_GAP
    for column in range(effect_columns):
        fields.extend(GridField("effect", column, n, x + o, w) for n, o, w in EFFECT_FIELDS)
        x += EFFECT_COLUMN_WIDTH + COLUMN_GAP
    return tuple(fields)


def track_text_width(note_columns: int, effect_columns: int) -> int:
    """Characters of a track's text: its columns separated by COLUMN_GAP."""
    columns = note_columns + effect_columns
    if columns == 0:
        return 0
    body = note_columns * NOTE_COLUMN_WIDTH + effect_columns * EFFECT_COLUMN_WIDTH
    return body + (columns - 1) * COLUMN_GAP


def pattern_length(song: Song, pattern: int) -> int:
    """Rows of the pattern, or 1 for a missing one (an empty song still has a cursor)."""
    found = song.patterns.get(pattern)
    return found.length if found is not None else 1


class GridCursor:
    """Moves the cursor of one EditState over a song. Nothing wraps: every move clamps."""

    def __init__(self, state: EditState, field: int = 0) -> None:
        self.state = state
        self.field = field  # index into the current track's fields

    # --- reading ----------------------------------------------------------------------------

    def fields(self, song: Song) -> tuple[GridField, ...]:
        """The current track's fields (empty for a song without tracks)."""
        if not 0 <= self.state.track < len(song.tracks):
            return ()
        track = song.tracks[self.state.track]
        return track_fields(track.note_columns, track.effect_columns)

    def current(self, song: Song) -> GridField | None:
        fields = self.fields(song)
        return fields[self.field] if 0 <= self.field < len(fields) else None

    # --- moving -----------------------------------------------------------------------------

    def clamp(self, song: Song) -> None:
        """Bring the cursor back inside the song (after undo, a resize, a pattern switch)."""
        state = self.state
        state.track = max(0, min(state.track, len(song.tracks) - 1))
        state.row = max(0, min(state.row, pattern_length(song, state.pattern) - 1))
        self.field = max(0, min(self.field, len(self.fields(song)) - 1))

    def to_row(self, song: Song, row: int) -> None:
        self.state.row = max(0, min(row, pattern_length(song, self.state.pattern) - 1))

    def move_rows(self, song: Song, delta: int) -> None:
        self.to_row(song, self.state.row + delta)

    def page(self, song: Song, pages: int) -> None:
        self.move_rows(song, pages * PAGE_ROWS)

    def home(self, song: Song) -> None:
        self.to_row(song, 0)

    def end(self, song: Song) -> None:
        self.to_row(song, pattern_length(song, self.state.pattern) - 1)

    def jump(self, song: Song, quarter: int) -> None:
        """FT2's F9..F12: rows 0, ¼, ½ and ¾ of the pattern (quarter 0..3)."""
        self.to_row(song, pattern_length(song, self.state.pattern) * quarter // 4)

    def right(self, song: Song) -> None:
        """Next field; past a track's last field, the next track's first."""
        if self.field + 1 < len(self.fields(song)):
            self.field += 1
        elif self.state.track + 1 < len(song.tracks):
            self.state.track += 1
            self.field = 0

    def left(self, song: Song) -> None:
        """Previous field; before a track's first field, the previous track's last."""
        if self.field > 0:
            self.field -= 1
        elif self.state.track > 0:
            self.state.track -= 1
            self.field = max(0, len(self.fields(song)) - 1)

    def to_track(self, song: Song, track: int) -> None:
        """Put the cursor on a track's first field."""
        self.state.track = max(0, min(track, len(song.tracks) - 1))
        self.field = 0

    def next_track(self, song: Song) -> None:
        if self.state.track + 1 < len(song.tracks):
            self.to_track(song, self.state.track + 1)

    def previous_track(self, song: Song) -> None:
        if self.state.track > 0:
            self.to_track(song, self.state.track - 1)
