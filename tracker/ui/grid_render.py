"""What the pattern grid writes where: field texts and the horizontal layout. Pure (no Textual).

Texts follow docs/FORMAT.md (`C-4 01 64 ..`, `OFF`, `^^^`, `C0740`), squeezed into fixed widths
so every row of a track lines up whatever it holds: the grid cannot afford to scan a whole
pattern for its widest field the way the file writer does.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.model.notes import note_name
from tracker.model.serialize_common import effect_token, format_number
from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Song, TrackRow
from tracker.ui.grid_cursor import GridField, track_fields, track_text_width

TRACK_SEPARATOR = "│"


def note_text(note: int) -> str:
    """Three characters: `C-4`, `C#4`, `OFF`, `^^^`; octave -1 (`C--1`) shows as `C--`."""
    if note == OFF:
        return "OFF"
    if note == CUT:
        return "^^^"
    if not 0 <= note <= 127:
        return "???"
    return note_name(note)[:3]


def effect_value_text(cell: EffectCell) -> str:
    """Four characters after the command letter: hex digits, or the tempo in decimal."""
    if cell.command == "T":
        text = format_number(cell.value)
        return (text if len(text) <= 4 else str(round(cell.value))).ljust(4)
    try:
        return effect_token(cell)[1:]
    except ValueError:
        return "????"


def field_text(track_row: TrackRow | None, field: GridField) -> str | None:
    """The text of one field on one row, or None when it is empty (drawn as dots)."""
    if track_row is None:
        return None
    if field.kind == "note":
        notes = track_row.notes
        cell: NoteCell | None = notes[field.column] if field.column < len(notes) else None
        if cell is None:
            return None
        if field.name == "note":
            return None if cell.note is None else note_text(cell.note)
        value = getattr(cell, field.name)
        return None if value is None else f"{value:02X}"[-2:]
    effects = track_row.effects
    effect = effects[field.column] if field.column < len(effects) else None
    if effect is None:
        return None
    if field.name == "command":
        return effect.command
    if field.name == "value":
        return effect_value_text(effect)
    return None if effect.delay is None else f"{effect.delay:02X}"[-2:]


def row_number_digits(length: int, hexadecimal: bool) -> int:
    """Digits of the row-number gutter: two, more for long patterns."""
    last = max(0, length - 1)
    return max(2, len(f"{last:X}" if hexadecimal else str(last)))


@dataclass(frozen=True, slots=True)
class GridLayout:
    """Where each track sits. x counts from the left of the tracks area (right of the gutter);
    each track is drawn as ` <text> │`."""

    gutter: int  # row number, space, separator
    track_x: tuple[int, ...]  # first character of each track's text
    track_width: tuple[int, ...]  # characters of each track's text
    width: int  # the whole tracks area

    @classmethod
    def of(cls, song: Song, digits: int) -> GridLayout:
        xs: list[int] = []
        widths: list[int] = []
        x = 0
        for track in song.tracks:
            width = track_text_width(track.note_columns, track.effect_columns)
            xs.append(x + 1)
            widths.append(width)
            x += width + 3
        return cls(digits + 2, tuple(xs), tuple(widths), x)

    def track_at(self, x: int) -> int | None:
        """The track drawn at x of the tracks area (its separator included), or None."""
        for index, start in enumerate(self.track_x):
            if start - 1 <= x < start + self.track_width[index] + 2:
                return index
        return None


def field_at(song: Song, track: int, x_in_track: int) -> int:
    """The index of the track's field nearest to x (relative to the track's text)."""
    t = song.tracks[track]
    fields = track_fields(t.note_columns, t.effect_columns)
    best = 0
    for index, field in enumerate(fields):
        if field.offset <= x_in_track:
            best = index
    return best
