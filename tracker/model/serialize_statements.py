"""Reading the statements of a song file: header keys, instruments, tracks and their fields,
pattern headings. Each function takes the SongReader whose song it fills in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker.model.serialize_common import (
    BEAT_UNITS,
    HEADER_NUMBERS,
    MAX_BEATS_PER_BAR,
    MAX_EFFECT_COLUMNS,
    MAX_FILE_BYTES,
    MAX_INSTRUMENT,
    MAX_NOTE_COLUMNS,
    MAX_ORDER,
    MAX_PATTERN_ID,
    MAX_PATTERNS,
    MAX_ROWS,
    MAX_TRACKS,
    OPTIONAL_NUMBERS,
    PRESET_NAME,
    TRACK_KINDS,
    TRACK_NUMBERS,
    check_int,
    check_number,
    min_row_chars,
    parse_number,
    show,
)
from tracker.model.serialize_lex import Token
from tracker.model.serialize_mixing import (
    REPEATABLE,
    read_clip,
    read_frozen,
    read_master_field,
    read_output,
    read_send,
    read_track_effect,
)
from tracker.model.serialize_rows import PatternBlock
from tracker.model.song import Pattern, Track

if TYPE_CHECKING:
    from tracker.model.serialize_read import SongReader

_TIME_SIGNATURE = re.compile(r"([0-9]{1,3})/([0-9]{1,3})")
_USAGE = {
    "title": 'title "TEXT"',
    "time-signature": "time-signature BEATS/UNIT",
    "loop": "loop FIRST LAST",
    "instrument": "instrument NUMBER PRESET",
    "track": 'track "NAME"',
    "pattern": 'pattern ID "NAME" LENGTH',
    "kind": "kind instrument|midi|audio|group|return",
    "port": 'port "NAME"',
    "program": "program NUMBER|none",
    "bank": "bank NUMBER|none",
    "mute": "mute yes|no",
    "solo": "solo yes|no",
    "columns": "columns NOTE_COLUMNS EFFECT_COLUMNS",
}
NumberTable = dict[str, tuple[str, bool, float, float]]


@dataclass(slots=True)
class TrackBlock:
    """The track whose indented fields are being read."""

    track: Track
    seen: set[str] = field(default_factory=set)


@dataclass(slots=True)
class MasterBlock:
    """The master's indented fields are being read."""

    seen: set[str] = field(default_factory=set)


def read_statement(reader: SongReader, tokens: list[Token]) -> None:
    """Read an unindented line (after the first)."""
    key = tokens[0]
    if key.quoted:
        reader.fail("expected a keyword, found a string", key.column)
    reader.block = None
    if key.text in _HEADER_PARSERS or key.text in HEADER_NUMBERS:
        _header_key(reader, tokens)
        return
    handler = _BLOCK_PARSERS.get(key.text)
    if handler is None:
        reader.fail(f"unknown keyword {show(key.text)}", key.column)
    reader.in_header = False
    handler(reader, tokens)


def read_track_field(reader: SongReader, block: TrackBlock, tokens: list[Token]) -> None:
    """Read an indented line under a track."""
    key = tokens[0]
    if key.quoted or key.text not in TRACK_KEYS:
        known = ", ".join(TRACK_KEYS)
        reader.fail(f"unknown track field {show(key.text)} (fields: {known})", key.column)
    if key.text in block.seen and key.text not in REPEATABLE:
        reader.fail(f"'{key.text}' is given twice for this track", key.column)
    block.seen.add(key.text)
    if key.text in TRACK_NUMBERS:
        _number_field(reader, block.track, tokens, TRACK_NUMBERS)
    else:
        _TRACK_PARSERS[key.text](reader, block.track, tokens)


def read_master(reader: SongReader, block: MasterBlock, tokens: list[Token]) -> None:
    """Read an indented line under `master`."""
    read_master_field(reader, reader.song.master, block.seen, tokens)


def _header_key(reader: SongReader, tokens: list[Token]) -> None:
    key = tokens[0]
    if not reader.in_header:
        message = f"'{key.text}' belongs in the header, before instruments, tracks and patterns"
        reader.fail(message, key.column)
    if key.text in reader.seen_keys:
        reader.fail(f"'{key.text}' is given twice", key.column)
    reader.seen_keys.add(key.text)
    if key.text in HEADER_NUMBERS:
        _number_field(reader, reader.song, tokens, HEADER_NUMBERS)
    else:
        _HEADER_PARSERS[key.text](reader, tokens)


def _number_field(
    reader: SongReader, target: object, tokens: list[Token], table: NumberTable
) -> None:
    key = tokens[0].text
    attribute, is_float, _, _ = spec = table[key]
    reader.expect(tokens, 2, f"{key} {'NUMBER' if is_float else 'WHOLE-NUMBER'}")
    token = tokens[1]
    value: float | None
    if is_float:
        value = parse_number(reader.word(token, key))
        if value is None:
            reader.fail(f"{key} must be a number, not {show(token.text)}", token.column)
    else:
        value = reader.whole(token, -(10**9), 10**9, key)
    with reader.at(token.column):
        setattr(target, attribute, check_number(value, spec, key))


# --- header --------------------------------------------------------------------------------


def _title(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, _USAGE["title"])
    reader.song.title = reader.string(tokens[1], "title")


def _time_signature(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, _USAGE["time-signature"])
    token = tokens[1]
    match = _TIME_SIGNATURE.fullmatch(reader.word(token, "time signature"))
    if match is None:
        reader.fail(f"time signature must look like 4/4, not {show(token.text)}", token.column)
    beats, unit = int(match.group(1)), int(match.group(2))
    with reader.at(token.column):
        check_int(beats, 1, MAX_BEATS_PER_BAR, "time signature beats")
    if unit not in BEAT_UNITS:
        units = ", ".join(map(str, BEAT_UNITS))
        column = token.column + match.start(2)
        reader.fail(f"time signature unit {unit} is not one of {units}", column)
    reader.song.time_signature = (beats, unit)


def _order(reader: SongReader, tokens: list[Token]) -> None:
    if len(tokens) - 1 > MAX_ORDER:
        reader.fail(f"more than {MAX_ORDER} order entries", tokens[MAX_ORDER + 1].column)
    for token in tokens[1:]:
        pattern_id = reader.whole(token, 0, MAX_PATTERN_ID, "pattern id")
        reader.song.order.append(pattern_id)
        reader.order_refs.append((pattern_id, reader.line_no, token.column))


def _loop(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 3, _USAGE["loop"])
    first = reader.whole(tokens[1], 0, MAX_ORDER - 1, "loop start")
    last = reader.whole(tokens[2], 0, MAX_ORDER - 1, "loop end")
    if first > last:
        reader.fail(f"loop start {first} is after loop end {last}", tokens[1].column)
    reader.song.loop = (first, last)
    reader.loop_at = (reader.line_no, tokens[2].column)


# --- blocks --------------------------------------------------------------------------------


def _instrument(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 3, _USAGE["instrument"])
    number = reader.whole(tokens[1], 1, MAX_INSTRUMENT, "instrument number")
    if number in reader.song.instruments:
        reader.fail(f"instrument {number} is declared twice", tokens[1].column)
    name = reader.word(tokens[2], "preset name")
    if not PRESET_NAME.fullmatch(name):
        message = f"preset name {show(name)} may hold only letters, digits, '_', '.', '-'"
        reader.fail(message, tokens[2].column)
    reader.song.instruments[number] = name


def _track(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, _USAGE["track"])
    if reader.song.patterns:
        reader.fail("tracks must come before the first pattern", tokens[0].column)
    if len(reader.song.tracks) == MAX_TRACKS:
        reader.fail(f"more than {MAX_TRACKS} tracks", tokens[0].column)
    track = Track(reader.string(tokens[1], "track name"))
    reader.song.tracks.append(track)
    reader.block = TrackBlock(track)


def _master(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 1, "master")
    if reader.song.patterns:
        reader.fail("the master must come before the first pattern", tokens[0].column)
    if reader.master_seen:
        reader.fail("'master' is given twice", tokens[0].column)
    reader.master_seen = True
    reader.block = MasterBlock()


def _pattern(reader: SongReader, tokens: list[Token]) -> None:
    reader.expect(tokens, 4, _USAGE["pattern"])
    if len(reader.song.patterns) == MAX_PATTERNS:
        reader.fail(f"more than {MAX_PATTERNS} patterns", tokens[0].column)
    pattern_id = reader.whole(tokens[1], 0, MAX_PATTERN_ID, "pattern id")
    if pattern_id in reader.song.patterns:
        first = reader.pattern_lines[pattern_id]
        message = f"pattern {pattern_id} is defined twice (first on line {first})"
        reader.fail(message, tokens[1].column)
    name = reader.string(tokens[2], "pattern name")
    length = reader.whole(tokens[3], 1, MAX_ROWS, "pattern length")
    _count_pattern_size(reader, length, tokens[3].column)
    pattern = Pattern(length, name)
    reader.song.patterns[pattern_id] = pattern
    reader.pattern_lines[pattern_id] = reader.line_no
    reader.block = PatternBlock(pattern_id, pattern)


def _count_pattern_size(reader: SongReader, length: int, column: int) -> None:
    reader.pattern_chars += length * min_row_chars(reader.song.tracks)
    if reader.pattern_chars > MAX_FILE_BYTES:
        reader.fail("the patterns would take more than 64 MiB written out", column)


# --- track fields --------------------------------------------------------------------------


def _kind(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, _USAGE["kind"])
    kind = TRACK_KINDS.get(reader.word(tokens[1], "kind"))
    if kind is None:
        reader.fail(f"unknown track kind {show(tokens[1].text)}", tokens[1].column)
    track.kind = kind


def _track_instrument(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, "instrument NUMBER|none")
    if tokens[1].text == "none" and not tokens[1].quoted:
        track.instrument = None
        return
    number = reader.whole(tokens[1], 1, MAX_INSTRUMENT, "instrument")
    reader.use_instrument(number, tokens[1].column, str(number))
    track.instrument = number


def _port(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, _USAGE["port"])
    track.port = reader.string(tokens[1], "port")


def _optional_number(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    key = tokens[0].text
    reader.expect(tokens, 2, _USAGE[key])
    if tokens[1].text == "none" and not tokens[1].quoted:
        setattr(track, key, None)
        return
    setattr(track, key, reader.whole(tokens[1], 0, OPTIONAL_NUMBERS[key], key))


def _flag(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    key = tokens[0].text
    reader.expect(tokens, 2, _USAGE[key])
    value = reader.word(tokens[1], key)
    if value not in ("yes", "no"):
        reader.fail(f"{key} must be yes or no, not {show(value)}", tokens[1].column)
    setattr(track, key, value == "yes")


def _columns(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 3, _USAGE["columns"])
    notes = reader.whole(tokens[1], 0, MAX_NOTE_COLUMNS, "note columns")
    effects = reader.whole(tokens[2], 0, MAX_EFFECT_COLUMNS, "effect columns")
    if notes + effects == 0:
        reader.fail("a track needs at least one column", tokens[1].column)
    track.note_columns, track.effect_columns = notes, effects


Statement = Callable[["SongReader", list[Token]], None]
TrackField = Callable[["SongReader", Track, list[Token]], None]
_HEADER_PARSERS: dict[str, Statement] = {
    "title": _title,
    "time-signature": _time_signature,
    "order": _order,
    "loop": _loop,
}
_BLOCK_PARSERS: dict[str, Statement] = {
    "instrument": _instrument,
    "track": _track,
    "master": _master,
    "pattern": _pattern,
}
_TRACK_PARSERS: dict[str, TrackField] = {
    "kind": _kind,
    "instrument": _track_instrument,
    "port": _port,
    "program": _optional_number,
    "bank": _optional_number,
    "mute": _flag,
    "solo": _flag,
    "columns": _columns,
    "output": read_output,
    "send": read_send,
    "effect": read_track_effect,
    "clip": read_clip,
    "frozen": read_frozen,
}
TRACK_KEYS = (
    "kind",
    "instrument",
    "port",
    "program",
    "bank",
    *TRACK_NUMBERS,
    "mute",
    "solo",
    "columns",
    "output",
    "send",
    "effect",
    "clip",
    "frozen",
)
