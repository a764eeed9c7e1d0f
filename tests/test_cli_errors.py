"""Bad input: one line on stderr naming the file (line:column for songs), exit 2, no traceback,
no half-written output, the original untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import pytest

from tests.builders import note, one_track_song
from tracker.model.serialize import dumps


def tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, cwd=cwd
    )


def good_song_text() -> str:
    return dumps(one_track_song({0: note("C-4", 0x64), 4: note("OFF")}, rows=8))


def replace_line(text: str, starts: str, new: str) -> str:
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(starts))
    lines[index] = new
    return "\n".join(lines)


def good_midi_bytes(tmp: Path) -> bytes:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    track = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=500000),
            mido.Message("note_on", note=60, velocity=100),
            mido.Message("note_off", note=60, time=96),
        ]
    )
    midi.tracks.append(track)
    path = tmp / "good.mid"
    midi.save(path)
    return path.read_bytes()


SONG_CASES = {
    "garbage bytes": lambda t: b"\x00\xff\xfe garbage \x89PNG\r\n",
    "invalid utf-8": lambda t: good_song_text().encode().replace(b"test", b"t\xffst"),
    "empty file": lambda t: b"",
    "truncated": lambda t: good_song_text().encode()[: len(good_song_text()) // 2],
    "future schema": lambda t: (
        good_song_text().replace("tracker-song 1", "tracker-song 99").encode()
    ),
    "unknown key": lambda t: replace_line(good_song_text(), "swing", "swang 50").encode(),
    "unknown note": lambda t: good_song_text().replace("C-4", "H-4", 1).encode(),
    "velocity out of range": lambda t: good_song_text().replace("C-4 .. 64", "C-4 .. FF").encode(),
    "absurd tempo": lambda t: replace_line(good_song_text(), "bpm", "bpm 100000").encode(),
    "nan tempo": lambda t: replace_line(good_song_text(), "bpm", "bpm nan").encode(),
    "order names a missing pattern": lambda t: replace_line(
        good_song_text(), "order", "order 0 7"
    ).encode(),
    "huge line": lambda t: replace_line(
        good_song_text(), "title", "title " + "x" * 300_000
    ).encode(),
    "unknown instrument preset": lambda t: replace_line(
        good_song_text(), "instrument 1", "instrument 1 no-such-preset"
    ).encode(),
}

MIDI_CASES = {
    "garbage .mid": lambda t: b"this is not a midi file at all",
    "empty .mid": lambda t: b"",
    "truncated header": lambda t: good_midi_bytes(t)[:10],
    "truncated track": lambda t: good_midi_bytes(t)[:-6],
    # A set_tempo meta event whose data stops after one byte (mido raises IndexError).
    "truncated set_tempo": lambda t: (
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60"
        b"MTrk\x00\x00\x00\x08\x00\xff\x51\x01\x07\x00\xff\x2f"
    ),
    "type 2": lambda t: good_midi_bytes(t)[:9] + b"\x02" + good_midi_bytes(t)[10:],
}


def assert_one_line_error(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]


@pytest.mark.parametrize("case", sorted(SONG_CASES))
def test_bad_song_file(tmp_path, case):
    song = tmp_path / "bad.song"
    original = SONG_CASES[case](tmp_path)
    song.write_bytes(original)
    result = tracker("render", str(song), "-o", "out.wav", cwd=tmp_path)
    assert_one_line_error(result, "bad.song")
    assert song.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.song"]  # no output, no temp file


def test_song_errors_give_line_and_column(tmp_path):
    song = tmp_path / "bad.song"
    song.write_text(good_song_text().replace("C-4", "H-4", 1))
    result = tracker("info", str(song), cwd=tmp_path)
    line = next(i for i, text in enumerate(song.read_text().split("\n"), 1) if "H-4" in text)
    assert f"bad.song:{line}:" in result.stderr
    assert "H-4" in result.stderr


@pytest.mark.parametrize("case", sorted(MIDI_CASES))
def test_bad_midi_file_never_touches_the_existing_song(tmp_path, case):
    midi = tmp_path / "bad.mid"
    midi.write_bytes(MIDI_CASES[case](tmp_path))
    song = tmp_path / "mine.song"
    song.write_text(good_song_text())
    before = sorted(p.name for p in tmp_path.iterdir())
    result = tracker("import", str(midi), "-o", str(song), "--force", cwd=tmp_path)
    assert_one_line_error(result, "bad.mid")
    assert song.read_text() == good_song_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    result = tracker("render", str(midi), "-o", "out.wav", cwd=tmp_path)
    assert_one_line_error(result, "bad.mid")
    assert not (tmp_path / "out.wav").exists()


def test_import_refuses_to_replace_a_song_without_force(tmp_path):
    (tmp_path / "good.mid").write_bytes(good_midi_bytes(tmp_path))
    song = tmp_path / "mine.song"
    song.write_text(good_song_text())
    result = tracker("import", "good.mid", "-o", "mine.song", cwd=tmp_path)
    assert_one_line_error(result, "mine.song")
    assert song.read_text() == good_song_text()


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["info", "missing.song"], "missing.song"),
        (["render", "ok.song", "-o", "out.wav", "--pattern", "9"], "pattern 9"),
        (["render", "ok.song", "-o", "out.wav", "--track", "Nope"], "Nope"),
        (["render", "ok.song", "-o", "ok.song"], "ok.song"),
        (["render", "ok.song", "-o", "no/such/dir/out.wav"], "out.wav"),
        (["render", "ok.song", "-o", "out.wav", "--stems", "ok.song"], "ok.song"),
        (["render", "ok.song", "-o", "."], "."),
    ],
)
def test_bad_arguments(tmp_path, args, name):
    (tmp_path / "ok.song").write_text(good_song_text())
    result = tracker(*args, cwd=tmp_path)
    assert_one_line_error(result, name)
    assert (tmp_path / "ok.song").read_text() == good_song_text()
    assert not (tmp_path / "out.wav").exists()


def test_bad_preset_beside_the_song_names_preset_and_line(tmp_path):
    (tmp_path / "instruments").mkdir()
    (tmp_path / "instruments" / "mine.preset").write_text("type synth\nwave saw\ncutoff loud\n")
    text = replace_line(good_song_text(), "instrument 1", "instrument 1 mine")
    (tmp_path / "ok.song").write_text(text)
    result = tracker("render", "ok.song", "-o", "out.wav", cwd=tmp_path)
    assert_one_line_error(result, "mine.preset:3")
    assert not (tmp_path / "out.wav").exists()


def test_import_cleans_names_a_song_file_cannot_hold(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name="Piano\x81 \x93lead\x94"),  # Windows-1252
                mido.Message("note_on", note=60, velocity=100),
                mido.Message("note_off", note=60, time=96),
            ]
        )
    )
    midi.save(tmp_path / "names.mid")
    result = tracker("import", "names.mid", "-o", "names.song", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert tracker("info", "names.song", cwd=tmp_path).returncode == 0


def test_import_never_writes_over_its_midi_file(tmp_path):
    midi = tmp_path / "in.mid"
    midi.write_bytes(good_midi_bytes(tmp_path))
    before = midi.read_bytes()
    result = tracker("import", "in.mid", "-o", "in.mid", "--force", cwd=tmp_path)
    assert_one_line_error(result, "in.mid")
    assert midi.read_bytes() == before


def test_a_full_disk_while_rendering_is_one_line_and_leaves_nothing(tmp_path):
    import resource

    def small_files() -> None:  # 200 kB: the demo's WAV does not fit
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = subprocess.run(
        [sys.executable, "-m", "tracker", "render", "-o", "big.wav", "--pattern", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        preexec_fn=small_files,
    )
    assert_one_line_error(result, "big.wav")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["-o", "stems/01-T.wav", "--stems", "stems"], "stems/01-T.wav"),
        (["-o", "out.wav", "--track", "Port"], "Port"),
    ],
)
def test_render_refusals(tmp_path, args, name):
    (tmp_path / "ok.song").write_text(good_song_text())
    from tracker.model.serialize import load_song, save_song
    from tracker.model.song import Track, TrackKind

    song = load_song(tmp_path / "ok.song")
    song.tracks.append(Track("Port", kind=TrackKind.MIDI, port="Synth"))
    save_song(song, tmp_path / "ok.song")
    result = tracker("render", "ok.song", *args, cwd=tmp_path)
    assert_one_line_error(result, name)
    assert not (tmp_path / "out.wav").exists()
    assert not (tmp_path / "stems").exists()


def test_a_preset_number_in_other_scripts_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "instruments").mkdir()
    sample = tmp_path / "instruments" / "s.wav"
    import numpy as np
    import soundfile as sf

    sf.write(sample, np.zeros(1000, dtype=np.float32) + 0.1, 48000)
    (tmp_path / "instruments" / "mine.preset").write_text(
        "type sampler\nsample s.wav root C-4 loop \u00b2 100\n"
    )
    text = replace_line(good_song_text(), "instrument 1", "instrument 1 mine")
    (tmp_path / "ok.song").write_text(text)
    result = tracker("render", "ok.song", "-o", "out.wav", cwd=tmp_path)
    assert_one_line_error(result, "mine.preset:2")


@pytest.mark.parametrize(
    "args", [["render"], ["render", "-o", "x.wav", "--bits", "12"], ["frobnicate"], []]
)
def test_usage_errors_are_one_line_too(tmp_path, args):
    result = tracker(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--help" in result.stderr
