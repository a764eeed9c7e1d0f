"""Small helpers that build songs in code, so tests state exactly what they play."""

from __future__ import annotations

from tracker.model.notes import parse_note
from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Pattern, Song, Track


def note(text: str, velocity: int | None = None, delay: int | None = None, instrument=None):
    pitch = {"OFF": OFF, "^^^": CUT}.get(text)
    if pitch is None:
        pitch = parse_note(text)
    return NoteCell(pitch, instrument, velocity, delay)


def one_track_song(
    cells: dict[int, NoteCell],
    *,
    rows: int = 16,
    bpm: float = 120.0,
    lpb: int = 4,
    tpl: int = 24,
    swing: float = 50.0,
    effects: dict[int, EffectCell] | None = None,
    instrument: str = "bass",
) -> Song:
    """A song of one instrument track and one pattern; `cells` maps row → note cell."""
    pattern = Pattern(rows)
    for row, cell in cells.items():
        pattern.set_note(0, row, 0, cell)
    for row, effect in (effects or {}).items():
        pattern.set_effect(0, row, 0, effect)
    return Song(
        title="test",
        bpm=bpm,
        lines_per_beat=lpb,
        ticks_per_line=tpl,
        swing=swing,
        instruments={1: instrument},
        tracks=[Track("T", instrument=1)],
        patterns={0: pattern},
        order=[0],
    )
