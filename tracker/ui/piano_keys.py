"""The QWERTY piano and the digit entry of the pattern grid, as pure functions.

Trackers since FastTracker 2 play two octaves on the letter rows: `z s x d c v g b h n j m` are
C … B of the current octave, `q 2 w 3 e r 5 t 6 y 7 u` the octave above, and `i 9 o 0 p`
continue it to E. Numbers are typed into hex fields by shifting: each new digit becomes the low
nibble, the old low nibble moves up, so `6` `4` gives 64 without moving to a second digit.
"""

from __future__ import annotations

from tracker.model.notes import note_name
from tracker.model.song import EFFECTS

LOWER_ROW = "zsxdcvgbhnjm"  # C .. B of the current octave
UPPER_ROW = "q2w3er5t6y7u"  # C .. B an octave up
TOP_ROW = "i9o0p"  # C .. E two octaves up
MIN_OCTAVE = 0
MAX_OCTAVE = 8

PIANO_KEYS: dict[str, int] = {
    **{key: step for step, key in enumerate(LOWER_ROW)},
    **{key: 12 + step for step, key in enumerate(UPPER_ROW)},
    **{key: 24 + step for step, key in enumerate(TOP_ROW)},
}
"""Key → semitones above C of the current octave."""

HEX_KEYS = "0123456789abcdef"
EFFECT_KEYS: dict[str, str] = {letter.lower(): letter for letter in EFFECTS}
"""Key → effect command letter (c b p r l t)."""

NOTE_OFF_KEY = "1"


def piano_pitch(key: str, octave: int) -> int | None:
    """The MIDI pitch a piano key plays at `octave` (C-4 = 60), or None for another key or a
    pitch past 0..127."""
    step = PIANO_KEYS.get(key)
    if step is None:
        return None
    pitch = (octave + 1) * 12 + step
    return pitch if 0 <= pitch <= 127 else None


def hex_digit(key: str) -> int | None:
    """The value of a hex digit key (either case), or None."""
    index = HEX_KEYS.find(key.lower()) if len(key) == 1 else -1
    return None if index < 0 else index


def shift_in_hex(old: int | None, digit: int, digits: int = 2) -> int:
    """Type `digit` into a hex field of `digits` digits holding `old` (None: empty).

    The new digit becomes the low nibble and the others move up one place; the top one falls
    off. On an empty field the first digit just sets it.
    """
    if old is None:
        return digit
    return ((old << 4) | digit) & ((1 << (4 * digits)) - 1)


def shift_in_decimal(old: int | None, digit: int, digits: int = 3) -> int:
    """The decimal twin of `shift_in_hex`, for the tempo effect (T + BPM in decimal)."""
    if old is None:
        return digit
    return (old * 10 + digit) % 10**digits


def clamp(value: int, lowest: int, highest: int) -> int:
    return max(lowest, min(highest, value))


def clamp_effect_value(command: str, value: int) -> int:
    """Bring a typed effect value into its command's range (see docs/FORMAT.md).

    A control change holds two 7-bit bytes (controller, level), so each byte is clamped on its
    own: typing `C` `7` `F` `F` `F` gives C7F7F, not a value the file would refuse.
    """
    if command == "C":
        controller, level = divmod(value & 0xFFFF, 256)
        return (min(controller, 0x7F) << 8) | min(level, 0x7F)
    if command == "B":
        return clamp(value, 0, 0x3FFF)
    if command in ("P", "A"):
        return clamp(value, 0, 0x7F)
    if command in ("R", "L"):
        return clamp(value, 1, 0xFFFF)
    if command == "T":
        return clamp(value, 1, 999)
    return value


def key_roles(key: str) -> str:
    """What a typed character does in the grid, for the key's help text:
    `note E · hex C · effect C`."""
    roles = []
    step = PIANO_KEYS.get(key)
    if step is not None:
        octave, name = divmod(step, 12)
        above = f" +{octave} oct" if octave else ""
        roles.append(f"note {note_name(60 + name)[:2].rstrip('-')}{above}")
    if key == NOTE_OFF_KEY:
        roles.append("note-off")
    if key in HEX_KEYS:
        roles.append(f"hex {key.upper()}")
    if key in EFFECT_KEYS:
        roles.append(f"effect {EFFECT_KEYS[key]}")
    text = " · ".join(roles)
    return text[:1].upper() + text[1:]


def typed_keys() -> list[str]:
    """Every character the grid types with (piano, note-off, hex digits, effect letters),
    in a stable order for the key bindings."""
    keys = dict.fromkeys([*LOWER_ROW, *UPPER_ROW, *TOP_ROW, NOTE_OFF_KEY, *HEX_KEYS, *EFFECT_KEYS])
    return list(keys)
