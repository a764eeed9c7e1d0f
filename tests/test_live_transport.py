"""Live playback without hardware: a PullSink takes blocks from the engine as a sound card
would, and what it gets is compared sample for sample with the offline render."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.builders import note, one_track_song
from tracker.audio.sinks import PullSink
from tracker.engine.timeline import song_tempo_map
from tracker.live import Transport
from tracker.model.serialize import load_song
from tracker.model.song import EffectCell, Pattern
from tracker.paths import demo_song
from tracker.render.offline import OfflineRender, RenderJob

RATE = 48000
SQUARE = "type synth\nwave square\nattack 0\ndecay 0\nsustain 1\nrelease 0.01\ncutoff 8000\n"


@pytest.fixture
def square_dir(tmp_path: Path) -> Path:
    (tmp_path / "square.preset").write_text(SQUARE)
    return tmp_path


def offline(song, search_dirs=(), frames: int | None = None, order=None) -> np.ndarray:
    job = RenderJob(song, RATE, search_dirs=search_dirs)
    if order is not None:
        song = copy.deepcopy(song)
        song.order = order
        job = RenderJob(song, RATE, search_dirs=search_dirs)
    audio = np.concatenate([mix.copy() for mix, _ in OfflineRender(job).blocks()])
    if frames is not None:
        audio = np.concatenate([audio, np.zeros((max(frames - len(audio), 0), 2), np.float32)])
        audio = audio[:frames]
    return audio


def pull(sink: PullSink, frames: int, sizes=(512, 333)) -> np.ndarray:
    parts, total = [], 0
    for size in itertools.cycle(sizes):
        if total >= frames:
            break
        size = min(size, frames - total)
        parts.append(sink.pull(size))
        total += size
    return np.concatenate(parts)


def transport(song, search_dirs=()) -> tuple[Transport, PullSink]:
    sink = PullSink()
    return Transport(song, rate=RATE, search_dirs=search_dirs, output=sink), sink


def frame_of_row(song, row: int, pattern_start: int = 0) -> int:
    return song_tempo_map(song).frame_at(pattern_start + row * song.ticks_per_line, RATE)


def square_song(cells, rows=16, **kwargs):
    return one_track_song(cells, rows=rows, instrument="square", **kwargs)


def test_demo_plays_exactly_the_offline_render():
    song = load_song(demo_song())
    live, sink = transport(song)
    live.play()
    heard = pull(sink, 3 * RATE)
    assert np.array_equal(heard, offline(song, frames=3 * RATE))
    assert np.abs(heard).max() > 0.1
    status = live.status()
    assert status.playing and status.order_index == 0 and status.pattern == song.order[0]
    assert status.row == int(status.tick // song.ticks_per_line) > 20


def two_pattern_song(square_dir):
    """Notes in pattern 0 end well before pattern 1; a volume controller is set on the way."""
    song = square_song({0: note("C-4"), 1: note("OFF")}, rows=8)
    song.patterns[0].set_effect(0, 3, 0, EffectCell("C", 7 * 256 + 64))  # CC 7 (volume) = 64
    second = Pattern(8)
    second.set_note(0, 4, 0, note("E-4"))
    second.set_note(0, 5, 0, note("OFF"))
    second.set_note(0, 6, 0, note("G-4"))
    second.set_note(0, 7, 0, note("OFF"))
    song.patterns[1] = second
    song.order = [0, 1]
    return song


def test_play_from_a_position_equals_the_offline_render_from_there(square_dir):
    song = two_pattern_song(square_dir)
    live, sink = transport(song, [square_dir])
    live.play(order_index=1, row=4)
    start = frame_of_row(song, 4, song.pattern_ticks(0))
    reference = offline(song, [square_dir])
    heard = pull(sink, len(reference) - start)
    # The chased volume controller is applied at the start: equal only with the chase.
    assert np.array_equal(heard, reference[start:])
    assert np.abs(heard).max() > 0.01
    assert live.status().order_index == 1


def test_notes_before_the_start_are_not_played(square_dir):
    song = square_song({0: note("C-4"), 12: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play(row=4)
    assert not np.any(pull(sink, RATE // 2))  # the held C-4 began before row 4
    assert live.status().voices == 0


def test_loop_wraps_like_the_pattern_played_again(square_dir):
    song = square_song({0: note("C-4"), 2: note("OFF"), 6: note("E-4")}, rows=8)  # E held over
    live, sink = transport(song, [square_dir])
    live.play(loop=True)
    length = frame_of_row(song, 8)
    heard = pull(sink, 3 * length)
    assert np.array_equal(heard, offline(song, [square_dir], order=[0, 0, 0, 0])[: 3 * length])
    status = live.status()
    assert status.playing and status.looping and status.row < 8


def test_song_ends_after_its_tail(square_dir):
    song = square_song({0: note("C-4")}, rows=4)
    live, sink = transport(song, [square_dir])
    live.play()
    pull(sink, RATE)
    assert not live.playing
    assert live.status().voices == 0
    assert not np.any(pull(sink, 2048))


def test_a_note_added_at_a_future_row_is_heard_at_exactly_that_row(square_dir):
    song = square_song({0: note("C-4"), 1: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    before = pull(sink, 512 * 10)  # row 2 of 16 at 120 BPM (6000 frames a row)
    edited = copy.deepcopy(song)
    edited.patterns[0].set_note(0, 9, 0, note("A-5"))
    edited.patterns[0].set_note(0, 10, 0, note("OFF"))
    live.update(edited, frozenset({0}))
    heard = np.concatenate([before, pull(sink, frame_of_row(song, 16) - len(before))])
    expected = offline(edited, [square_dir], frames=len(heard))
    assert np.array_equal(heard, expected)
    row = frame_of_row(song, 9)
    unedited = offline(song, [square_dir], frames=len(heard))
    assert np.array_equal(heard[:row], unedited[:row])
    assert np.any(heard[row : row + 2] != unedited[row : row + 2])


def test_a_note_added_where_playback_already_is_is_not_heard(square_dir):
    song = square_song({0: note("C-4"), 1: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    before = pull(sink, 512 * 23)  # rendered into row 1
    edited = copy.deepcopy(song)
    edited.patterns[0].set_note(0, 1, 0, note("A-5"))
    edited.patterns[0].set_note(0, 3, 0, note("OFF"))
    live.update(edited, frozenset({0}))
    heard = np.concatenate([before, pull(sink, 6 * 6000)])
    assert np.array_equal(heard, offline(song, [square_dir], frames=len(heard)))


def test_deleting_a_held_note_releases_it_at_the_next_row(square_dir):
    song = square_song({0: note("C-4"), 12: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    before = pull(sink, 512 * 50)  # 25600 frames: into row 4; row 5 starts at 30000
    edited = copy.deepcopy(song)
    del edited.patterns[0].data[0][0]
    live.update(edited, frozenset({0}))
    heard = np.concatenate([before, pull(sink, RATE)])
    released = square_song({0: note("C-4"), 5: note("OFF")})
    assert np.array_equal(heard, offline(released, [square_dir], frames=len(heard)))
    assert live.status().voices == 0  # no hanging voice
    assert not np.any(heard[-2048:])


def test_a_stray_note_off_never_releases_a_later_note(square_dir):
    # The edit adds a C-4 on an already played row, ended at row 8 in another column; the
    # engine never started it, so its note-off must not end the C-4 that starts at row 6.
    song = square_song({6: note("C-4"), 14: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    before = pull(sink, 512 * 30)
    edited = copy.deepcopy(song)
    edited.patterns[0].set_note(0, 1, 1, note("C-4"))
    edited.patterns[0].set_note(0, 8, 1, note("OFF"))
    live.update(edited, frozenset({0}))
    heard = np.concatenate([before, pull(sink, frame_of_row(song, 16) - len(before))])
    assert np.array_equal(heard, offline(song, [square_dir], frames=len(heard)))


def test_a_tempo_edit_keeps_the_playhead_where_it_is(square_dir):
    song = square_song({8: note("C-4"), 9: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    before = pull(sink, 512 * 20)  # into row 1 (rows are 6000 frames at 120 BPM)
    tick_before = live.status().tick
    edited = copy.deepcopy(song)
    edited.bpm = 200.0
    live.update(edited, frozenset())
    heard = np.concatenate([before, pull(sink, 60000)])
    switch = 2 * song.ticks_per_line  # the next row not yet rendered
    new_map = song_tempo_map(edited)
    expected = (
        frame_of_row(song, 2) + new_map.frame_at(8 * 24, RATE) - new_map.frame_at(switch, RATE)
    )
    # A square note's first non-zero sample comes `lead` frames after its onset.
    lead = np.flatnonzero(np.any(offline(square_song({0: note("C-4")}), [square_dir]) != 0, 1))[0]
    assert np.flatnonzero(np.any(heard != 0, 1))[0] == expected + lead
    assert not np.any(heard[:expected])
    assert live.status().tick > tick_before
    assert live.status().bpm == 200.0


def test_mute_silences_the_track_from_the_next_block():
    song = load_song(demo_song())
    live, sink = transport(song)
    live.play()
    before = pull(sink, 512 * 100, sizes=(512,))
    muted = copy.deepcopy(song)
    muted.tracks[0].mute = True
    live.update(muted, frozenset())
    after = pull(sink, RATE, sizes=(512, 333))
    heard = np.concatenate([before, after])
    assert np.array_equal(before, offline(song, frames=len(before)))
    assert np.array_equal(after, offline(muted, frames=len(heard))[len(before) :])
    assert not np.array_equal(after, offline(song, frames=len(heard))[len(before) :])


def test_solo_and_volume_changes_take_effect_and_back_again():
    song = load_song(demo_song())
    live, sink = transport(song)
    live.play()
    pull(sink, 512 * 40, sizes=(512,))
    soloed = copy.deepcopy(song)
    soloed.tracks[1].solo = True
    soloed.tracks[1].volume_db = -3.0
    live.update(soloed)
    start = 512 * 40
    part = pull(sink, 512 * 40, sizes=(512,))
    assert np.array_equal(part, offline(soloed, frames=start + len(part))[start:])
    live.update(song)
    start += len(part)
    part = pull(sink, 512 * 40, sizes=(512,))
    assert np.array_equal(part, offline(song, frames=start + len(part))[start:])


def test_stop_releases_every_voice_then_silence():
    song = load_song(demo_song())
    live, sink = transport(song)
    live.play()
    pull(sink, RATE)
    assert live.status().voices > 0
    live.stop()
    assert not live.playing
    after = pull(sink, 4 * RATE)
    assert np.abs(after[:256]).max() > 0.001  # the release rings, no hard cut
    assert live.status().voices == 0
    assert not np.any(after[-4096:])
    assert not live.status().playing


def test_restart_from_another_position_releases_the_old_notes(square_dir):
    song = square_song({0: note("C-4"), 15: note("OFF")})
    live, sink = transport(song, [square_dir])
    live.play()
    pull(sink, RATE // 2)
    live.play(row=8)
    pull(sink, RATE // 2)
    assert live.status().voices == 0
    assert live.status().row >= 8


def test_an_auditioned_note_sounds_now_and_stops_on_its_own(square_dir):
    # A note typed in the grid is heard at once, while stopped, and released after its time;
    # it does not touch the song's playback.
    song = one_track_song({}, instrument="square")
    live, sink = transport(song, [square_dir])
    with live:
        assert np.abs(pull(sink, 4096)).max() == 0.0
        live.audition(0, 69, 100, seconds=0.1)
        heard = pull(sink, RATE // 2)
    first = int(np.flatnonzero(np.abs(heard[:, 0]) > 0)[0])
    assert first < 4096 + 512  # within the lookahead and a block of the request
    last = int(np.flatnonzero(np.abs(heard[:, 0]) > 1e-4)[-1])
    # 0.1 s of note plus the preset's 10 ms release, give or take a block.
    assert abs((last - first) - int(0.11 * RATE)) < 1024
    assert not live.playing


def test_looping_an_empty_pattern_keeps_time_and_does_not_hang() -> None:
    # An endless order of a silent pattern once made the sequencer loop forever unseen.
    song = one_track_song({})
    sink = PullSink()
    with Transport(song, output=sink) as transport:
        transport.play(loop=True)
        sink.pull(48000 * 3)
        status = transport.status()
        assert status.playing and status.looping
        assert status.tick > song.pattern_ticks(song.order[0])  # past the first pass
