"""Exact frame indices from the tempo map: rows, tempo changes, swing, delay columns."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.builders import note, one_track_song
from tracker.engine.tempo_map import TempoMap, exact_bpm
from tracker.engine.timeline import length_seconds, timed_events
from tracker.model.events import NoteOn
from tracker.model.song import EffectCell


def note_on_frames(song, rate):
    return [frame for frame, e in timed_events(song, rate) if isinstance(e, NoteOn)]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        # 120 BPM, 4 lines per beat: a row lasts 1/8 s = 5512.5 frames at 44.1 kHz (half up).
        (44100, [0, 5513, 11025, 16538, 22050, 27563, 33075, 38588]),
        (48000, [0, 6000, 12000, 18000, 24000, 30000, 36000, 42000]),
    ],
)
def test_rows_at_120_bpm_4_lpb(rate, expected):
    song = one_track_song({row: note("C-4") for row in range(8)})
    assert note_on_frames(song, rate) == expected


def test_tempo_change_mid_song_moves_later_rows_exactly():
    # Rows 0..3 at 120 BPM (6000 frames each at 48 kHz), a T150 on row 4: 4800 frames a row after.
    song = one_track_song(
        {row: note("C-4") for row in range(8)}, effects={4: EffectCell("T", 150.0)}
    )
    assert note_on_frames(song, 48000) == [0, 6000, 12000, 18000, 24000, 28800, 33600, 38400]
    assert note_on_frames(song, 44100) == [0, 5513, 11025, 16538, 22050, 26460, 30870, 35280]


def test_sixty_percent_swing_moves_odd_rows_by_a_fifth_of_a_pair():
    # 120 ticks a line: 60 % swing moves odd rows 2*120*0.1 = 24 ticks = 1/5 row = 1200 frames.
    song = one_track_song({row: note("C-4") for row in range(4)}, tpl=120, swing=60)
    assert note_on_frames(song, 48000) == [0, 7200, 12000, 19200]
    assert note_on_frames(song, 44100) == [0, 6615, 11025, 17640]


def test_delay_column_offsets_in_ticks():
    # 24 ticks a line at 120 BPM/4 LPB: a tick is 250 frames at 48 kHz, 229.6875 at 44.1 kHz.
    song = one_track_song(
        {0: note("C-4", delay=1), 1: note("D-4", delay=12), 2: note("E-4", delay=23)}
    )
    assert note_on_frames(song, 48000) == [250, 6000 + 3000, 12000 + 5750]
    assert note_on_frames(song, 44100) == [230, 5513 + 2756, 11025 + 5283]


def test_swing_plus_delay_stays_inside_the_row():
    song = one_track_song({1: note("C-4", delay=23)}, tpl=24, swing=75)
    assert note_on_frames(song, 48000) == [6000 + 23 * 250]


def test_frame_rounding_is_half_up_and_exact_over_many_changes():
    tmap = TempoMap(120.0, 96)
    tick = 0
    for i in range(500):  # hundreds of tempo changes, no drift
        tick += 96
        tmap.set_tempo(tick, 100.0 + (i % 7) * 3.3)
    exact = Fraction(0)
    bpm = 120.0
    for i in range(500):
        exact += Fraction(60) / exact_bpm(bpm)
        bpm = 100.0 + (i % 7) * 3.3
    assert tmap.exact_seconds(tick) == exact
    assert tmap.frame_at(tick, 44100) == int(exact * 44100 + Fraction(1, 2))


def test_seconds_and_length():
    song = one_track_song({}, rows=64, bpm=125)
    assert length_seconds(song) == pytest.approx(64 / 4 * 60 / 125)
    tmap = TempoMap(125.0, 96)
    assert tmap.tick_at_seconds(tmap.seconds_at(1234)) == pytest.approx(1234)


def test_tempos_are_read_as_the_fractions_they_stand_for():
    assert exact_bpm(103.3) == Fraction(1033, 10)
    assert exact_bpm(60e6 / 461538) == Fraction(60_000_000, 461538)
    assert exact_bpm(124.0) == 124


def test_thousands_of_midi_tempo_changes_keep_times_small_and_exact():
    # Float BPMs taken as binary fractions made each start's denominator grow without bound.
    tmap = TempoMap(120.0, 480)
    expected = Fraction(0)
    previous = 500000
    for i in range(1, 5001):
        micros = 400000 + (i * 7919) % 200000
        tmap.set_tempo(i * 960, 60e6 / micros)
        expected += Fraction(previous * 2, 10**6)  # two beats at the previous tempo
        previous = micros
    assert tmap.exact_seconds(5000 * 960) == expected
    assert expected.denominator <= 10**6
