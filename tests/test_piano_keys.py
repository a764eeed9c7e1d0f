"""The QWERTY piano and digit entry of the pattern grid."""

from __future__ import annotations

import pytest

from tracker.ui.piano_keys import (
    EFFECT_KEYS,
    clamp_effect_value,
    hex_digit,
    key_roles,
    piano_pitch,
    shift_in_decimal,
    shift_in_hex,
    typed_keys,
)


@pytest.mark.parametrize(
    ("key", "pitch"),
    [
        ("z", 60),  # C-4 at octave 4
        ("s", 61),
        ("m", 71),  # B-4
        ("q", 72),  # C-5: the upper row is an octave up
        ("2", 73),
        ("u", 83),
        ("i", 84),  # C-6: the top row continues two octaves up
        ("p", 88),  # E-6
    ],
)
def test_piano_rows_play_two_and_a_bit_octaves(key: str, pitch: int) -> None:
    assert piano_pitch(key, 4) == pitch


def test_piano_follows_the_octave_and_stays_in_midi_range() -> None:
    assert piano_pitch("z", 0) == 12
    assert piano_pitch("z", 2) == 36
    assert piano_pitch("z", 8) == 108
    assert piano_pitch("p", 8) is None  # 136 is past G-9
    assert piano_pitch("a", 4) is None  # not a piano key
    assert piano_pitch("1", 4) is None  # note-off, not a pitch


def test_hex_digits() -> None:
    assert hex_digit("0") == 0
    assert hex_digit("a") == 10
    assert hex_digit("F") == 15
    assert hex_digit("g") is None
    assert hex_digit("minus") is None


def test_hex_entry_shifts_the_new_digit_in_as_the_low_nibble() -> None:
    assert shift_in_hex(None, 6) == 0x06  # an empty field: the first digit just sets it
    assert shift_in_hex(0x06, 4) == 0x64
    assert shift_in_hex(0x64, 0xA) == 0x4A  # the top digit falls off
    assert shift_in_hex(0x0740, 5, digits=4) == 0x7405


def test_decimal_entry_for_tempo() -> None:
    assert shift_in_decimal(None, 1) == 1
    assert shift_in_decimal(12, 8) == 128
    assert shift_in_decimal(128, 5) == 285


def test_effect_values_are_clamped_to_their_command() -> None:
    assert clamp_effect_value("C", 0xFFFF) == 0x7F7F  # both bytes 7-bit
    assert clamp_effect_value("C", 0x0740) == 0x0740
    assert clamp_effect_value("B", 0xFFFF) == 0x3FFF
    assert clamp_effect_value("P", 0x0100) == 0x7F
    assert clamp_effect_value("A", 0x0100) == 0x7F
    assert clamp_effect_value("R", 0) == 1
    assert clamp_effect_value("T", 0) == 1


def test_every_typed_key_says_what_it_does() -> None:
    keys = typed_keys()
    assert len(keys) == len(set(keys))
    assert {"z", "q", "i", "1", "a", "f", "l"} <= set(keys)
    assert all(key_roles(key) for key in keys)
    assert key_roles("c") == "Note E · hex C · effect C"
    assert key_roles("1") == "Note-off · hex 1"
    assert set(EFFECT_KEYS.values()) == {"C", "B", "P", "A", "R", "L", "T"}
