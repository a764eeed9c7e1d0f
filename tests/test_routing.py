"""Routing rules a musician relies on: solo in place through groups, a muted group's children
still feeding their returns, returns playing into the master, and a track's resample ending
when its sound does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.builders import note
from tracker.cli import main
from tracker.model.errors import SongFormatError
from tracker.model.serialize import load_song, loads, save_song
from tracker.model.song import EffectCell, EffectSpec, Pattern, Song, Track, TrackKind

SHORT = "type synth\nwave square\nattack 0\ndecay 0\nsustain 1\nrelease 0.01\n"


def routed_song(folder: Path) -> Path:
    """A (square) in group G, sending to return R (a delay, wet only); B straight out."""
    (folder / "short.preset").write_text(SHORT)
    pattern = Pattern(8)
    pattern.set_note(0, 0, 0, note("C-4", 100))
    pattern.set_effect(0, 0, 0, EffectCell("L", 24))
    pattern.set_note(1, 4, 0, note("E-4", 100))
    pattern.set_effect(1, 4, 0, EffectCell("L", 24))
    tracks = [
        Track("A", instrument=1, output="G", sends={"R": 0.0}),
        Track("B", instrument=1),
        Track("G", kind=TrackKind.GROUP),
        Track("R", kind=TrackKind.RETURN, effects=[EffectSpec("delay", {"mix": 1.0})]),
    ]
    song = Song(instruments={1: "short"}, tracks=tracks, patterns={0: pattern}, order=[0])
    path = folder / "routed.song"
    save_song(song, path)
    return path


def stems(path: Path, folder: Path) -> dict[str, float]:
    """Bounce with stems; each stem's peak by track name."""
    assert (
        main(["bounce", str(path), "-o", str(folder / "mix.wav"), "--stems", str(folder / "st")])
        == 0
    )
    found = {}
    for stem in (folder / "st").glob("*.wav"):
        data, _ = sf.read(stem, dtype="float32")
        found[stem.stem.split("-", 1)[1]] = float(np.abs(data).max())
        stem.unlink()
    return found


def test_soloing_a_group_brings_the_tracks_in_it(tmp_path: Path) -> None:
    path = routed_song(tmp_path)
    song = load_song(path)
    song.tracks[2].solo = True
    save_song(song, path)
    assert song.audible_tracks() == [0, 2, 3]  # A inside G, G, the return
    peaks = stems(path, tmp_path)
    assert peaks["G"] > 0.1 and peaks["R"] > 0.1 and "B" not in peaks


def test_a_muted_groups_tracks_still_feed_their_returns(tmp_path: Path) -> None:
    path = routed_song(tmp_path)
    song = load_song(path)
    song.tracks[2].mute = True
    save_song(song, path)
    peaks = stems(path, tmp_path)
    assert "G" not in peaks  # the group is silent
    assert peaks["R"] > 0.1  # A's send still reaches the return, as in a DAW
    assert peaks["B"] > 0.1


def test_a_return_takes_no_output_and_does_not_send() -> None:
    text = (
        'tracker-song 1\norder\n\ntrack "G"\n  kind group\n\n'
        'track "R"\n  kind return\n  output "G"\n'
    )
    with pytest.raises(SongFormatError, match="a return track plays into the master"):
        loads(text, "x.song")
    text = 'tracker-song 1\norder\n\ntrack "R"\n  kind return\n  send "R" -3\n'
    with pytest.raises(SongFormatError, match="a return track does not send"):
        loads(text, "x.song")


def test_a_tracks_resample_ends_with_its_sound(tmp_path: Path) -> None:
    # A note on the last row of a short song: the render's blocks shrink to the song's end and
    # then to the tail's; nothing of an earlier, longer block may come back in the tap.
    (tmp_path / "short.preset").write_text(SHORT)
    pattern = Pattern(6)
    pattern.set_note(0, 5, 0, note("C-4", 100))
    pattern.set_effect(0, 5, 0, EffectCell("L", 12))
    song = Song(bpm=75.0, instruments={1: "short"}, tracks=[Track("A", instrument=1)],
                patterns={0: pattern}, order=[0])  # fmt: skip
    path = tmp_path / "s.song"
    save_song(song, path)
    assert main(["bounce", str(path), "-o", str(tmp_path / "mix.wav"), "--bits", "32f"]) == 0
    assert main(["resample", str(path), "--source", "A"]) == 0
    mix, _ = sf.read(tmp_path / "mix.wav", dtype="float32")
    take, _ = sf.read(tmp_path / load_song(path).tracks[-1].clips[0].path, dtype="float32")
    assert len(take) < len(mix) + 2048  # not ten seconds of tail
    assert np.abs(take[len(mix) :]).max(initial=0.0) < 1e-5
    assert np.abs(take[: len(mix)] - mix).max() < 1e-6  # one track at 0 dB: the mix itself
