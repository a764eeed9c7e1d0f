"""Grid edits: what lands in the song, and what the sequencer then plays."""

from __future__ import annotations

import pytest

from tests.builders import note, one_track_song
from tracker.engine.sequencer import sequence
from tracker.model.edits import (
    Block,
    clear_block,
    clone_pattern,
    copy_block,
    new_pattern,
    order_delete,
    order_insert,
    order_set,
    paste,
    ramp_velocity,
    resize_pattern,
    set_lines_per_beat,
    set_swing,
    set_tempo,
    set_track,
    transpose_block,
    write_effect_field,
    write_note,
    write_note_field,
)
from tracker.model.events import NoteOn
from tracker.model.serialize import dumps, loads
from tracker.model.song import CUT, OFF, EffectCell, Track


def pitches(song):
    return [(e.tick, e.pitch, e.velocity) for e in sequence(song) if isinstance(e, NoteOn)]


def test_write_note_keeps_delay_and_plays():
    song = one_track_song({2: note("C-4", delay=6)})
    write_note(song, 0, 0, 2, 0, 64, instrument=1, velocity=90)
    cell = song.patterns[0].get(0, 2).notes[0]
    assert (cell.note, cell.instrument, cell.velocity, cell.delay) == (64, 1, 90, 6)
    assert pitches(song) == [(2 * 24 + 6, 64, 90)]


def test_write_off_and_cut_leave_fields_empty():
    song = one_track_song({0: note("C-4", velocity=80)})
    write_note(song, 0, 0, 0, 0, OFF)
    write_note(song, 0, 0, 1, 0, CUT)
    assert song.patterns[0].get(0, 0).notes[0].velocity is None
    assert song.patterns[0].get(0, 1).notes[0].note == CUT


def test_clearing_every_field_removes_the_row():
    song = one_track_song({3: note("C-4", velocity=80)})
    write_note_field(song, 0, 0, 3, 0, "note", None)
    write_note_field(song, 0, 0, 3, 0, "velocity", None)
    assert song.patterns[0].get(0, 3) is None
    assert loads(dumps(song)).patterns[0].data == {}


def test_effect_fields():
    song = one_track_song({})
    write_effect_field(song, 0, 0, 0, 1, "value", 0x0740)
    assert song.patterns[0].get(0, 0).effects[1] == EffectCell("C", 0x0740)
    assert song.tracks[0].effect_columns == 2
    write_effect_field(song, 0, 0, 0, 1, "command", "T")
    assert song.patterns[0].get(0, 0).effects[1] == EffectCell("T", 120.0)
    write_effect_field(song, 0, 0, 0, 1, "value", 92.5)
    write_effect_field(song, 0, 0, 0, 1, "delay", 3)
    assert song.patterns[0].get(0, 0).effects[1] == EffectCell("T", 92.5, 3)
    write_effect_field(song, 0, 0, 0, 1, "command", None)
    assert song.patterns[0].get(0, 0) is None
    with pytest.raises(ValueError):
        write_effect_field(song, 0, 0, 0, 0, "command", "Z")
    with pytest.raises(ValueError):
        write_effect_field(song, 0, 0, 0, 0, "value", 0x4000 * 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: write_note(s, 5, 0, 0, 0, 60),  # unknown pattern
        lambda s: write_note(s, 0, 1, 0, 0, 60),  # track out of range
        lambda s: write_note(s, 0, 0, 16, 0, 60),  # row past the end
        lambda s: write_note(s, 0, 0, 0, 0, 128),
        lambda s: write_note(s, 0, 0, 0, 0, 60, velocity=0),
        lambda s: write_note_field(s, 0, 0, 0, 0, "delay", 24),
    ],
)
def test_impossible_arguments_raise_value_error(call):
    song = one_track_song({})
    before = dumps(song)
    with pytest.raises(ValueError):
        call(song)
    assert dumps(song) == before


def two_track_song():
    song = one_track_song({0: note("C-4"), 1: note("E-4", velocity=40), 4: note("G-4")})
    song.tracks.append(Track("U", instrument=1))
    song.patterns[0].set_note(1, 2, 0, note("C-3"))
    return song


def test_copy_paste_overwrites_and_clips_at_the_edges():
    song = two_track_song()
    clip = copy_block(song, Block(0, 0, 1, 0, 3))
    assert (clip.width, clip.height) == (2, 4)
    written = paste(song, 0, 1, 14, clip)
    assert written == Block(0, 1, 1, 14, 15)  # one track and two rows fit
    assert song.patterns[0].get(1, 14).notes[0].note == 60
    assert song.patterns[0].get(1, 15).notes[0].velocity == 40
    # The clip is private: editing the song does not change it.
    write_note(song, 0, 0, 0, 0, 72)
    assert clip.rows[0][2].notes[0].note == 60


def test_paste_overwrites_with_empty_rows():
    song = two_track_song()
    clip = copy_block(song, Block(0, 0, 0, 8, 11))  # four empty rows
    paste(song, 0, 0, 0, clip)
    assert [r for r in song.patterns[0].data[0]] == [4]


def test_clear_transpose_and_ramp():
    song = one_track_song(
        {0: note("C-4", velocity=20), 1: note("OFF"), 2: note("D-4"), 4: note("G-8", velocity=120)}
    )
    block = Block(0, 0, 0, 4, 0)  # corners in any order
    transpose_block(song, block, 12)
    assert [c.notes[0].note for _, c in sorted(song.patterns[0].data[0].items())] == [
        72,
        OFF,
        74,
        127,
    ]
    ramp_velocity(song, block)
    assert pitches(song)[1] == (48, 74, 70)  # halfway from 20 to 120
    clear_block(song, Block(0, 0, 0, 1, 3))
    assert sorted(song.patterns[0].data[0]) == [0, 4]


def test_patterns_and_order():
    song = one_track_song({0: note("C-4"), 15: note("D-4")})
    song.patterns[0].name = "verse"
    pid = clone_pattern(song, 0)
    assert pid == 1 and song.patterns[1].name == "verse copy"
    assert new_pattern(song, 8) == 2
    resize_pattern(song, 1, 8)
    assert song.patterns[1].get(0, 15) is None and song.patterns[0].get(0, 15) is not None
    song.loop = (0, 0)
    order_insert(song, 0, 1)
    assert song.order == [1, 0] and song.loop == (1, 1)
    order_set(song, 0, 2)
    order_delete(song, 1)
    assert song.order == [2] and song.loop is None
    order_delete(song, 0)
    assert song.order == [2]
    with pytest.raises(ValueError):
        resize_pattern(song, 0, 513)
    with pytest.raises(ValueError):
        order_insert(song, 0, 42)


def test_track_and_song_settings_are_clamped():
    song = one_track_song({})
    set_track(song, 0, name="Bass", mute=True, volume_db=40, pan=-3)
    track = song.tracks[0]
    assert (track.name, track.mute, track.volume_db, track.pan) == ("Bass", True, 12.0, -1.0)
    set_tempo(song, 5000)
    set_swing(song, 10)
    set_lines_per_beat(song, 8)
    assert (song.bpm, song.swing, song.lines_per_beat) == (999.0, 50.0, 8)
    with pytest.raises(ValueError):
        set_track(song, 0, channel=3)
    with pytest.raises(ValueError):
        set_lines_per_beat(song, 0)
    loads(dumps(song))  # everything set can be saved


def test_an_instrument_the_song_does_not_declare_is_refused():
    # The song file could not hold it: saving would fail later, so typing it fails now.
    song = one_track_song({})
    with pytest.raises(ValueError, match="instrument 05 is not in the song"):
        write_note_field(song, 0, 0, 0, 0, "instrument", 5)
    with pytest.raises(ValueError, match="01 bass"):
        write_note(song, 0, 0, 0, 0, 60, instrument=7)
    write_note(song, 0, 0, 0, 0, 60, instrument=1)
    assert song.patterns[0].get(0, 0).notes[0].instrument == 1
