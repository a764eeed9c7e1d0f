"""The command line as a user runs it: render/bounce, import, export, info, progress bar."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from tracker.paths import demo_song


def tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, cwd=cwd
    )


def test_info_json_describes_the_demo(tmp_path):
    result = tracker("info", str(demo_song()), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["title"] == "Night Bus" and info["bpm"] == 124
    # 8 patterns of 64 rows at 4 rows a beat, 124 BPM
    assert info["length_seconds"] == pytest.approx(8 * 16 * 60 / 124)
    assert [(t["name"], t["kind"]) for t in info["tracks"]] == [
        ("Drums", "instrument"),
        ("Bass", "instrument"),
        ("Keys", "instrument"),
        ("Pad", "instrument"),
        ("Lead", "instrument"),
    ]
    assert [p["name"] for p in info["patterns"]] == ["Intro", "Groove", "Hook", "Break", "Outro"]


def test_info_for_people(tmp_path):
    result = tracker("info", str(demo_song()), cwd=tmp_path)
    assert result.returncode == 0
    assert "Night Bus — 124 BPM, 1:01.94" in result.stdout
    assert "pattern 3: Break, 64 rows" in result.stdout


def test_bounce_writes_the_mix_and_stems(tmp_path):
    result = tracker("bounce", "-o", "mix.wav", "--stems", "stems", "--bits", "16",
                     "--rate", "44100", "--pattern", "2", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote mix.wav" in result.stderr
    mix, rate = sf.read(tmp_path / "mix.wav")
    assert rate == 44100 and sf.info(tmp_path / "mix.wav").subtype == "PCM_16"
    stems = sorted((tmp_path / "stems").glob("*.wav"))
    assert len(stems) == 5
    total = sum(sf.read(s)[0] for s in stems)
    assert np.max(np.abs(total - mix)) < 5 * 2**-15  # five stems, each rounded to 16 bits


def test_import_export_round_trip_through_song_file(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(97))])
    notes = mido.MidiTrack([mido.Message("program_change", channel=2, program=33)])
    for i, pitch in enumerate([40, 43, 47, 52]):
        notes.append(mido.Message("note_on", channel=2, note=pitch, velocity=30 + i, time=7))
        notes.append(mido.Message("note_off", channel=2, note=pitch, time=233))
    midi.tracks += [conductor, notes]
    midi.save(tmp_path / "in.mid")
    assert tracker("import", "in.mid", "-o", "song.song", cwd=tmp_path).returncode == 0
    text = (tmp_path / "song.song").read_text()
    assert "instrument 1 bass" in text  # program 33 is a GM bass
    result = tracker("export", "song.song", "-o", "out.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    exported = mido.MidiFile(tmp_path / "out.mid")
    ons = [m for m in mido.merge_tracks(exported.tracks) if m.type == "note_on"]
    assert [(m.channel, m.note, m.velocity) for m in ons] == [
        (2, 40, 30),
        (2, 43, 31),
        (2, 47, 32),
        (2, 52, 33),
    ]
    assert exported.ticks_per_beat == 480


def test_progress_bar_only_on_a_terminal(tmp_path):
    command = [sys.executable, "-m", "tracker", "render", "-o", "a.wav", "--pattern", "0"]
    piped = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert "%" not in piped.stderr and "wrote a.wav" in piped.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stderr=follower, stdout=subprocess.DEVNULL, cwd=tmp_path)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait() == 0
    text = output.decode()
    assert "a.wav [" in text and "100.0%" in text and "#" * 30 in text


def test_python_dash_m_and_version(tmp_path):
    result = tracker("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("tracker ")
