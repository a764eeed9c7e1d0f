"""Edits of the pattern grid: cells, blocks, patterns, the order list, tracks and tempo.

Every function mutates the song in place, does no I/O, and raises ValueError for an impossible
argument (an unknown pattern, a track or row out of range, a value the song file cannot hold),
before changing anything. Wrap calls in `History.edit` to make them undoable; `Block.scope()`
gives the (pattern, track) pairs a block edit touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tracker.model.copying import copy_pattern, copy_rows, copy_track_row, copy_tracks
from tracker.model.serialize_common import (
    HEX_EFFECTS,
    MAX_EFFECT_COLUMNS,
    MAX_INSTRUMENT,
    MAX_LINES_PER_BEAT,
    MAX_NOTE_COLUMNS,
    RuleError,
    check_effect,
    check_string,
)
from tracker.model.song import (
    CUT,
    EFFECTS,
    MAX_BPM,
    MIN_BPM,
    OFF,
    EffectCell,
    NoteCell,
    Pattern,
    Song,
    TrackRow,
)

MIN_PATTERN_ROWS = 1
MAX_PATTERN_ROWS = 512
MIN_VOLUME_DB = -60.0
MAX_VOLUME_DB = 12.0
MIN_SWING = 50.0
MAX_SWING = 75.0

NoteField = Literal["note", "instrument", "velocity", "delay"]
EffectField = Literal["command", "value", "delay"]


@dataclass(frozen=True, slots=True)
class Block:
    """A rectangle of whole tracks × rows of one pattern, inclusive on both ends.

    Corners may be given in either order (an anchor and a cursor): they are sorted.
    """

    pattern: int
    track0: int
    track1: int
    row0: int
    row1: int

    def __post_init__(self) -> None:
        if self.track0 > self.track1:
            t0, t1 = self.track1, self.track0
            object.__setattr__(self, "track0", t0)
            object.__setattr__(self, "track1", t1)
        if self.row0 > self.row1:
            r0, r1 = self.row1, self.row0
            object.__setattr__(self, "row0", r0)
            object.__setattr__(self, "row1", r1)

    def tracks(self) -> range:
        return range(self.track0, self.track1 + 1)

    def rows(self) -> range:
        return range(self.row0, self.row1 + 1)

    def scope(self) -> list[tuple[int, int]]:
        """The (pattern, track) pairs to pass to `History.edit(tracks=...)`."""
        return [(self.pattern, track) for track in self.tracks()]


@dataclass(frozen=True, slots=True)
class Clip:
    """Copied rows: (track offset, row offset, a private TrackRow copy). Never mutate them."""

    width: int
    height: int
    rows: tuple[tuple[int, int, TrackRow], ...]


# --- cells -------------------------------------------------------------------------------------


def write_note(
    song: Song,
    pattern: int,
    track: int,
    row: int,
    column: int,
    note: int,
    instrument: int | None = None,
    velocity: int | None = None,
) -> None:
    """Put a note (pitch, OFF or CUT) in a note cell with this instrument and velocity (None
    leaves that field empty); the cell's delay is kept. Grows the track's note columns."""
    check_row(song, pattern, row)
    check_column(song, track, column, effect=False)
    check_note(note)
    if instrument is not None:
        check_instrument(instrument, song)
    if velocity is not None:
        check_velocity(velocity)
    old = _note_cell(song, pattern, track, row, column)
    delay = old.delay if old is not None else None
    song.patterns[pattern].set_note(track, row, column, NoteCell(note, instrument, velocity, delay))
    _grow_columns(song, track, notes=column + 1)
    tidy_row(song.patterns[pattern], track, row)


def write_note_field(
    song: Song,
    pattern: int,
    track: int,
    row: int,
    column: int,
    field: NoteField,
    value: int | None,
) -> None:
    """Set one field of a note cell (None clears it); a cell left all empty is removed."""
    check_row(song, pattern, row)
    check_column(song, track, column, effect=False)
    if value is not None:
        match field:
            case "note":
                check_note(value)
            case "instrument":
                check_instrument(value, song)
            case "velocity":
                check_velocity(value)
            case "delay":
                check_delay(song, value)
            case _:
                raise ValueError(f"unknown note field {field!r}")
    elif field not in ("note", "instrument", "velocity", "delay"):
        raise ValueError(f"unknown note field {field!r}")
    old = _note_cell(song, pattern, track, row, column)
    if old is None and value is None:
        return
    cell = (
        NoteCell() if old is None else NoteCell(old.note, old.instrument, old.velocity, old.delay)
    )
    setattr(cell, field, value)
    song.patterns[pattern].set_note(track, row, column, cell)
    if value is not None:
        _grow_columns(song, track, notes=column + 1)
    tidy_row(song.patterns[pattern], track, row)


def write_effect_field(
    song: Song,
    pattern: int,
    track: int,
    row: int,
    column: int,
    field: EffectField,
    value: Any,
) -> None:
    """Set one field of an effect cell.

    command: a letter of EFFECTS, or None to clear the whole cell. Changing the command keeps the
    value when the new command accepts it, else uses the command's neutral value (B2000, T at the
    song's tempo, L one row...). value: an int (a float for T); on an empty cell it creates a C
    (control change). delay: ticks or None; on an empty cell it creates C0000 with that delay.
    Grows the track's effect columns.
    """
    check_row(song, pattern, row)
    check_column(song, track, column, effect=True)
    old = _effect_cell(song, pattern, track, row, column)
    if field == "command":
        if value is None:
            clear_effect(song, pattern, track, row, column)
            return
        if value not in EFFECTS:
            raise ValueError(f"unknown effect command {value!r} (one of {', '.join(EFFECTS)})")
        cell = _with_command(song, old, value)
    elif field == "value":
        if value is None:
            raise ValueError("an effect value cannot be empty (clear the command instead)")
        command = old.command if old is not None else "C"
        cell = EffectCell(
            command, _effect_value(command, value), None if old is None else old.delay
        )
    elif field == "delay":
        if value is not None:
            check_delay(song, value)
        if old is None and value is None:
            return
        cell = EffectCell("C", 0) if old is None else EffectCell(old.command, old.value)
        cell.delay = value
    else:
        raise ValueError(f"unknown effect field {field!r}")
    song.patterns[pattern].set_effect(track, row, column, cell)
    _grow_columns(song, track, effects=column + 1)


def clear_note(song: Song, pattern: int, track: int, row: int, column: int) -> None:
    """Empty a note cell (all four fields)."""
    check_row(song, pattern, row)
    check_column(song, track, column, effect=False)
    track_row = song.patterns[pattern].get(track, row)
    if track_row is not None and column < len(track_row.notes):
        track_row.notes[column] = None
        tidy_row(song.patterns[pattern], track, row)


def clear_effect(song: Song, pattern: int, track: int, row: int, column: int) -> None:
    """Empty an effect cell."""
    check_row(song, pattern, row)
    check_column(song, track, column, effect=True)
    track_row = song.patterns[pattern].get(track, row)
    if track_row is not None and column < len(track_row.effects):
        track_row.effects[column] = None
        tidy_row(song.patterns[pattern], track, row)


# --- blocks ------------------------------------------------------------------------------------


def clear_block(song: Song, block: Block) -> None:
    """Empty every row of the block's tracks."""
    _check_block(song, block)
    data = song.patterns[block.pattern].data
    for track in block.tracks():
        rows = data.get(track)
        if rows is None:
            continue
        for row in block.rows():
            rows.pop(row, None)
        if not rows:
            del data[track]


def copy_block(song: Song, block: Block) -> Clip:
    """Private copies of the block's non-empty rows, positioned relative to its corner."""
    _check_block(song, block)
    pattern = song.patterns[block.pattern]
    rows = []
    for track in block.tracks():
        for row in block.rows():
            track_row = pattern.get(track, row)
            if track_row is not None and not track_row.is_empty():
                rows.append((track - block.track0, row - block.row0, copy_track_row(track_row)))
    width = block.track1 - block.track0 + 1
    height = block.row1 - block.row0 + 1
    return Clip(width, height, tuple(rows))


def paste(song: Song, pattern: int, track: int, row: int, clip: Clip) -> Block:
    """Overwrite the clip's rectangle from (track, row) with its rows, empty ones included.

    Rows past the pattern's end and tracks past the last one are dropped; the destination
    tracks' columns grow to hold what is pasted. Returns the block actually written.
    """
    check_row(song, pattern, row)
    check_track(song, track)
    if clip.width < 1 or clip.height < 1:
        raise ValueError("an empty clip cannot be pasted")
    length = song.patterns[pattern].length
    written = Block(
        pattern,
        track,
        min(track + clip.width, len(song.tracks)) - 1,
        row,
        min(row + clip.height, length) - 1,
    )
    clear_block(song, written)
    target = song.patterns[pattern]
    for d_track, d_row, source in clip.rows:
        t, r = track + d_track, row + d_row
        if t > written.track1 or r > written.row1:
            continue
        copy = copy_track_row(source)
        target.data.setdefault(t, {})[r] = copy
        _grow_columns(song, t, notes=len(copy.notes), effects=len(copy.effects))
        tidy_row(target, t, r)
    return written


def transpose_block(song: Song, block: Block, semitones: int) -> None:
    """Move every pitch in the block by `semitones`, clamped to 0..127 (OFF and CUT stay)."""
    _check_block(song, block)
    for cell in _block_notes(song, block):
        if cell.note is not None and cell.note >= 0:
            cell.note = max(0, min(127, cell.note + semitones))


def ramp_velocity(song: Song, block: Block) -> None:
    """Per track and note column, draw a straight line of velocity from the block's first note to
    its last (an empty velocity counts as 100) and set every note between onto it."""
    _check_block(song, block)
    pattern = song.patterns[block.pattern]
    tpl = song.ticks_per_line
    for track in block.tracks():
        columns: dict[int, list[tuple[int, NoteCell]]] = {}
        for row in block.rows():
            track_row = pattern.get(track, row)
            if track_row is None:
                continue
            for column, cell in enumerate(track_row.notes):
                if cell is not None and cell.note is not None and cell.note >= 0:
                    tick = row * tpl + min(cell.delay or 0, tpl - 1)
                    columns.setdefault(column, []).append((tick, cell))
        for notes in columns.values():
            _ramp(notes)


def _ramp(notes: list[tuple[int, NoteCell]]) -> None:
    if len(notes) < 3:
        return
    (first_tick, first), (last_tick, last) = notes[0], notes[-1]
    v0 = 100 if first.velocity is None else first.velocity
    v1 = 100 if last.velocity is None else last.velocity
    span = last_tick - first_tick
    for tick, cell in notes[1:-1]:
        fraction = (tick - first_tick) / span if span else 0.0
        velocity = max(1, min(127, round(v0 + (v1 - v0) * fraction)))
        # An empty velocity already means 100: leaving it empty keeps an unchanged ramp a no-op.
        if not (cell.velocity is None and velocity == 100):
            cell.velocity = velocity


# --- patterns and the order list ---------------------------------------------------------------


def new_pattern(song: Song, length: int = 64) -> int:
    """Add an empty pattern under the lowest free id (not placed in the order list)."""
    _check_length(length)
    pid = _free_id(song)
    song.patterns[pid] = Pattern(length)
    return pid


def clone_pattern(song: Song, pattern: int) -> int:
    """Copy a pattern under the lowest free id, named "<name> copy"; return the new id."""
    check_pattern(song, pattern)
    copy = copy_pattern(song.patterns[pattern])
    copy.name = f"{copy.name} copy".strip()
    pid = _free_id(song)
    song.patterns[pid] = copy
    return pid


def delete_pattern(song: Song, pattern: int) -> None:
    """Remove a pattern and its places in the order list (not the last pattern, nor one that is
    the whole order list)."""
    check_pattern(song, pattern)
    if len(song.patterns) == 1:
        raise ValueError("the song's only pattern cannot be deleted")
    if song.order and all(p == pattern for p in song.order):
        raise ValueError(f"pattern {pattern} is the whole order list")
    for index in reversed(range(len(song.order))):
        if song.order[index] == pattern:
            order_delete(song, index)
    del song.patterns[pattern]


def resize_pattern(song: Song, pattern: int, length: int) -> None:
    """Give a pattern 1..512 rows; rows past the new end are dropped."""
    check_pattern(song, pattern)
    _check_length(length)
    target = song.patterns[pattern]
    target.length = length
    for track in list(target.data):
        rows = target.data[track]
        for row in [r for r in rows if r >= length]:
            del rows[row]
        if not rows:
            del target.data[track]


def order_insert(song: Song, index: int, pattern: int) -> None:
    """Insert a pattern into the order list before `index` (len(order) appends)."""
    check_pattern(song, pattern)
    if not 0 <= index <= len(song.order):
        raise ValueError(f"order position {index} is outside 0..{len(song.order)}")
    song.order.insert(index, pattern)
    if song.loop is not None:
        first, last = song.loop
        song.loop = (first + (index <= first), last + (index <= last))


def order_delete(song: Song, index: int) -> None:
    """Remove an order-list entry; the last remaining entry is kept (a no-op)."""
    _check_order_index(song, index)
    if len(song.order) == 1:
        return
    del song.order[index]
    if song.loop is not None:
        first, last = song.loop
        if first == last == index:
            song.loop = None
        else:
            song.loop = (first - (index < first), last - (index <= last))


def order_set(song: Song, index: int, pattern: int) -> None:
    """Play `pattern` at order position `index`."""
    _check_order_index(song, index)
    check_pattern(song, pattern)
    song.order[index] = pattern


# --- tracks and the song -----------------------------------------------------------------------

_TRACK_FIELDS = ("name", "mute", "solo", "volume_db", "pan")


def set_track(song: Song, track: int, **fields: Any) -> None:
    """Set a track's name, mute, solo, volume_db (clamped -60..+12) or pan (clamped -1..1)."""
    check_track(song, track)
    unknown = [name for name in fields if name not in _TRACK_FIELDS]
    if unknown:
        raise ValueError(
            f"cannot set track field {unknown[0]!r} (one of {', '.join(_TRACK_FIELDS)})"
        )
    values = dict(fields)
    if "name" in values:
        values["name"] = _check_track_name(values["name"])
    for flag in ("mute", "solo"):
        if flag in values:
            values[flag] = bool(values[flag])
    if "volume_db" in values:
        values["volume_db"] = _clamp(values["volume_db"], MIN_VOLUME_DB, MAX_VOLUME_DB, "volume")
    if "pan" in values:
        values["pan"] = _clamp(values["pan"], -1.0, 1.0, "pan")
    target = song.tracks[track]
    old_name = target.name
    for name, value in values.items():
        setattr(target, name, value)
    if target.name != old_name and song.track_named(old_name) is None:
        _rename_references(song, old_name, target.name)


def _rename_references(song: Song, old: str, new: str) -> None:
    """Outputs and sends name tracks: a renamed group or return keeps what plays into it."""
    for other in song.tracks:
        if other.output == old:
            other.output = new
        if old in other.sends:
            other.sends = {new if k == old else k: v for k, v in other.sends.items()}


def duplicate_track(song: Song, track: int) -> int:
    """Insert a copy of `track` (settings, routing, audio, and its rows in every pattern)
    right after it, named "NAME copy"; return the copy's index. Duplicate, then flatten one:
    the other keeps the notes."""
    check_track(song, track)
    copy = copy_tracks([song.tracks[track]])[0]
    names = {t.name for t in song.tracks}
    copy.name = f"{copy.name} copy"
    number = 2
    while copy.name in names:
        copy.name = f"{song.tracks[track].name} copy {number}"
        number += 1
    copy.solo = False
    index = track + 1
    song.tracks.insert(index, copy)
    for pattern in song.patterns.values():
        shifted = {t + 1 if t >= index else t: rows for t, rows in pattern.data.items()}
        if track in pattern.data:
            shifted[index] = copy_rows(pattern.data[track])
        pattern.data = dict(sorted(shifted.items()))
    return index


def set_tempo(song: Song, bpm: float) -> None:
    """Set the song's starting tempo, clamped to MIN_BPM..MAX_BPM."""
    song.bpm = _clamp(bpm, MIN_BPM, MAX_BPM, "tempo")


def set_swing(song: Song, swing: float) -> None:
    """Set the swing percent, clamped to 50 (straight) .. 75."""
    song.swing = _clamp(swing, MIN_SWING, MAX_SWING, "swing")


def set_lines_per_beat(song: Song, lpb: int) -> None:
    """Set how many rows make a beat (1..64)."""
    if isinstance(lpb, bool) or not isinstance(lpb, int) or not 1 <= lpb <= MAX_LINES_PER_BEAT:
        raise ValueError(f"lines per beat must be a whole number in 1..{MAX_LINES_PER_BEAT}")
    song.lines_per_beat = lpb


# --- argument checks (shared with roll.py and quantize.py) -----------------------------------
# Each raises ValueError with a message fit to show the musician; none changes the song.

MAX_VELOCITY = 127


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    return value


def check_pattern(song: Song, pattern: int) -> Pattern:
    if pattern not in song.patterns:
        raise ValueError(f"no pattern {pattern}")
    return song.patterns[pattern]


def check_track(song: Song, track: int) -> None:
    if not 0 <= _whole(track, "track") < len(song.tracks):
        raise ValueError(f"no track {track} (the song has {len(song.tracks)})")


def check_row(song: Song, pattern: int, row: int) -> None:
    length = check_pattern(song, pattern).length
    if not 0 <= _whole(row, "row") < length:
        raise ValueError(f"row {row} is outside pattern {pattern} (rows 0..{length - 1})")


def check_column(song: Song, track: int, column: int, *, effect: bool) -> None:
    check_track(song, track)
    limit = MAX_EFFECT_COLUMNS if effect else MAX_NOTE_COLUMNS
    kind = "effect" if effect else "note"
    if not 0 <= _whole(column, f"{kind} column") < limit:
        raise ValueError(f"{kind} column {column} is outside 0..{limit - 1}")


def check_note(note: int) -> None:
    if _whole(note, "note") not in (OFF, CUT) and not 0 <= note <= 127:
        raise ValueError(f"note {note} is not a MIDI pitch (0..127), OFF or CUT")


def check_pitch(pitch: int) -> None:
    if not 0 <= _whole(pitch, "pitch") <= 127:
        raise ValueError(f"pitch {pitch} is outside 0..127")


def check_instrument(instrument: int, song: Song | None = None) -> None:
    # 1 up: the song file numbers instruments from 1 (00 is not a valid instrument there).
    if not 1 <= _whole(instrument, "instrument") <= MAX_INSTRUMENT:
        raise ValueError(f"instrument {instrument} is outside 1..{MAX_INSTRUMENT}")
    # A cell naming an undeclared instrument could not be saved: refuse it when typed.
    if song is not None and instrument not in song.instruments:
        declared = ", ".join(f"{n:02X} {name}" for n, name in sorted(song.instruments.items()))
        raise ValueError(f"instrument {instrument:02X} is not in the song ({declared or 'none'})")


def check_velocity(velocity: int) -> None:
    if not 1 <= _whole(velocity, "velocity") <= MAX_VELOCITY:
        raise ValueError(f"velocity {velocity} is outside 1..{MAX_VELOCITY}")


def check_delay(song: Song, delay: int) -> None:
    highest = song.ticks_per_line - 1
    if not 0 <= _whole(delay, "delay") <= highest:
        raise ValueError(f"delay {delay} is outside 0..{highest} (ticks per line - 1)")


def tidy_row(pattern: Pattern, track: int, row: int) -> None:
    """Drop empty cells at the ends of a row's columns, the row once empty, the track's dict once
    it holds no rows: the same content always has the same shape, so an edit that changed
    nothing compares equal to the state before it (and records no undo step)."""
    rows = pattern.data.get(track)
    if rows is None or row not in rows:
        return
    track_row = rows[row]
    for index, cell in enumerate(track_row.notes):
        if cell is not None and cell.is_empty():
            track_row.notes[index] = None
    while track_row.notes and track_row.notes[-1] is None:
        track_row.notes.pop()
    while track_row.effects and track_row.effects[-1] is None:
        track_row.effects.pop()
    if track_row.is_empty():
        del rows[row]
        if not rows:
            del pattern.data[track]


# --- helpers -----------------------------------------------------------------------------------


def _note_cell(song: Song, pattern: int, track: int, row: int, column: int) -> NoteCell | None:
    track_row = song.patterns[pattern].get(track, row)
    if track_row is None or column >= len(track_row.notes):
        return None
    return track_row.notes[column]


def _effect_cell(song: Song, pattern: int, track: int, row: int, column: int) -> EffectCell | None:
    track_row = song.patterns[pattern].get(track, row)
    if track_row is None or column >= len(track_row.effects):
        return None
    return track_row.effects[column]


def _grow_columns(song: Song, track: int, *, notes: int = 0, effects: int = 0) -> None:
    target = song.tracks[track]
    target.note_columns = max(target.note_columns, notes)
    target.effect_columns = max(target.effect_columns, effects)


def _effect_value(command: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"effect value must be a number, not {value!r}")
    try:
        return check_effect(command, value)
    except RuleError as exc:
        raise ValueError(str(exc)) from None


def _neutral_value(song: Song, command: str) -> float:
    """What a new effect of this command holds before the musician types a value."""
    neutral: dict[str, float] = {"B": 0x2000, "T": song.bpm, "L": song.ticks_per_line}
    return neutral.get(command, HEX_EFFECTS.get(command, (0, 0))[0])


def _with_command(song: Song, old: EffectCell | None, command: str) -> EffectCell:
    if old is None:
        return EffectCell(command, _neutral_value(song, command))
    try:
        value = check_effect(command, old.value if command == "T" else int(old.value))
    except (RuleError, ValueError, OverflowError):
        value = _neutral_value(song, command)
    return EffectCell(command, value, old.delay)


def _block_notes(song: Song, block: Block) -> list[NoteCell]:
    pattern = song.patterns[block.pattern]
    cells = []
    for track in block.tracks():
        for row in block.rows():
            track_row = pattern.get(track, row)
            if track_row is not None:
                cells.extend(cell for cell in track_row.notes if cell is not None)
    return cells


def _check_block(song: Song, block: Block) -> None:
    check_row(song, block.pattern, block.row0)
    check_row(song, block.pattern, block.row1)
    check_track(song, block.track0)
    check_track(song, block.track1)


def _check_length(length: int) -> None:
    if isinstance(length, bool) or not isinstance(length, int):
        raise ValueError(f"pattern length must be a whole number, not {length!r}")
    if not MIN_PATTERN_ROWS <= length <= MAX_PATTERN_ROWS:
        raise ValueError(
            f"pattern length {length} is outside {MIN_PATTERN_ROWS}..{MAX_PATTERN_ROWS}"
        )


def _check_order_index(song: Song, index: int) -> None:
    if not 0 <= index < len(song.order):
        raise ValueError(f"no order position {index} (the order list has {len(song.order)})")


def _check_track_name(name: object) -> str:
    try:
        text = check_string(name, "track name")
    except RuleError as exc:
        raise ValueError(str(exc)) from None
    if not text.strip():
        raise ValueError("a track name cannot be empty")
    return text


def _free_id(song: Song) -> int:
    pid = 0
    while pid in song.patterns:
        pid += 1
    return pid


def _clamp(value: float, lowest: float, highest: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{what} must be a number, not {value!r}")
    return float(max(lowest, min(highest, value)))


__all__ = [
    "CUT",
    "OFF",
    "Block",
    "Clip",
    "EffectField",
    "NoteField",
    "clear_block",
    "clear_effect",
    "clear_note",
    "clone_pattern",
    "copy_block",
    "delete_pattern",
    "new_pattern",
    "order_delete",
    "order_insert",
    "order_set",
    "paste",
    "ramp_velocity",
    "resize_pattern",
    "set_lines_per_beat",
    "set_swing",
    "set_tempo",
    "set_track",
    "transpose_block",
    "write_effect_field",
    "write_note",
    "write_note_field",
]
