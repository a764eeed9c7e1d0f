"""MIDI recording: notes played over a looping pattern, written into one track's note cells.

Each played note carries the position it was heard at, in ticks from the pattern's start (past
its end once the loop has wrapped). Quantized, a note-on or note-off goes on the row whose start
is nearest; fine, on the row whose start is at or before it, the remaining ticks in the delay
column. Row starts include swing, as the sequencer plays them.

Columns are handed out on the pattern's rows, since that is what plays back on every pass: a
note holds its column from its row up to (not including) its OFF's row, or to the pattern's end
when it was still held when recording stopped. A note that overlaps another there, in the loop,
takes the next column; one that starts on another's OFF row takes its column and replaces the
OFF, as a tracker's next note ends the last. Wrap calls in
`History.edit(label, tracks=[(pattern_id, track)])` to make them undoable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.model.edits import check_pattern, check_track, write_note, write_note_field
from tracker.model.serialize_common import MAX_NOTE_COLUMNS
from tracker.model.song import OFF, Song


@dataclass(frozen=True, slots=True)
class PlayedNote:
    """A note heard while recording; ticks count from the pattern's start, across loops."""

    start: int  # tick of the note-on; past the pattern's end once the loop went round (wraps)
    end: int | None  # tick of the note-off (>= start), None if held when recording stopped
    pitch: int  # 0..127
    velocity: int  # 1..127 (clamped)


@dataclass(slots=True)
class _Place:
    """Where one recorded note goes: unwrapped rows (a row past the end is on the next pass)."""

    pitch: int
    velocity: int
    row: int
    delay: int | None
    off: tuple[int, int | None] | None  # the OFF's (row, delay); None: no OFF
    hold: int  # rows the note keeps its column for, from its own
    column: int = 0


def write_played(
    song: Song, pattern_id: int, track: int, notes: Sequence[PlayedNote], *, fine: bool
) -> int:
    """Write recorded notes into a track of a pattern, overwriting the cells they land on.

    Args:
        song: the song, changed in place.
        pattern_id: the pattern that was looping while the notes were played.
        track: the track to write into; its note columns grow as chords need them.
        notes: the notes, in any order.
        fine: False puts note-ons and OFFs on the nearest row (a tie goes to the later one) with
            an empty delay; True puts them on the row that starts at or before them, the rest of
            the ticks in the delay column (cut to ticks_per_line - 1 where swing leaves a gap
            after an even row).

    Returns:
        How many notes were not written: a pitch outside 0..127, or no note column free
        (a track holds MAX_NOTE_COLUMNS).

    Raises:
        ValueError: no such pattern or track; nothing is written.
    """
    pattern = check_pattern(song, pattern_id)
    check_track(song, track)
    length = pattern.length
    places: list[_Place] = []
    dropped = 0
    for note in notes:
        if not 0 <= note.pitch <= 127:
            dropped += 1
            continue
        # Rows are counted on across passes (unwrapped) until written: the OFF's distance from
        # its note decides whether it has one, and the passes keep the played order.
        row, delay = _position(song, length, note.start, fine)
        off = None
        hold = length - row % length  # still held: up to the pattern's end, all we know
        if note.end is not None:
            off_row, off_delay = _position(song, length, note.end, fine)
            # An OFF cannot share its note's cell: the next row's start (so does an end given
            # before the start).
            if off_row <= row:
                off_row, off_delay = row + 1, None
            if off_row - row < length:
                off, hold = (off_row, off_delay), off_row - row
            else:  # held a whole pass or more: no OFF, it rings until it comes round again
                hold = length
        velocity = max(1, min(127, note.velocity))
        places.append(_Place(note.pitch, velocity, row, delay, off, hold))
    # Played order gives out the lower columns; a chord's notes, on one row, go up by pitch.
    places.sort(key=lambda p: (p.row, p.pitch))
    dropped += _assign_columns(places, length)
    _write(song, pattern_id, track, [p for p in places if p.column >= 0], length)
    return dropped


def _row_start(song: Song, length: int, row: int) -> int:
    """The tick an unwrapped row starts on: swing moves odd rows of each pass later. The same
    sum as `tracker.engine.sequencer.row_tick`, kept here so the model needs no engine."""
    tpl = song.ticks_per_line
    tick = row * tpl
    if row % length % 2 == 1:
        swing = round(tpl * (song.swing - 50.0) / 50.0)
        tick += min(swing, tpl - 1)
    return tick


def _position(song: Song, length: int, tick: int, fine: bool) -> tuple[int, int | None]:
    """The (unwrapped row, delay) a tick is written at; an empty delay is None, as typed."""
    tpl = song.ticks_per_line
    # Swing only moves a row later, by less than a row: the row at or before is this one or
    # the one before it, and the nearest is that row or the next.
    row = tick // tpl
    if _row_start(song, length, row) > tick:
        row -= 1
    if fine:
        return row, min(tick - _row_start(song, length, row), tpl - 1) or None
    before = tick - _row_start(song, length, row)
    after = _row_start(song, length, row + 1) - tick
    return (row + 1 if after <= before else row), None


def _assign_columns(places: list[_Place], length: int) -> int:
    """Give each note the lowest column whose rows it does not overlap in the loop; a note
    with no room gets column -1. Returns how many got none."""
    busy: list[set[int]] = []  # per column, the pattern rows its notes hold
    dropped = 0
    for place in places:
        held = {(place.row + r) % length for r in range(place.hold)}
        column = next((c for c, rows in enumerate(busy) if not rows & held), len(busy))
        if column >= MAX_NOTE_COLUMNS:
            place.column = -1
            dropped += 1
            continue
        if column == len(busy):
            busy.append(set())
        busy[column] |= held
        place.column = column
    return dropped


def _write(song: Song, pattern_id: int, track: int, places: list[_Place], length: int) -> None:
    starts = {(p.row % length, p.column) for p in places}
    for place in places:
        _write_cell(song, pattern_id, track, place.row % length, place, place.pitch, place.delay)
        if place.off is None:
            continue
        row = place.off[0] % length
        # The column's next note starts on this row: it ends this one, no OFF needed.
        if (row, place.column) not in starts:
            _write_cell(song, pattern_id, track, row, place, OFF, place.off[1])


def _write_cell(
    song: Song, pattern_id: int, track: int, row: int, place: _Place, note: int, delay: int | None
) -> None:
    # Record mode replaces the whole cell; the instrument stays empty so the track's plays.
    velocity = place.velocity if note != OFF else None
    write_note(song, pattern_id, track, row, place.column, note, None, velocity)
    write_note_field(song, pattern_id, track, row, place.column, "delay", delay)
