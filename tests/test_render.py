"""Offline render to WAV: exact onsets, block-size independence, stems, pre-fader tracks,
formats, tails and flat memory. Files are read back and judged by their samples."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.builders import note, one_track_song
from tracker.commands.songs import instrument_dirs
from tracker.engine.timeline import song_tempo_map
from tracker.model.serialize import load_song
from tracker.model.song import Pattern, Track
from tracker.paths import demo_song
from tracker.render.offline import OfflineRender, RenderJob, render_to_wav

# Attack 0 and a square wave: a note's first sample is non-zero, so onsets are visible exactly.
SQUARE = "type synth\nwave square\nattack 0\ndecay 0\nsustain 1\nrelease 0.01\ncutoff 8000\n"


@pytest.fixture
def square_dir(tmp_path: Path) -> Path:
    (tmp_path / "square.preset").write_text(SQUARE)
    return tmp_path


def render(job: RenderJob, tmp_path: Path, name: str = "out.wav", **kwargs) -> np.ndarray:
    out = tmp_path / name
    render_to_wav(OfflineRender(job, with_stems="stems_dir" in kwargs), out, **kwargs)
    audio, rate = sf.read(out, dtype="float32")
    assert rate == job.rate
    return audio


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
@pytest.mark.parametrize(("row", "delay"), [(0, 3), (5, 17), (6, 0)])
def test_every_note_starts_on_the_frame_the_tempo_map_gives(square_dir, tmp_path, rate, row, delay):
    # The same note rendered at tick 0 and at (row, delay) under 133 BPM and 60 % swing:
    # the second file must be the first shifted by exactly the tempo map's frame.
    reference = one_track_song({0: note("C-4"), 1: note("OFF")}, rows=8, instrument="square")
    shifted = one_track_song(
        {row: note("C-4", delay=delay), row + 1: note("OFF")},
        rows=8,
        bpm=133,
        swing=60,
        instrument="square",
    )
    reference.bpm = 133
    ref = render(
        RenderJob(reference, rate, search_dirs=[square_dir]), tmp_path, "r.wav", bits="32f"
    )
    out = render(RenderJob(shifted, rate, search_dirs=[square_dir]), tmp_path, "s.wav", bits="32f")
    tpl = shifted.ticks_per_line
    start = row * tpl + min((round(tpl * 0.2) if row % 2 else 0) + delay, tpl - 1)
    frame = song_tempo_map(shifted).frame_at(start, rate)
    # Compare while both notes still hold: the shifted one may be cut short by its row's end.
    length = song_tempo_map(shifted).frame_at((row + 1) * tpl, rate) - frame
    assert frame > 0
    assert not out[:frame].any()
    assert np.array_equal(out[frame : frame + length], ref[:length])
    assert np.abs(ref[:length]).max() > 0.1


def test_block_size_never_moves_a_sample(tmp_path):
    song = load_song(demo_song())
    song.order = song.order[:3]
    dirs = instrument_dirs(demo_song())
    small = render(RenderJob(song, 48000, block=256, search_dirs=dirs), tmp_path, "a.wav")
    large = render(RenderJob(song, 48000, block=8192, search_dirs=dirs), tmp_path, "b.wav")
    assert small.shape == large.shape
    assert np.array_equal(small, large)


def test_stems_sum_to_the_mix(tmp_path):
    song = load_song(demo_song())
    song.order = song.order[1:3]
    job = RenderJob(song, 48000, search_dirs=instrument_dirs(demo_song()))
    mix = render(job, tmp_path, bits="32f", stems_dir=tmp_path / "stems")
    stems = sorted((tmp_path / "stems").glob("*.wav"))
    assert [s.name for s in stems] == ["01-Drums.wav", "02-Bass.wav", "03-Keys.wav", "04-Pad.wav",
                                       "05-Lead.wav"]  # fmt: skip
    total = sum(sf.read(s, dtype="float32")[0] for s in stems)
    assert np.max(np.abs(mix)) > 0.1
    assert np.max(np.abs(total - mix)) < 1e-6


def test_a_track_alone_is_pre_fader(tmp_path):
    song = load_song(demo_song())
    song.order = [1]
    bass = song.track_index("Bass")
    dirs = instrument_dirs(demo_song())
    loud = render(
        RenderJob(song, 48000, track=bass, search_dirs=dirs), tmp_path, "a.wav", bits="32f"
    )
    song.tracks[bass].volume_db = -20.0
    song.tracks[bass].pan = 1.0
    quiet = render(
        RenderJob(song, 48000, track=bass, search_dirs=dirs), tmp_path, "b.wav", bits="32f"
    )
    assert np.array_equal(loud, quiet)  # neither the fader nor the pan reaches a pre-fader render
    assert np.array_equal(loud[:, 0], loud[:, 1])
    assert np.max(np.abs(loud)) > 0.1


def test_one_pattern_renders_its_length_plus_a_tail_that_ends_in_silence(tmp_path):
    song = load_song(demo_song())
    job = RenderJob(song, 48000, pattern=0, search_dirs=instrument_dirs(demo_song()))
    audio = render(job, tmp_path)
    pattern_frames = round(64 / 4 * 60 / 124 * 48000)
    assert pattern_frames < len(audio) < pattern_frames + 10 * 48000  # the pad's release rings on
    assert np.max(np.abs(audio[-64:])) < 1e-3


@pytest.mark.parametrize(
    ("bits", "subtype"), [("16", "PCM_16"), ("24", "PCM_24"), ("32f", "FLOAT")]
)
def test_bit_depths(square_dir, tmp_path, bits, subtype):
    song = one_track_song({0: note("A-4")}, rows=4, instrument="square")
    out = tmp_path / "out.wav"
    render_to_wav(OfflineRender(RenderJob(song, 44100, search_dirs=[square_dir])), out, bits)
    info = sf.info(out)
    assert (info.subtype, info.samplerate, info.channels) == (subtype, 44100, 2)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_clipping_is_counted_not_wrapped(square_dir, tmp_path):
    song = one_track_song({0: note("A-4", 127)}, rows=4, instrument="square")
    song.tracks[0].volume_db = 18.0
    out = tmp_path / "out.wav"
    result = render_to_wav(
        OfflineRender(RenderJob(song, 44100, search_dirs=[square_dir])), out, "16"
    )
    audio, _ = sf.read(out)
    assert result.clipped > 0
    assert audio.max() == pytest.approx(32767 / 32768) and audio.min() == -1.0


def test_memory_does_not_grow_with_song_length(square_dir):
    def peak(repeats: int) -> int:
        pattern = Pattern(16)
        for row in range(16):
            pattern.set_note(0, row, 0, note("C-4" if row % 2 else "G-4"))
        song = one_track_song({}, instrument="square")
        song.patterns = {0: pattern}
        song.order = [0] * repeats
        render = OfflineRender(RenderJob(song, 48000, search_dirs=[square_dir]))
        tracemalloc.start()
        for _ in render.blocks():
            pass
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    short, long = peak(8), peak(400)  # 16 s against 13 minutes
    assert long < short + 256 * 1024


def test_muted_and_midi_tracks_are_silent_and_solo_wins(square_dir, tmp_path):
    song = one_track_song({0: note("A-4")}, rows=4, instrument="square")
    song.tracks.append(Track("Other", instrument=1))
    song.patterns[0].set_note(1, 0, 0, note("C-5"))
    song.tracks[0].mute = True
    both_but_muted = render(RenderJob(song, 48000, search_dirs=[square_dir]), tmp_path, "a.wav")
    song.tracks[0].mute = False
    song.tracks[0].solo = True
    solo = render(RenderJob(song, 48000, search_dirs=[square_dir]), tmp_path, "b.wav")
    song.tracks[0].solo = False
    song.tracks[1].mute = True
    first_only = render(RenderJob(song, 48000, search_dirs=[square_dir]), tmp_path, "c.wav")
    assert np.array_equal(solo, first_only)
    assert not np.array_equal(solo, both_but_muted)
    assert np.max(np.abs(both_but_muted)) > 0.1
