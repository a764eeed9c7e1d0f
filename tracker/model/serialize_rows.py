"""Reading one pattern row line: the row number, then each track's note and effect columns.

Rows are most of a song file, so this path checks with plain comparisons and regexes rather
than exceptions, and raises the reader's SongFormatError directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from tracker.model.errors import SongFormatError
from tracker.model.notes import parse_note
from tracker.model.serialize_common import (
    MAX_INSTRUMENT,
    MAX_VELOCITY,
    RuleError,
    check_effect,
    parse_number,
    plural,
    show,
)
from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Pattern, Song, Track, TrackRow

_TOKEN = re.compile(r"\||[^ \t|]+")
_ROW_NUMBER = re.compile(r"[0-9]{1,9}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_NOTE = re.compile(r"[A-Ga-g][-#Bb](?:-1|[0-9]{1,2})")
_EFFECT = re.compile(r"([CBPARLcbparl])([0-9A-Fa-f]{4})|[Tt](.*)")

Field = tuple[str, int]  # a token's text and its 1-based column


class RowContext(Protocol):
    """What the row reader needs from the song reader."""

    song: Song

    def error(self, message: str, column: int | None = None) -> SongFormatError: ...

    def use_instrument(self, number: int, column: int, spelled: str) -> None: ...


@dataclass(slots=True)
class PatternBlock:
    """The pattern whose rows are being read."""

    pattern_id: int
    pattern: Pattern
    rows: set[int] = field(default_factory=set)


def read_row(ctx: RowContext, block: PatternBlock, line: str) -> None:
    """Parse one (non-blank, indented) row line into `block.pattern`."""
    tokens = [(m.group(), m.start() + 1) for m in _TOKEN.finditer(line)]
    row = _row_number(ctx, block, tokens[0])
    segments = _segments(ctx, tokens[1:], len(line) + 1)
    for index, (track, (fields, end)) in enumerate(zip(ctx.song.tracks, segments, strict=True)):
        track_row = _track_row(ctx, track, fields, end)
        if track_row is not None:
            block.pattern.data.setdefault(index, {})[row] = track_row
    block.rows.add(row)


def _fail(ctx: RowContext, message: str, column: int) -> NoReturn:
    raise ctx.error(message, column)


def _row_number(ctx: RowContext, block: PatternBlock, token: Field) -> int:
    text, column = token
    if not _ROW_NUMBER.fullmatch(text):
        _fail(ctx, f"expected a row number, found {show(text)}", column)
    row = int(text)
    length = block.pattern.length
    if row >= length:
        where = f"pattern {block.pattern_id} ({length} rows, 0..{length - 1})"
        _fail(ctx, f"row {row} is past the end of {where}", column)
    if row in block.rows:
        _fail(ctx, f"row {row} appears twice in pattern {block.pattern_id}", column)
    return row


def _segments(ctx: RowContext, tokens: list[Field], end: int) -> list[tuple[list[Field], int]]:
    """Split a row's tokens at `|` into one segment per track, each with the column it ends at."""
    count = len(ctx.song.tracks)
    if count == 0:
        if tokens:
            _fail(ctx, "the song has no tracks, so a row holds only its number", tokens[0][1])
        return []
    segments: list[tuple[list[Field], int]] = []
    current: list[Field] = []
    for text, column in tokens:
        if text != "|":
            current.append((text, column))
            continue
        if len(segments) == count - 1:
            _fail(ctx, f"too many '|': the song has {plural(count, 'track')}", column)
        segments.append((current, column))
        current = []
    segments.append((current, end))
    if len(segments) < count:
        found = plural(len(segments), "track segment")
        _fail(ctx, f"row has {found}, the song has {plural(count, 'track')}", end)
    return segments


def _track_row(ctx: RowContext, track: Track, fields: list[Field], end: int) -> TrackRow | None:
    notes, effects = track.note_columns, track.effect_columns
    expected = 4 * notes + 2 * effects
    if len(fields) != expected:
        column = fields[expected][1] if len(fields) > expected else end
        shape = f"{plural(notes, 'note column')} and {plural(effects, 'effect column')}"
        message = f"track {show(track.name)} has {shape}: {expected} fields, found {len(fields)}"
        _fail(ctx, message, column)
    note_cells = [_note_cell(ctx, fields[4 * i : 4 * i + 4]) for i in range(notes)]
    base = 4 * notes
    effect_cells = [
        _effect_cell(ctx, fields[base + 2 * i : base + 2 * i + 2]) for i in range(effects)
    ]
    if all(cell is None for cell in note_cells) and all(cell is None for cell in effect_cells):
        return None
    return TrackRow(note_cells, effect_cells)


def _is_empty(text: str) -> bool:
    return not text.strip(".")


def _note_cell(ctx: RowContext, fields: list[Field]) -> NoteCell | None:
    note = _note(ctx, *fields[0])
    instrument = _hex(ctx, *fields[1], 1, MAX_INSTRUMENT, "instrument")
    if instrument is not None:
        ctx.use_instrument(instrument, fields[1][1], f"{instrument:02X} ({instrument})")
    velocity = _hex(ctx, *fields[2], 1, MAX_VELOCITY, "velocity")
    delay = _delay(ctx, *fields[3])
    if note is None and instrument is None and velocity is None and delay is None:
        return None
    return NoteCell(note, instrument, velocity, delay)


def _note(ctx: RowContext, text: str, column: int) -> int | None:
    if _is_empty(text):
        return None
    if text.upper() == "OFF":
        return OFF
    if text == "^^^":
        return CUT
    if _NOTE.fullmatch(text):
        try:
            return parse_note(text)
        except ValueError as exc:
            _fail(ctx, str(exc), column)
    _fail(ctx, f"unknown note {show(text)}", column)


def _hex(
    ctx: RowContext, text: str, column: int, lowest: int, highest: int, what: str
) -> int | None:
    if _is_empty(text):
        return None
    if not _HEX2.fullmatch(text):
        _fail(ctx, f"{what} must be two hex digits or '..', not {show(text)}", column)
    value = int(text, 16)
    if not lowest <= value <= highest:
        _fail(ctx, f"{what} {text.upper()} is outside {lowest:02X}..{highest:02X} (hex)", column)
    return value


def _delay(ctx: RowContext, text: str, column: int) -> int | None:
    delay = _hex(ctx, text, column, 0, 0xFF, "delay")
    ticks = ctx.song.ticks_per_line
    if delay is not None and delay >= ticks:
        message = f"delay {text.upper()} ({delay} ticks) is not less than ticks-per-line {ticks}"
        _fail(ctx, message, column)
    return delay


def _effect_cell(ctx: RowContext, fields: list[Field]) -> EffectCell | None:
    (text, column), delay_field = fields
    delay = _delay(ctx, *delay_field)
    if _is_empty(text):
        if delay is not None:
            _fail(ctx, "an effect delay needs an effect", delay_field[1])
        return None
    match = _EFFECT.fullmatch(text)
    if match is None:
        usage = "C, B, P, A, R or L + 4 hex digits, or T + BPM"
        _fail(ctx, f"unknown effect {show(text)} ({usage})", column)
    command = (match.group(1) or "T").upper()
    value = int(match.group(2), 16) if match.group(2) else parse_number(match.group(3))
    if value is None:
        _fail(ctx, f"tempo {show(text[1:])} is not a number", column)
    try:
        value = check_effect(command, value)
    except RuleError as exc:
        _fail(ctx, str(exc), column)
    return EffectCell(command, value, delay)
