"""Audio clips from files a song names: bad ones are one line naming the file, exit 2, and no
output; good ones at another rate or channel count play."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tracker.cli import main
from tracker.model.serialize import save_song
from tracker.model.song import Clip, Pattern, Song, Track, TrackKind


def song_with_clip(folder: Path, name: str) -> Path:
    song = Song(
        tracks=[Track("Take", kind=TrackKind.AUDIO, clips=[Clip(0, f"audio/{name}")])],
        patterns={0: Pattern(16)},
        order=[0],
    )
    path = folder / "take.song"
    save_song(song, path)
    (folder / "audio").mkdir(exist_ok=True)
    return path


def write_bad(folder: Path, kind: str) -> str:
    audio = folder / "audio"
    audio.mkdir(exist_ok=True)
    if kind == "nan":
        data = np.zeros((4800, 2), np.float32)
        data[100] = np.nan
        sf.write(audio / "nan.wav", data, 48000, subtype="FLOAT")
        return "nan.wav"
    if kind == "one hertz":
        sf.write(audio / "slow.wav", np.zeros((48000, 1), np.float32), 1, subtype="FLOAT")
        return "slow.wav"
    if kind == "text":
        (audio / "text.wav").write_text("hello")
        return "text.wav"
    if kind == "folder":
        (audio / "dir.wav").mkdir()
        return "dir.wav"
    return "missing.wav"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("nan", "not numbers (NaN or infinite)"),
        ("one hertz", "a sample rate of 1 Hz is outside"),
        ("text", "cannot read audio"),
        ("folder", "is a folder, not an audio file"),
        ("missing", "audio file not found"),
    ],
)
def test_a_bad_clip_is_one_line_naming_it(tmp_path: Path, capsys, kind: str, message: str) -> None:
    name = write_bad(tmp_path, kind)
    path = song_with_clip(tmp_path, name)
    out = tmp_path / "out.wav"
    assert main(["bounce", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and name in err and str(path) in err and err.count("\n") == 1
    assert not out.exists()


def test_a_mono_clip_at_another_rate_plays_on_both_sides(tmp_path: Path) -> None:
    path = song_with_clip(tmp_path, "mono.wav")
    tone = (0.5 * np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100)).astype(np.float32)
    sf.write(tmp_path / "audio/mono.wav", tone, 44100, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert main(["bounce", str(path), "-o", str(out), "--bits", "32f"]) == 0
    mix, rate = sf.read(out, dtype="float32")
    assert rate == 48000
    assert np.array_equal(mix[:, 0], mix[:, 1])
    assert abs(float(np.abs(mix[:48000]).max()) - 0.5) < 0.01
    # the length a second has at 48 kHz: resampled, not played fast
    assert np.abs(mix[47000:47900]).max() > 0.4 and np.abs(mix[48100:]).max(initial=0) < 0.01
