"""The piano roll's view of one track of one pattern: notes as (start tick, length, pitch).

A tracker stores note starts and ends as separate cells (a pitch, later an OFF in the same
column); the roll reads them back as spans and writes spans as cells. Ticks here are unswung:
`row * ticks_per_line + delay`. A note lasts until the next event in its column (a note, OFF or
CUT), an L (note length) effect on its row, or the pattern's end, as the sequencer plays it.

One rule shapes the writing side: a cell holds one event, so a note cannot end on the row it
starts on (its OFF needs a cell of its own); such an end moves to the next row's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.model.copying import copy_rows
from tracker.model.edits import (
    check_instrument,
    check_pattern,
    check_pitch,
    check_row,
    check_track,
    check_velocity,
    tidy_row,
)
from tracker.model.serialize_common import MAX_EFFECT_COLUMNS, MAX_NOTE_COLUMNS
from tracker.model.song import DEFAULT_VELOCITY, OFF, EffectCell, NoteCell, Pattern, Song, TrackRow


@dataclass(frozen=True, slots=True)
class RollNote:
    """A note as the piano roll draws it."""

    start: int  # tick inside the pattern: row * tpl + delay
    length: int  # ticks until its note-off/cut/next note in the column, an L effect, or the end
    pitch: int
    velocity: int  # an empty velocity in the cell reads as 100
    column: int  # the note column holding it

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class NotePlacement:
    """A note to write: where, how long, and what it carries; `column` is only a preference."""

    start: int
    length: int
    pitch: int
    velocity: int = DEFAULT_VELOCITY
    instrument: int | None = None
    column: int | None = None


# --- reading -----------------------------------------------------------------------------------


def roll_notes(song: Song, pattern: int, track: int) -> list[RollNote]:
    """The track's notes in the pattern, sorted by (start, pitch)."""
    target = check_pattern(song, pattern)
    check_track(song, track)
    tpl = song.ticks_per_line
    end = target.length * tpl
    rows = target.data.get(track, {})
    notes = []
    for column in _columns_used(rows):
        events = _events(rows, column, tpl, target.length)
        for index, (tick, row, cell) in enumerate(events):
            if cell.note is None or cell.note < 0:
                continue
            stop = events[index + 1][0] if index + 1 < len(events) else end
            held = _length_effect(rows[row])
            if held is not None:
                stop = min(stop, tick + held)
            velocity = DEFAULT_VELOCITY if cell.velocity is None else cell.velocity
            notes.append(RollNote(tick, stop - tick, cell.note, velocity, column))
    notes.sort(key=lambda n: (n.start, n.pitch, n.column))
    return notes


def cc_values(song: Song, pattern: int, track: int, controller: int) -> dict[int, int]:
    """Row → value of the C (control change) effects for `controller` in the track's rows."""
    target = check_pattern(song, pattern)
    check_track(song, track)
    _check_7bit(controller, "controller")
    values = {}
    for row, track_row in sorted(target.data.get(track, {}).items()):
        if row >= target.length:
            continue
        for effect in track_row.effects:
            if _is_cc(effect, controller):
                values[row] = int(effect.value) % 256  # type: ignore[union-attr]
    return values


# --- writing -----------------------------------------------------------------------------------


def add_roll_note(
    song: Song,
    pattern: int,
    track: int,
    start: int,
    length: int,
    pitch: int,
    velocity: int = DEFAULT_VELOCITY,
) -> RollNote:
    """Write a note in the first note column free over [start, start + length), adding a column
    when none is; an OFF marks its end unless that is the pattern's end or the column's next
    note starts there. Returns the note as `roll_notes` now reads it."""
    return replace_roll_notes(
        song, pattern, track, [], [NotePlacement(start, length, pitch, velocity)]
    )[0]


def delete_roll_note(song: Song, pattern: int, track: int, note: RollNote) -> None:
    """Remove a note and the OFF that ends it; the notes around it keep their lengths."""
    replace_roll_notes(song, pattern, track, [note], [])


def move_roll_note(
    song: Song, pattern: int, track: int, note: RollNote, d_ticks: int, d_pitch: int
) -> RollNote:
    """Move a note by `d_ticks` and `d_pitch` (clamped to the pattern and 0..127), keeping its
    length, velocity and instrument; it stays in its column when that column is free."""
    found = _find(song, pattern, track, note)
    last_tick = song.patterns[pattern].length * song.ticks_per_line - 1
    start = max(0, min(last_tick, found.start + d_ticks))
    pitch = max(0, min(127, found.pitch + d_pitch))
    return _rewrite(song, pattern, track, found, start=start, pitch=pitch, length=found.length)


def resize_roll_note(song: Song, pattern: int, track: int, note: RollNote, length: int) -> RollNote:
    """Give a note a new length in ticks (its end is clamped to the pattern's end)."""
    found = _find(song, pattern, track, note)
    return _rewrite(
        song, pattern, track, found, start=found.start, pitch=found.pitch, length=length
    )


def set_roll_velocity(
    song: Song, pattern: int, track: int, note: RollNote, velocity: int
) -> RollNote:
    """Set a note's velocity (1..127)."""
    check_velocity(velocity)
    found = _find(song, pattern, track, note)
    cell = _cell_at(song.patterns[pattern], track, found.start, found.column, song.ticks_per_line)
    assert cell is not None  # _find read the note from this cell
    cell.velocity = _velocity_field(velocity)
    return RollNote(found.start, found.length, found.pitch, velocity, found.column)


def set_cc(
    song: Song, pattern: int, track: int, row: int, controller: int, value: int | None
) -> None:
    """Set the value (0..127) of `controller` on a row, in the row's C effect for it or in the
    first free effect column; None removes the row's C effects for that controller."""
    check_row(song, pattern, row)
    check_track(song, track)
    _check_7bit(controller, "controller")
    if value is not None:
        _check_7bit(value, "controller value")
    target = song.patterns[pattern]
    track_row = target.get(track, row)
    effects = [] if track_row is None else track_row.effects
    matches = [i for i, effect in enumerate(effects) if _is_cc(effect, controller)]
    if value is None:
        for index in matches:
            effects[index] = None
        tidy_row(target, track, row)
        return
    if matches:
        old = effects[matches[-1]]
        assert old is not None
        old.value = controller * 256 + value
        return
    free = [i for i in range(MAX_EFFECT_COLUMNS) if i >= len(effects) or effects[i] is None]
    if not free:
        raise ValueError(f"row {row} has no free effect column for controller {controller}")
    target.set_effect(track, row, free[0], EffectCell("C", controller * 256 + value))
    song.tracks[track].effect_columns = max(song.tracks[track].effect_columns, free[0] + 1)


def replace_roll_notes(
    song: Song,
    pattern: int,
    track: int,
    remove: Sequence[RollNote],
    add: Sequence[NotePlacement],
) -> list[RollNote]:
    """Remove some notes and write others in one step; the notes left keep their spans.

    Every note the roll shows may be removed; new ones go in their preferred column when it is
    free, else the first free one (a new column when none is). Doing both at once lets a moved
    note keep its column: the gap it leaves is not filled by its neighbour first.

    Returns:
        The written notes as `roll_notes` reads them, in the order of `add`.

    Raises:
        ValueError: a note to remove is not there, a placement is out of range, or no note
            column is free; the song is then left as it was.
    """
    target = check_pattern(song, pattern)
    check_track(song, track)
    for placement in add:
        _check_placement(song, target, placement)
    before = roll_notes(song, pattern, track)
    removed = [_find_in(before, note) for note in remove]
    kept = [note for note in before if note not in removed]
    saved_rows = copy_rows(target.data.get(track, {}))
    saved_columns = song.tracks[track].note_columns
    try:
        for note in removed:
            _erase(song, target, track, note)
        spans = list(kept)
        written = []
        for placement in add:
            note = _place(song, target, track, placement, spans)
            spans.append(note)
            written.append(note)
        _keep_ends(song, pattern, track, kept)
        after = roll_notes(song, pattern, track)
        return [_find_in(after, note) for note in written]
    except BaseException:
        target.data[track] = saved_rows
        if not saved_rows:
            del target.data[track]
        song.tracks[track].note_columns = saved_columns
        raise


# --- helpers -----------------------------------------------------------------------------------


def _rewrite(
    song: Song, pattern: int, track: int, note: RollNote, *, start: int, pitch: int, length: int
) -> RollNote:
    cell = _cell_at(song.patterns[pattern], track, note.start, note.column, song.ticks_per_line)
    instrument = None if cell is None else cell.instrument
    end = song.patterns[pattern].length * song.ticks_per_line
    length = max(1, min(length, end - start))
    placement = NotePlacement(start, length, pitch, note.velocity, instrument, note.column)
    return replace_roll_notes(song, pattern, track, [note], [placement])[0]


def _place(
    song: Song, target: Pattern, track: int, placement: NotePlacement, spans: list[RollNote]
) -> RollNote:
    tpl = song.ticks_per_line
    pattern_end = target.length * tpl
    start = placement.start
    stop = min(start + placement.length, pattern_end)
    if stop // tpl == start // tpl and stop < pattern_end:
        stop = min((start // tpl + 1) * tpl, pattern_end)
    rows = target.data.get(track, {})
    count = max(song.tracks[track].note_columns, *(len(r.notes) for r in rows.values()), 0)
    candidates = [] if placement.column is None else [placement.column]
    candidates += [c for c in range(min(count + 1, MAX_NOTE_COLUMNS)) if c != placement.column]
    for column in candidates:
        needs_off = _fits(target, track, column, start, stop, tpl, spans)
        if needs_off is None:
            continue
        old = _cell_at(target, track, start, column, tpl)
        instrument = placement.instrument
        if instrument is None and old is not None and old.note is None:
            instrument = old.instrument  # an instrument change already on that cell stays
        cell = NoteCell(placement.pitch, instrument, _velocity_field(placement.velocity))
        cell.delay = start % tpl or None
        target.set_note(track, start // tpl, column, cell)
        if needs_off:
            _write_off(target, track, stop, column, tpl)
        song.tracks[track].note_columns = max(song.tracks[track].note_columns, column + 1)
        return RollNote(start, stop - start, placement.pitch, placement.velocity, column)
    raise ValueError(f"no free note column at tick {start} (a track holds {MAX_NOTE_COLUMNS})")


def _fits(
    target: Pattern,
    track: int,
    column: int,
    start: int,
    stop: int,
    tpl: int,
    spans: list[RollNote],
) -> bool | None:
    """None if [start, stop) cannot go in `column`; else whether its end needs an OFF."""
    if any(n.column == column and n.start < stop and n.end > start for n in spans):
        return None
    rows = target.data.get(track, {})
    for tick, _, cell in _events(rows, column, tpl, target.length):
        # An OFF or CUT exactly at the start is replaced: the new note ends what it ended.
        if start < tick < stop or (tick == start and cell.note is not None and cell.note >= 0):
            return None
    start_cell = _cell_at(target, track, start, column, tpl)
    if (
        start_cell is not None
        and start_cell.note is not None
        and _tick(start, start_cell, tpl) != start
    ):
        return None
    if stop >= target.length * tpl:
        return False
    end_cell = _cell_at(target, track, stop, column, tpl)
    if end_cell is None or end_cell.note is None:
        return True
    return None if _tick(stop, end_cell, tpl) != stop else False


def _erase(song: Song, target: Pattern, track: int, note: RollNote) -> None:
    tpl = song.ticks_per_line
    rows = target.data.get(track, {})
    row = note.start // tpl
    rows[row].notes[note.column] = None
    tidy_row(target, track, row)
    end_cell = _cell_at(target, track, note.end, note.column, tpl)
    if end_cell is not None and end_cell.note == OFF and _tick(note.end, end_cell, tpl) == note.end:
        end_row = note.end // tpl
        target.data[track][end_row].notes[note.column] = None
        tidy_row(target, track, end_row)


def _keep_ends(song: Song, pattern: int, track: int, kept: list[RollNote]) -> None:
    """A removed note may have ended the one before it in its column: give that one an OFF."""
    tpl = song.ticks_per_line
    target = song.patterns[pattern]
    now = {(n.start, n.column, n.pitch): n for n in roll_notes(song, pattern, track)}
    for note in kept:
        current = now.get((note.start, note.column, note.pitch))
        if current is None or current.end <= note.end:
            continue
        cell = _cell_at(target, track, note.end, note.column, tpl)
        if cell is None or cell.note is None:
            _write_off(target, track, note.end, note.column, tpl)


def _write_off(target: Pattern, track: int, tick: int, column: int, tpl: int) -> None:
    old = _cell_at(target, track, tick, column, tpl)
    instrument = None if old is None else old.instrument
    target.set_note(track, tick // tpl, column, NoteCell(OFF, instrument, None, tick % tpl or None))


def _events(
    rows: dict[int, TrackRow], column: int, tpl: int, length: int
) -> list[tuple[int, int, NoteCell]]:
    """(tick, row, cell) of every note event (pitch, OFF, CUT) in one column, in time order."""
    events = []
    for row in sorted(rows):
        notes = rows[row].notes
        if row < length and column < len(notes):
            cell = notes[column]
            if cell is not None and cell.note is not None:
                events.append((row * tpl + min(cell.delay or 0, tpl - 1), row, cell))
    return events


def _cell_at(target: Pattern, track: int, tick: int, column: int, tpl: int) -> NoteCell | None:
    track_row = target.get(track, tick // tpl)
    if track_row is None or column >= len(track_row.notes):
        return None
    return track_row.notes[column]


def _tick(tick_in_row: int, cell: NoteCell, tpl: int) -> int:
    return tick_in_row // tpl * tpl + min(cell.delay or 0, tpl - 1)


def _columns_used(rows: dict[int, TrackRow]) -> range:
    return range(max((len(r.notes) for r in rows.values()), default=0))


def _length_effect(track_row: TrackRow) -> int | None:
    held = None
    for effect in track_row.effects:
        if effect is not None and effect.command == "L":
            held = int(effect.value)  # the sequencer lets the last L of a row win
    return held


def _is_cc(effect: EffectCell | None, controller: int) -> bool:
    return effect is not None and effect.command == "C" and int(effect.value) // 256 == controller


def _velocity_field(velocity: int) -> int | None:
    # The default is left empty, as a musician typing the note in the grid would leave it.
    return None if velocity == DEFAULT_VELOCITY else velocity


def _find(song: Song, pattern: int, track: int, note: RollNote) -> RollNote:
    return _find_in(roll_notes(song, pattern, track), note)


def _find_in(notes: list[RollNote], note: RollNote) -> RollNote:
    for candidate in notes:
        if (candidate.start, candidate.column, candidate.pitch) == (
            note.start,
            note.column,
            note.pitch,
        ):
            return candidate
    raise ValueError(f"no note of pitch {note.pitch} at tick {note.start} in column {note.column}")


def _check_placement(song: Song, target: Pattern, placement: NotePlacement) -> None:
    end = target.length * song.ticks_per_line
    for value, what in ((placement.start, "start"), (placement.length, "length")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"note {what} must be a whole number of ticks, not {value!r}")
    if not 0 <= placement.start < end:
        raise ValueError(f"note start {placement.start} is outside the pattern (0..{end - 1})")
    if placement.length < 1:
        raise ValueError(f"note length {placement.length} must be at least one tick")
    check_pitch(placement.pitch)
    check_velocity(placement.velocity)
    if placement.instrument is not None:
        check_instrument(placement.instrument)
    if placement.column is not None and not 0 <= placement.column < MAX_NOTE_COLUMNS:
        raise ValueError(f"note column {placement.column} is outside 0..{MAX_NOTE_COLUMNS - 1}")


def _check_7bit(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
        raise ValueError(f"{what} {value!r} is outside 0..127")
