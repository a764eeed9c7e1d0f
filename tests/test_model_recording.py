"""MIDI recording writes played notes into cells where the sequencer plays them back."""

from __future__ import annotations

import pytest

from tests.builders import note, one_track_song
from tracker.engine.sequencer import row_tick, sequence
from tracker.model.events import NoteOff, NoteOn, TempoChange
from tracker.model.history import History
from tracker.model.recording import PlayedNote, _row_start, write_played
from tracker.model.song import OFF, EffectCell, Pattern

ROWS = 16
TPL = 24
TOTAL = ROWS * TPL  # 384 ticks a pass


def cells(song, track=0):
    """(row, column) → (note, instrument, velocity, delay) of every cell of pattern 0's track."""
    rows = song.patterns[0].data.get(track, {})
    return {
        (row, column): (c.note, c.instrument, c.velocity, c.delay)
        for row, track_row in rows.items()
        for column, c in enumerate(track_row.notes)
        if c is not None
    }


def record(notes, *, fine, swing=50.0, song=None):
    song = song or one_track_song({}, rows=ROWS, tpl=TPL, swing=swing)
    dropped = write_played(song, 0, 0, notes, fine=fine)
    return song, dropped


# --- positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("swing", "tick", "row"),
    [
        (50, 14, 1),  # 10 before row 1, 14 after row 0
        (50, 12, 1),  # halfway: the later row
        (50, 38, 2),
        (66, 14, 0),  # row 1 starts at 32 with 66% swing: row 0 is nearer
        (66, 16, 1),  # halfway between 0 and 32
        (66, 38, 1),  # 6 after row 1, 10 before row 2
        (66, 44, 2),
        (66, 78, 3),  # row 3 starts at 80
    ],
)
def test_quantized_note_goes_on_the_nearest_swung_row(swing, tick, row):
    song, _ = record([PlayedNote(tick, None, 60, 100)], fine=False, swing=swing)
    assert cells(song) == {(row, 0): (60, None, 100, None)}


@pytest.mark.parametrize(
    ("swing", "tick", "row", "delay"),
    [
        (50, 0, 0, None),
        (50, 14, 0, 14),
        (50, 24, 1, None),
        (50, 38, 1, 14),
        (66, 14, 0, 14),
        (66, 32, 1, None),
        (66, 38, 1, 6),
        (66, 50, 2, 2),
        (66, 84, 3, 4),
        (66, 28, 0, 23),  # swing's gap before row 1: the delay column stops at 23
    ],
)
def test_fine_note_keeps_its_ticks_in_the_delay_column(swing, tick, row, delay):
    song, _ = record([PlayedNote(tick, None, 60, 100)], fine=True, swing=swing)
    assert cells(song) == {(row, 0): (60, None, 100, delay)}


@pytest.mark.parametrize("swing", [50.0, 62.5, 66.0, 75.0])
@pytest.mark.parametrize("tpl", [24, 3, 1])
def test_row_starts_match_the_sequencer(swing, tpl):
    song = one_track_song({}, rows=ROWS, tpl=tpl, swing=swing)
    assert [_row_start(song, ROWS, r) for r in range(ROWS)] == [
        row_tick(song, 0, r) for r in range(ROWS)
    ]
    assert _row_start(song, ROWS, ROWS + 1) == ROWS * tpl + row_tick(song, 0, 1)


def test_an_odd_length_pattern_starts_its_next_pass_unswung():
    song = one_track_song({}, rows=15, tpl=TPL, swing=66)
    # Row 15 is the next pass's row 0, at 360; tick 374 is 14 ticks into it.
    write_played(song, 0, 0, [PlayedNote(374, None, 60, 100)], fine=True)
    assert cells(song) == {(0, 0): (60, None, 100, 14)}


def test_an_end_before_the_start_reads_as_a_very_short_note():
    song, _ = record([PlayedNote(50, 10, 60, 100)], fine=True)
    assert cells(song) == {(2, 0): (60, None, 100, 2), (3, 0): (OFF, None, None, None)}


def test_fine_recording_plays_back_at_the_recorded_ticks():
    played = [
        PlayedNote(14, 40, 60, 90),
        PlayedNote(84, 130, 64, 100),
        PlayedNote(90, 200, 67, 70),  # overlaps the 64: a second column
        PlayedNote(150, None, 72, 127),  # still held: rings to the pattern's end
    ]
    song, dropped = record(played, fine=True, swing=66)
    assert dropped == 0
    assert cells(song) == {
        (0, 0): (60, None, 90, 14),
        (1, 0): (OFF, None, None, 8),
        (3, 0): (64, None, 100, 4),
        (5, 0): (OFF, None, None, 2),
        (6, 0): (72, None, 127, 6),
        (3, 1): (67, None, 70, 10),
        (8, 1): (OFF, None, None, 8),
    }
    assert list(sequence(song)) == [
        TempoChange(0, 120.0),
        NoteOn(14, 0, 60, 90),
        NoteOff(40, 0, 60),
        NoteOn(84, 0, 64, 100),
        NoteOn(90, 0, 67, 70),
        NoteOff(130, 0, 64),
        NoteOn(150, 0, 72, 127),
        NoteOff(200, 0, 67),
        NoteOff(TOTAL, 0, 72),
    ]


# --- the loop ----------------------------------------------------------------------------------


def test_ticks_of_a_later_pass_wrap_into_the_pattern():
    song, _ = record([PlayedNote(2 * TOTAL + 38, 2 * TOTAL + 60, 60, 100)], fine=True)
    assert cells(song) == {(1, 0): (60, None, 100, 14), (2, 0): (OFF, None, None, 12)}


def test_quantizing_past_the_last_row_wraps_to_row_zero():
    song, _ = record([PlayedNote(TOTAL - 5, TOTAL + 50, 60, 100)], fine=False)
    assert cells(song) == {(0, 0): (60, None, 100, None), (2, 0): (OFF, None, None, None)}
    song, _ = record([PlayedNote(TOTAL - 5, None, 60, 100)], fine=True)
    assert cells(song) == {(15, 0): (60, None, 100, 19)}


def test_an_off_past_the_end_wraps_to_the_next_pass():
    song, _ = record([PlayedNote(TOTAL - 30, TOTAL + 30, 60, 100)], fine=False)
    assert cells(song) == {(15, 0): (60, None, 100, None), (1, 0): (OFF, None, None, None)}


def test_a_note_held_a_whole_pass_gets_no_off():
    # Its end falls on row 4 of the next pass: an OFF there would cut it short every pass.
    song, _ = record([PlayedNote(48, 48 + TOTAL + 50, 60, 100)], fine=False)
    assert cells(song) == {(2, 0): (60, None, 100, None)}


def test_a_note_ending_where_the_loop_starts_leaves_the_first_note_alone():
    # Written first (row 0), the first note must not be overwritten by the later one's OFF.
    played = [PlayedNote(0, 40, 60, 100), PlayedNote(14 * TPL, TOTAL + 3, 62, 100)]
    song, _ = record(played, fine=False)
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (2, 0): (OFF, None, None, None),
        (14, 0): (62, None, 100, None),
    }


# --- note-offs ---------------------------------------------------------------------------------


def test_a_short_note_ends_on_the_next_row():
    song, _ = record([PlayedNote(2, 8, 60, 100)], fine=False)
    assert cells(song) == {(0, 0): (60, None, 100, None), (1, 0): (OFF, None, None, None)}
    song, _ = record([PlayedNote(26, 30, 60, 100)], fine=True)
    assert cells(song) == {(1, 0): (60, None, 100, 2), (2, 0): (OFF, None, None, None)}


def test_a_held_note_gets_no_off_and_keeps_the_column_free_before_it():
    song, _ = record([PlayedNote(0, 40, 60, 100), PlayedNote(96, None, 62, 100)], fine=False)
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (2, 0): (OFF, None, None, None),
        (4, 0): (62, None, 100, None),
    }
    assert song.tracks[0].note_columns == 1


def test_overlapping_legato_stays_in_one_column_and_the_next_note_ends_the_last():
    # Released 4 ticks after the next key went down: both ends quantize to row 2.
    played = [PlayedNote(0, 50, 60, 100), PlayedNote(46, 96, 62, 100)]
    song, _ = record(played, fine=False)
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (2, 0): (62, None, 100, None),
        (4, 0): (OFF, None, None, None),
    }
    assert song.tracks[0].note_columns == 1


def test_fine_legato_within_a_row_replaces_the_off():
    song, _ = record([PlayedNote(0, 58, 60, 100), PlayedNote(53, 96, 62, 100)], fine=True)
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (2, 0): (62, None, 100, 5),
        (4, 0): (OFF, None, None, None),
    }
    assert list(sequence(song))[1:4] == [
        NoteOn(0, 0, 60, 100),
        NoteOff(53, 0, 60),
        NoteOn(53, 0, 62, 100),
    ]


def test_fine_overlap_across_a_row_takes_a_second_column():
    song, _ = record([PlayedNote(0, 50, 60, 100), PlayedNote(46, 96, 62, 100)], fine=True)
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (2, 0): (OFF, None, None, 2),
        (1, 1): (62, None, 100, 22),
        (4, 1): (OFF, None, None, None),
    }


# --- polyphony ---------------------------------------------------------------------------------


def test_a_chord_fills_three_columns_from_its_lowest_note_and_the_track_grows():
    # Played top down, a few ticks apart: on one row the columns still go up by pitch.
    chord = [PlayedNote(0, 47, 67, 80), PlayedNote(1, 47, 64, 90), PlayedNote(2, 47, 60, 100)]
    song, dropped = record([*chord, PlayedNote(96, 120, 72, 100)], fine=False)
    assert dropped == 0
    assert cells(song) == {
        (0, 0): (60, None, 100, None),
        (0, 1): (64, None, 90, None),
        (0, 2): (67, None, 80, None),
        (2, 0): (OFF, None, None, None),
        (2, 1): (OFF, None, None, None),
        (2, 2): (OFF, None, None, None),
        (4, 0): (72, None, 100, None),  # the chord has ended: back to the first column
        (5, 0): (OFF, None, None, None),
    }
    assert song.tracks[0].note_columns == 3


def test_notes_past_the_column_limit_are_dropped_and_counted():
    played = [PlayedNote(0, 24, pitch, 100) for pitch in range(40, 57)]  # 17 at once
    song, dropped = record(played, fine=False)
    assert dropped == 1
    assert song.tracks[0].note_columns == 16
    assert sorted(n for (row, _), (n, *_) in cells(song).items() if row == 0) == list(range(40, 56))


def test_notes_from_another_pass_that_overlap_in_the_loop_take_another_column():
    # The second pass's note sits earlier in the pattern but was played later: column 1.
    played = [PlayedNote(TOTAL + 48, TOTAL + 120, 62, 100), PlayedNote(96, 192, 60, 100)]
    song, _ = record(played, fine=False)
    assert cells(song) == {
        (4, 0): (60, None, 100, None),
        (8, 0): (OFF, None, None, None),
        (2, 1): (62, None, 100, None),
        (5, 1): (OFF, None, None, None),
    }


# --- cells and values --------------------------------------------------------------------------


def test_recording_overwrites_the_cells_it_writes_and_leaves_the_rest():
    song = one_track_song(
        {0: note("D-5", 50, delay=5, instrument=1), 3: note("E-4", 70)},
        rows=ROWS,
        tpl=TPL,
        effects={0: EffectCell("C", 0x0740)},
    )
    record([PlayedNote(0, 30, 60, 110)], fine=False, song=song)
    assert cells(song) == {
        (0, 0): (60, None, 110, None),
        (1, 0): (OFF, None, None, None),
        (3, 0): (64, None, 70, None),
    }
    assert song.patterns[0].get(0, 0).effects == [EffectCell("C", 0x0740)]


def test_velocity_is_clamped_and_bad_pitches_are_skipped():
    played = [
        PlayedNote(0, 30, 60, 0),
        PlayedNote(48, 60, 62, 300),
        PlayedNote(96, None, 128, 100),
        PlayedNote(96, None, -1, 100),
    ]
    song, dropped = record(played, fine=False)
    assert dropped == 2
    assert cells(song) == {
        (0, 0): (60, None, 1, None),
        (1, 0): (OFF, None, None, None),
        (2, 0): (62, None, 127, None),
        (3, 0): (OFF, None, None, None),
    }


def test_an_unknown_pattern_or_track_raises_and_writes_nothing():
    song = one_track_song({}, rows=ROWS)
    with pytest.raises(ValueError):
        write_played(song, 7, 0, [PlayedNote(0, None, 60, 100)], fine=False)
    with pytest.raises(ValueError):
        write_played(song, 0, 1, [PlayedNote(0, None, 60, 100)], fine=False)
    assert song.patterns[0] == Pattern(ROWS)


def test_a_recording_is_one_undo_step():
    song = one_track_song({4: note("E-4")}, rows=ROWS)
    history = History(song)
    with history.edit("record", tracks=[(0, 0)]) as edited:
        write_played(
            edited, 0, 0, [PlayedNote(0, 30, 60, 100), PlayedNote(0, 30, 64, 100)], fine=False
        )
    assert song.tracks[0].note_columns == 2
    assert history.undo() == "record"
    assert cells(song) == {(4, 0): (64, None, None, None)}
    assert song.tracks[0].note_columns == 1
