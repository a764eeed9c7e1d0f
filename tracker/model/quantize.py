"""Quantize: pull notes' starts toward a grid, by a strength, with optional swing."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tracker.model.edits import check_pattern, check_track
from tracker.model.roll import NotePlacement, RollNote, replace_roll_notes, roll_notes
from tracker.model.song import Song


def quantize(
    song: Song,
    pattern: int,
    track: int,
    notes: Sequence[RollNote],
    *,
    grid: int,
    strength: float = 100.0,
    swing: float = 50.0,
) -> list[RollNote]:
    """Move each note's start toward the nearest grid line, keeping its length.

    Args:
        grid: the grid step in ticks (a row is `song.ticks_per_line`).
        strength: percent of the way to the grid line (100 snaps, 50 goes halfway).
        swing: 50 is straight; above it, odd grid lines sit later by (swing - 50) / 50 of a step.

    Returns:
        The moved notes as the roll now reads them, in the order given (a note may change
        column when its own is taken).

    Raises:
        ValueError: a note is not in the track, or an argument is out of range; nothing moves.
    """
    target = check_pattern(song, pattern)
    check_track(song, track)
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 1:
        raise ValueError(f"grid must be a whole number of ticks of at least 1, not {grid!r}")
    if not 0.0 <= strength <= 100.0:
        raise ValueError(f"strength {strength} is outside 0..100")
    if not 50.0 <= swing <= 75.0:
        raise ValueError(f"swing {swing} is outside 50..75")
    last_tick = target.length * song.ticks_per_line - 1
    shift = round((swing - 50.0) / 50.0 * grid)
    present = {(n.start, n.column, n.pitch): n for n in roll_notes(song, pattern, track)}
    found = []
    for note in notes:
        key = (note.start, note.column, note.pitch)
        if key not in present:
            raise ValueError(f"no note of pitch {note.pitch} at tick {note.start}")
        found.append(present[key])
    found = list(dict.fromkeys(found))  # a note listed twice moves once
    tpl = song.ticks_per_line
    placements = []
    for note in found:
        line = _nearest_line(note.start, grid, shift, last_tick)
        start = note.start + round((line - note.start) * strength / 100.0)
        length = max(1, min(note.length, last_tick + 1 - start))
        cell = target.data[track][note.start // tpl].notes[note.column]
        instrument = None if cell is None else cell.instrument  # it rides along with its note
        placements.append(
            NotePlacement(start, length, note.pitch, note.velocity, instrument, note.column)
        )
    return replace_roll_notes(song, pattern, track, found, placements)


def _nearest_line(tick: int, grid: int, shift: int, last_tick: int) -> int:
    """The grid line nearest `tick` (odd lines `shift` later) that lies inside the pattern."""
    base = math.floor(tick / grid)
    best: int | None = None
    for index in range(base - 1, base + 3):
        line = index * grid + (shift if index % 2 else 0)
        if not 0 <= line <= last_tick:
            continue
        if best is None or abs(line - tick) < abs(best - tick):
            best = line
    return tick if best is None else best
