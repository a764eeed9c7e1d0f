"""Tracker note names: `C-4` is MIDI note 60 (scientific pitch), `C#4` is 61, `C--1` is 0."""

from __future__ import annotations

NAMES = ("C-", "C#", "D-", "D#", "E-", "F-", "F#", "G-", "G#", "A-", "A#", "B-")
_INDEX = {name: i for i, name in enumerate(NAMES)}
# Flats are accepted on input; the file writes sharps.
_INDEX.update({"DB": 1, "EB": 3, "GB": 6, "AB": 8, "BB": 10})


def note_name(pitch: int) -> str:
    """Return the tracker name of a MIDI pitch (0..127)."""
    octave, step = divmod(pitch, 12)
    return f"{NAMES[step]}{octave - 1}"


def parse_note(text: str) -> int:
    """Parse a tracker note name such as `C-4`, `F#2`, `Bb3` or `C--1` into a MIDI pitch.

    Raises:
        ValueError: the text is not a note name, or the pitch lies outside 0..127.
    """
    t = text.strip()
    if len(t) < 3:
        raise ValueError(f"unknown note {text!r}")
    step = _INDEX.get(t[:2].upper())
    octave_text = t[2:]
    if step is None or not (octave_text.isdigit() or octave_text == "-1"):
        raise ValueError(f"unknown note {text!r}")
    pitch = (int(octave_text) + 1) * 12 + step
    if not 0 <= pitch <= 127:
        raise ValueError(f"note {text!r} is outside the MIDI range C--1..G-9")
    return pitch
