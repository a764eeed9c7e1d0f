"""Quantize moves note starts toward the grid and leaves everything else as it was."""

from __future__ import annotations

import pytest

from tests.builders import one_track_song
from tracker.model.quantize import quantize
from tracker.model.roll import add_roll_note, roll_notes


def song_with(*starts_and_pitches):
    song = one_track_song({})
    notes = [add_roll_note(song, 0, 0, start, 10, pitch) for start, pitch in starts_and_pitches]
    return song, notes


def test_full_strength_snaps_to_the_nearest_line():
    song, notes = song_with((5, 60), (40, 62), (70, 64))
    moved = quantize(song, 0, 0, notes, grid=24)
    assert [(n.start, n.pitch) for n in moved] == [(0, 60), (48, 62), (72, 64)]
    assert [n.column for n in moved] == [n.column for n in notes]  # each keeps its column
    assert [n.start for n in roll_notes(song, 0, 0)] == [0, 48, 72]
    assert all(n.length == 24 for n in moved)  # a note cannot end on its own row: one row


def test_half_strength_goes_halfway_and_unselected_notes_stay():
    song, notes = song_with((10, 60), (100, 62))
    moved = quantize(song, 0, 0, notes[:1], grid=24, strength=50)
    assert moved[0].start == 5
    assert [n.start for n in roll_notes(song, 0, 0)] == [5, 100]


def test_swing_moves_odd_grid_lines_later():
    song, notes = song_with((26, 60), (50, 62))
    moved = quantize(song, 0, 0, notes, grid=24, swing=62.5)  # odd lines 6 ticks later
    assert [n.start for n in moved] == [30, 48]


def test_nothing_past_the_pattern_end_and_bad_arguments():
    song, notes = song_with((16 * 24 - 2, 60))
    assert quantize(song, 0, 0, notes, grid=24)[0].start == 15 * 24
    with pytest.raises(ValueError):
        quantize(song, 0, 0, notes, grid=0)
    with pytest.raises(ValueError):
        quantize(song, 0, 0, notes, grid=24, strength=150)
