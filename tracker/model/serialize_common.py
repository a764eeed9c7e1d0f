"""What the song file reader and writer share: limits, value ranges and token spelling.

Both sides check values with the same functions, so whatever `dumps` writes, `loads` reads back.
"""

from __future__ import annotations

import operator
import re

from tracker.model.song import MAX_BPM, MAX_TICKS_PER_LINE, MIN_BPM, EffectCell, Track, TrackKind

MAGIC = "tracker-song"
VERSION = 1

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 100_000
MAX_STRING_CHARS = 1000
MAX_TRACKS = 256
MAX_NOTE_COLUMNS = 16
MAX_EFFECT_COLUMNS = 8
MAX_PATTERNS = 4096  # 16-beat patterns: over nine hours at 120 BPM (MIDI import uses it too)
MAX_PATTERN_ID = 9999
MAX_ROWS = 4096
MAX_ORDER = 10_000
MAX_INSTRUMENT = 255
MAX_VELOCITY = 127
MAX_LINES_PER_BEAT = 64
MAX_BEATS_PER_BAR = 64
BEAT_UNITS = (1, 2, 4, 8, 16, 32, 64)

# Numeric fields: file key → (model attribute, is a float, lowest, highest).
HEADER_NUMBERS: dict[str, tuple[str, bool, float, float]] = {
    "bpm": ("bpm", True, MIN_BPM, MAX_BPM),
    "lines-per-beat": ("lines_per_beat", False, 1, MAX_LINES_PER_BEAT),
    "ticks-per-line": ("ticks_per_line", False, 1, MAX_TICKS_PER_LINE),
    "swing": ("swing", True, 50.0, 75.0),
}
TRACK_NUMBERS: dict[str, tuple[str, bool, float, float]] = {
    "channel": ("channel", False, 1, 16),
    "volume": ("volume_db", True, -120.0, 24.0),
    "pan": ("pan", True, -1.0, 1.0),
}
TRACK_KINDS = {kind.value: kind for kind in TrackKind}
# Track fields that may be `none`: the highest value each takes (program 0-127, bank 14 bits).
OPTIONAL_NUMBERS = {"program": 127, "bank": 16383}

# Effect commands written as a letter and four hex digits: (lowest, highest) value.
HEX_EFFECTS = {
    "C": (0, 0xFFFF),
    "B": (0, 0x3FFF),
    "P": (0, 0x7F),
    "A": (0, 0x7F),
    "R": (1, 0xFFFF),
    "L": (1, 0xFFFF),
}

# No song file holds C0/C1 controls (tab only separates tokens), the Unicode line separators some
# editors break lines at, or lone surrogates, which UTF-8 cannot encode.
FORBIDDEN_IN_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
FORBIDDEN_IN_STRING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
PRESET_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
MAX_NUMBER_CHARS = 40


def min_row_chars(tracks: list[Track]) -> int:
    """A lower bound on the characters one pattern row of these tracks takes written out.

    Every row is written, so a few short lines (a long pattern, many wide tracks) could make a
    song that loads at once but saves as gigabytes; the reader and MIDI import both refuse one
    whose rows come to more than MAX_FILE_BYTES by this count.
    """
    row_chars = 6 + 3 * max(len(tracks) - 1, 0)
    for track in tracks:
        columns = track.note_columns + track.effect_columns
        row_chars += 12 * track.note_columns + 8 * track.effect_columns + columns - 1
    return row_chars


class RuleError(ValueError):
    """A value breaks a rule of the format. The reader adds the file position to the message."""


def check_int(value: object, lowest: int, highest: int, what: str) -> int:
    """Return `value` as an int, or raise RuleError if it is not a whole number in range."""
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise RuleError(f"{what} must be a whole number, not {value!r}") from None
    if not lowest <= number <= highest:
        raise RuleError(f"{what} {number} is outside {lowest}..{highest}")
    return number


def check_hex(value: object, lowest: int, highest: int, what: str, digits: int = 2) -> int:
    """Like check_int, but the message spells numbers in hex as the file does."""
    try:
        return check_int(value, lowest, highest, what)
    except RuleError:
        if not isinstance(value, int):
            raise
        lo, hi = f"{lowest:0{digits}X}", f"{highest:0{digits}X}"
        raise RuleError(f"{what} {value:0{digits}X} is outside {lo}..{hi} (hex)") from None


def check_float(value: object, lowest: float, highest: float, what: str) -> float:
    """Return `value` as a float, or raise RuleError if it is not a number in range (or NaN)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise RuleError(f"{what} must be a number, not {value!r}") from None
    if not lowest <= number <= highest:
        span = f"{format_number(lowest)}..{format_number(highest)}"
        raise RuleError(f"{what} {format_number(number)} is outside {span}")
    return number


def check_number(value: object, spec: tuple[str, bool, float, float], what: str) -> float:
    """Check a field of HEADER_NUMBERS or TRACK_NUMBERS."""
    _, is_float, lowest, highest = spec
    if is_float:
        return check_float(value, lowest, highest, what)
    return check_int(value, int(lowest), int(highest), what)


def format_number(value: float) -> str:
    """Spell a number exactly and briefly: repr of the float without a trailing `.0`."""
    text = repr(float(value))
    if text == "-0.0":
        return "0"
    return text[:-2] if text.endswith(".0") else text


def parse_number(text: str) -> float | None:
    """Parse a decimal number as `format_number` writes it (an exponent allowed); None if not."""
    if len(text) > MAX_NUMBER_CHARS or not NUMBER.fullmatch(text):
        return None
    return float(text)


def check_string(text: object, what: str) -> str:
    """Return `text` if it can be a quoted string of the file, else raise RuleError."""
    if not isinstance(text, str):
        raise RuleError(f"{what} must be a string, not {text!r}")
    if len(text) > MAX_STRING_CHARS:
        raise RuleError(f"{what} is longer than {MAX_STRING_CHARS} characters")
    bad = FORBIDDEN_IN_STRING.search(text)
    if bad:
        raise RuleError(f"{what} holds {describe_char(bad.group())}")
    return text


def quote(text: object, what: str) -> str:
    """Spell a string in double quotes, escaping `"` and `\\`."""
    body = check_string(text, what).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{body}"'


def check_effect(command: object, value: object) -> float:
    """Check an effect's value for its command; return it as an int (a float for T)."""
    if command == "T":
        return check_float(value, MIN_BPM, MAX_BPM, "tempo")
    if not isinstance(command, str) or command not in HEX_EFFECTS:
        raise RuleError(f"unknown effect command {command!r}")
    lowest, highest = HEX_EFFECTS[command]
    number = check_hex(value, lowest, highest, f"effect {command} value", digits=4)
    if command == "C":
        controller, level = divmod(number, 256)
        check_hex(controller, 0, 0x7F, "controller number")
        check_hex(level, 0, 0x7F, "controller value")
    return number


def effect_token(cell: EffectCell) -> str:
    """Spell an effect's command and value: `C0740`, `B2000`, `T92.5`."""
    value = check_effect(cell.command, cell.value)
    if cell.command == "T":
        return "T" + format_number(value)
    return f"{cell.command}{int(value):04X}"


def describe_char(char: str) -> str:
    """Name a forbidden character for a message: `control character U+0007`."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "lone surrogate"
    elif code in (0x2028, 0x2029):
        kind = "line separator"
    else:
        kind = "control character"
    return f"{kind} U+{code:04X}"


def plural(count: int, noun: str) -> str:
    """`1 track`, `2 tracks`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def show(text: str) -> str:
    """Quote user text for a one-line message, cut short if long."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
