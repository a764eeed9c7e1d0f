"""Song → the canonical text of a song file (docs/FORMAT.md).

The writer checks every value with the reader's rules and raises ValueError (a RuleError) for a
song the reader would reject, so a file it writes always loads again.
"""

from __future__ import annotations

from tracker.model.notes import note_name
from tracker.model.routing import RETURN_OUTPUT, RETURN_SEND, group_cycles, reference_problem
from tracker.model.serialize_common import (
    BEAT_UNITS,
    HEADER_NUMBERS,
    MAGIC,
    MAX_BEATS_PER_BAR,
    MAX_EFFECT_COLUMNS,
    MAX_FILE_BYTES,
    MAX_INSTRUMENT,
    MAX_LINE_CHARS,
    MAX_NOTE_COLUMNS,
    MAX_ORDER,
    MAX_PATTERN_ID,
    MAX_PATTERNS,
    MAX_ROWS,
    MAX_TRACKS,
    MAX_VELOCITY,
    OPTIONAL_NUMBERS,
    PRESET_NAME,
    TRACK_NUMBERS,
    VERSION,
    RuleError,
    check_hex,
    check_int,
    check_number,
    effect_token,
    format_number,
    quote,
)
from tracker.model.serialize_mixing import master_block, track_mixing_lines
from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Song, Track, TrackKind, TrackRow

# The narrowest each field of a note column (note, instrument, velocity, delay) and of an effect
# column (effect, delay) is written, so empty columns still line up.
NOTE_WIDTHS = (3, 2, 2, 2)
EFFECT_WIDTHS = (5, 2)


def dumps(song: Song) -> str:
    """Return the canonical text of `song`.

    Raises:
        ValueError: the song breaks a rule of the format (the message says which).
    """
    _check_song(song)
    blocks = [_header(song)]
    if song.instruments:
        blocks.append(_instruments(song))
    blocks.extend(_track_block(track, song) for track in song.tracks)
    master = master_block(song.master)
    if master is not None:
        blocks.append(master)
    blocks.extend(_pattern_block(pattern_id, song) for pattern_id in sorted(song.patterns))
    text = "\n\n".join(blocks) + "\n"
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        # What the reader would refuse must not be written: it could not be opened again.
        raise RuleError(f"the song file would be {size >> 20} MiB; the format holds 64 MiB")
    return text


def _check_song(song: Song) -> None:
    if len(song.tracks) > MAX_TRACKS:
        raise RuleError(f"{len(song.tracks)} tracks; the format holds at most {MAX_TRACKS}")
    if len(song.patterns) > MAX_PATTERNS:
        raise RuleError(f"{len(song.patterns)} patterns; the format holds at most {MAX_PATTERNS}")
    if len(song.order) > MAX_ORDER:
        raise RuleError(f"{len(song.order)} order entries; the format holds at most {MAX_ORDER}")
    for position, pattern_id in enumerate(song.order):
        if pattern_id not in song.patterns:
            raise RuleError(f"order position {position} names missing pattern {pattern_id!r}")
    _check_names(song)
    if song.loop is not None:
        first, last = song.loop
        if not song.order:
            raise RuleError("the song has a loop but an empty order list")
        check_int(last, 0, len(song.order) - 1, "loop end")
        check_int(first, 0, last, "loop start")


def _check_names(song: Song) -> None:
    for track in song.tracks:
        problems = [
            reference_problem(song, track.output, TrackKind.GROUP)
            if track.output is not None
            else None,
            *(reference_problem(song, name, TrackKind.RETURN) for name in track.sends),
        ]
        if track.kind is TrackKind.RETURN and track.output is not None:
            problems.append(RETURN_OUTPUT)
        if track.kind is TrackKind.RETURN and track.sends:
            problems.append(RETURN_SEND)
        for problem in problems:
            if problem is not None:
                raise RuleError(f"track {track.name!r}: {problem}")
    for message in group_cycles(song):
        raise RuleError(message)


def _header(song: Song) -> str:
    lines = [f"{MAGIC} {VERSION}", f"title {quote(song.title, 'title')}"]
    for key, spec in HEADER_NUMBERS.items():
        value = check_number(getattr(song, spec[0]), spec, key)
        lines.append(f"{key} {format_number(value) if spec[1] else value}")
    beats, unit = song.time_signature
    beats = check_int(beats, 1, MAX_BEATS_PER_BAR, "time signature beats")
    if unit not in BEAT_UNITS:
        raise RuleError(f"time signature unit {unit!r} is not one of {BEAT_UNITS}")
    lines.append(f"time-signature {beats}/{unit}")
    ids = (str(check_int(p, 0, MAX_PATTERN_ID, "pattern id")) for p in song.order)
    lines.append(" ".join(["order", *ids]))
    if song.loop is not None:
        lines.append(f"loop {song.loop[0]} {song.loop[1]}")
    return "\n".join(lines)


def _instruments(song: Song) -> str:
    lines = []
    for number in sorted(song.instruments):
        check_int(number, 1, MAX_INSTRUMENT, "instrument number")
        name = song.instruments[number]
        if not isinstance(name, str) or not PRESET_NAME.fullmatch(name):
            raise RuleError(f"instrument {number}: preset name {name!r} is not [A-Za-z0-9_.-]+")
        lines.append(f"instrument {number} {name}")
    return "\n".join(lines)


def _track_block(track: Track, song: Song) -> str:
    if not isinstance(track.kind, TrackKind):
        raise RuleError(f"track {track.name!r}: kind {track.kind!r} is not a TrackKind")
    instrument = "none"
    if track.instrument is not None:
        instrument = str(_declared(track.instrument, song, decimal=True))
    lines = [
        f"track {quote(track.name, 'track name')}",
        f"  kind {track.kind.value}",
        f"  instrument {instrument}",
    ]
    if track.port is not None:
        lines.append(f"  port {quote(track.port, 'port')}")
    for key, highest in OPTIONAL_NUMBERS.items():
        value = getattr(track, key)
        if value is not None:
            lines.append(f"  {key} {check_int(value, 0, highest, key)}")
    for key, spec in TRACK_NUMBERS.items():
        value = check_number(getattr(track, spec[0]), spec, key)
        lines.append(f"  {key} {format_number(value) if spec[1] else value}")
    lines.append(f"  mute {'yes' if track.mute else 'no'}")
    lines.append(f"  solo {'yes' if track.solo else 'no'}")
    notes, effects = _columns(track)
    lines.append(f"  columns {notes} {effects}")
    lines += track_mixing_lines(track)
    return "\n".join(lines)


def _columns(track: Track) -> tuple[int, int]:
    notes = check_int(track.note_columns, 0, MAX_NOTE_COLUMNS, "note columns")
    effects = check_int(track.effect_columns, 0, MAX_EFFECT_COLUMNS, "effect columns")
    if notes + effects == 0:
        raise RuleError(f"track {track.name!r} has no columns")
    return notes, effects


def _declared(number: object, song: Song, *, decimal: bool = False) -> int:
    if decimal:
        value = check_int(number, 1, MAX_INSTRUMENT, "instrument")
    else:
        value = check_hex(number, 1, MAX_INSTRUMENT, "instrument")
    if value not in song.instruments:
        raise RuleError(f"instrument {value} is not declared")
    return value


def _pattern_block(pattern_id: int, song: Song) -> str:
    pattern = song.patterns[pattern_id]
    check_int(pattern_id, 0, MAX_PATTERN_ID, "pattern id")
    length = check_int(pattern.length, 1, MAX_ROWS, f"pattern {pattern_id} length")
    _check_stray_rows(pattern_id, song)
    grid = [_row_fields(pattern_id, row, song) for row in range(length)]
    widths = _field_widths(grid, song)
    digits = max(3, len(str(length - 1)))
    head = f"pattern {pattern_id} {quote(pattern.name, 'pattern name')} {length}"
    rows = (_row_line(row, digits, fields, widths) for row, fields in enumerate(grid))
    return "\n".join([head, *rows])


def _check_stray_rows(pattern_id: int, song: Song) -> None:
    # Cells the file cannot place would be lost without a word; empty ones are harmless.
    pattern = song.patterns[pattern_id]
    for track, rows in pattern.data.items():
        for row, track_row in rows.items():
            placed = isinstance(track, int) and 0 <= track < len(song.tracks)
            placed = placed and isinstance(row, int) and 0 <= row < pattern.length
            if not placed and not track_row.is_empty():
                raise RuleError(f"pattern {pattern_id} has data at track {track!r} row {row!r}")


def _row_fields(pattern_id: int, row: int, song: Song) -> list[list[str]]:
    """Each track's field texts on one row; "" stands for an empty field."""
    pattern = song.patterns[pattern_id]
    fields = []
    for index, track in enumerate(song.tracks):
        try:
            fields.append(_track_fields(pattern.get(index, row), track, song))
        except RuleError as exc:
            where = f"pattern {pattern_id} row {row} track {index + 1} ({track.name!r})"
            raise RuleError(f"{where}: {exc}") from None
    return fields


def _track_fields(track_row: TrackRow | None, track: Track, song: Song) -> list[str]:
    note_count, effect_count = _columns(track)
    notes: list[NoteCell | None] = track_row.notes if track_row else []
    effects: list[EffectCell | None] = track_row.effects if track_row else []
    if any(cell is not None and not cell.is_empty() for cell in notes[note_count:]):
        raise RuleError(f"a note lies beyond the track's {note_count} note columns")
    if any(cell is not None for cell in effects[effect_count:]):
        raise RuleError(f"an effect lies beyond the track's {effect_count} effect columns")
    fields: list[str] = []
    for column in range(note_count):
        cell = notes[column] if column < len(notes) else None
        fields.extend(_note_fields(cell, song))
    for column in range(effect_count):
        effect = effects[column] if column < len(effects) else None
        fields.extend(_effect_fields(effect, song))
    return fields


def _note_fields(cell: NoteCell | None, song: Song) -> list[str]:
    if cell is None:
        return ["", "", "", ""]
    instrument = velocity = delay = ""
    if cell.instrument is not None:
        instrument = f"{_declared(cell.instrument, song):02X}"
    if cell.velocity is not None:
        velocity = f"{check_hex(cell.velocity, 1, MAX_VELOCITY, 'velocity'):02X}"
    if cell.delay is not None:
        delay = _delay(cell.delay, song)
    return [_note_text(cell.note), instrument, velocity, delay]


def _note_text(note: int | None) -> str:
    if note is None:
        return ""
    if note == OFF:
        return "OFF"
    if note == CUT:
        return "^^^"
    return note_name(check_int(note, 0, 127, "note"))


def _delay(delay: object, song: Song) -> str:
    return f"{check_hex(delay, 0, song.ticks_per_line - 1, 'delay'):02X}"


def _effect_fields(cell: EffectCell | None, song: Song) -> list[str]:
    if cell is None:
        return ["", ""]
    delay = "" if cell.delay is None else _delay(cell.delay, song)
    return [effect_token(cell), delay]


def _field_widths(grid: list[list[list[str]]], song: Song) -> list[list[int]]:
    """The width of each field of each track: its widest text in the pattern, at least the
    field's minimum."""
    widths = []
    for index, track in enumerate(song.tracks):
        notes, effects = _columns(track)
        track_widths = list(NOTE_WIDTHS * notes + EFFECT_WIDTHS * effects)
        for row in grid:
            for position, text in enumerate(row[index]):
                if len(text) > track_widths[position]:
                    track_widths[position] = len(text)
        widths.append(track_widths)
    return widths


def _row_line(row: int, digits: int, fields: list[list[str]], widths: list[list[int]]) -> str:
    segments = [
        " ".join(
            text.ljust(width) if text else "." * width
            for text, width in zip(texts, sizes, strict=True)
        )
        for texts, sizes in zip(fields, widths, strict=True)
    ]
    line = f"  {row:0{digits}d}"
    if segments:
        line += " " + " | ".join(segments)
    if len(line) > MAX_LINE_CHARS:
        raise RuleError(f"row {row} would be longer than {MAX_LINE_CHARS} characters")
    return line
