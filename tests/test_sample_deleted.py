"""A sample file deleted while the song is open: what is loaded plays on (samples are read
once, before playing), an edit that builds a new mixer still plays, and a render after the
deletion fails with one line naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.test_live_transport import pull
from tracker.audio.sinks import PullSink
from tracker.cli import main
from tracker.live import Transport
from tracker.model.serialize import save_song
from tracker.model.song import EffectSpec, NoteCell, Pattern, Song, Track
from tracker.paths import instruments_dir


def keys_song(folder: Path) -> Path:
    """A song whose own keys preset (a sampler) reads samples from the song's folder."""
    (folder / "samples").mkdir()
    for name in ("c3", "c4", "c5"):
        for layer in ("soft", "loud"):
            sample = f"keys_{name}_{layer}.wav"
            shutil.copy(instruments_dir() / "samples" / sample, folder / "samples" / sample)
    text = (instruments_dir() / "keys.preset").read_text()
    (folder / "mykeys.preset").write_text(text.replace('name "Electric piano"', 'name "Mine"'))
    pattern = Pattern(16)
    for row in range(0, 16, 4):
        pattern.set_note(0, row, 0, NoteCell(60 + row // 4, velocity=100))
    song = Song(
        instruments={1: "mykeys"},
        tracks=[Track("Keys", instrument=1), Track("Other", instrument=1, mute=True)],
        patterns={0: pattern},
        order=[0],
    )
    path = folder / "keys.song"
    save_song(song, path)
    return path


def test_deleted_samples_play_on_until_the_song_is_loaded_again(tmp_path: Path, capsys) -> None:
    from tracker.model.serialize import load_song

    path = keys_song(tmp_path)
    song = load_song(path)
    sink = PullSink()
    live = Transport(song, search_dirs=[tmp_path], song_dir=tmp_path, output=sink)
    try:
        live.play(loop=True)
        before = pull(sink, 24000)
        shutil.rmtree(tmp_path / "samples")  # deleted while the song is open
        song.tracks[1].effects = [EffectSpec("filter", {})]  # a new mixer for this edit
        live.update(song, None)
        after = pull(sink, 96000)
        status = live.status()
    finally:
        live.close()
    assert np.abs(before).max() > 0.05 and np.abs(after[48000:]).max() > 0.05
    assert "error" not in status.audio
    assert main(["render", str(path), "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "keys_c" in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()
