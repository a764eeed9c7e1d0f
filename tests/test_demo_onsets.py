"""`tracker render -o demo.wav` writes the demo, and an independent onset detector (aubioonset)
finds the drum hits where the song puts them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import require_program
from tracker.engine.sequencer import sequence
from tracker.engine.timeline import song_tempo_map
from tracker.model.events import NoteOn
from tracker.model.serialize import load_song
from tracker.paths import demo_song

RATE = 48000


def tracker(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, cwd=cwd
    )


def drum_times(pitches: set[int] | None = None) -> np.ndarray:
    song = load_song(demo_song())
    drums = song.track_index("Drums")
    tmap = song_tempo_map(song)
    ticks = sorted(
        {
            e.tick
            for e in sequence(song)
            if isinstance(e, NoteOn)
            and e.track == drums
            and (pitches is None or e.pitch in pitches)
        }
    )
    return np.array([tmap.seconds_at(t) for t in ticks])


def onsets(wav) -> np.ndarray:
    aubio = require_program("aubioonset")
    out = subprocess.run(
        [aubio, "-i", str(wav), "-O", "hfc", "-t", "0.3", "-M", "0.05"],
        capture_output=True,
        text=True,
        check=True,
    )
    return np.array([float(x) for x in out.stdout.split()])


def matched(expected: np.ndarray, found: np.ndarray, tolerance: float) -> float:
    """Fraction of `expected` times with a detected onset within `tolerance` seconds."""
    if len(found) == 0:
        return 0.0
    distance = np.abs(found[None, :] - expected[:, None]).min(axis=1)
    return float((distance <= tolerance).mean())


@pytest.fixture(scope="module")
def demo_wav(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo.wav"
    result = tracker("render", "-o", str(out), "--rate", str(RATE))
    assert result.returncode == 0, result.stderr
    return out


def test_render_writes_the_demo(demo_wav):
    audio, rate = sf.read(demo_wav)
    song_seconds = song_tempo_map(load_song(demo_song())).seconds_at(
        load_song(demo_song()).length_ticks()
    )
    assert rate == RATE and audio.shape[1] == 2
    assert len(audio) / rate == pytest.approx(song_seconds, abs=10.0)
    assert len(audio) >= round(song_seconds * rate)
    peak = np.abs(audio).max()
    assert 0.1 < peak <= 1.0


def test_aubio_finds_the_kicks_in_the_mix(demo_wav):
    kicks = drum_times({35, 36})
    assert len(kicks) > 50
    # aubio reports an onset a few ms after the sample starts; 30 ms covers its hop size.
    assert matched(kicks, onsets(demo_wav), 0.03) >= 0.95


def test_aubio_finds_every_drum_hit_of_the_drum_track_and_nothing_else(tmp_path):
    out = tmp_path / "drums.wav"
    result = tracker("render", "-o", str(out), "--track", "Drums", "--rate", str(RATE))
    assert result.returncode == 0, result.stderr
    expected = drum_times()
    found = onsets(out)
    assert matched(expected, found, 0.03) >= 0.9  # recall: the song's hits are heard
    assert matched(found, expected, 0.03) >= 0.9  # precision: no onsets where it put none
