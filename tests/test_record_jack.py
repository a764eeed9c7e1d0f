"""The hardware round trip with real parts: `tracker record` plays a MIDI track to FluidSynth
through JACK (jack_midi_dump listening on the same wire), records FluidSynth's audio back
through sounddevice, measures the latency with a test note, and writes a take whose onsets sit
at the notes' times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.jack import (
    FluidSynth,
    MidiDump,
    jack_connect,
    jack_disconnect,
    jack_ports,
    jack_server,
    wait_for,
)
from tracker.cli import main
from tracker.dsp.onsets import onset_frames
from tracker.engine.timeline import song_tempo_map
from tracker.model.serialize import load_song, save_song
from tracker.model.song import NoteCell, Pattern, Song, Track, TrackKind

# A piano's attack reaches the onset level later the lower the note (docs in dsp/onsets.py:
# 3.1 ms after the note-on at C4, 3.7 ms at C5, 5.8 ms at C3). The latency is measured with
# C4 test notes, so the take is judged on notes from C4 to C5: what is left is our timing.
PITCHES = [60, 64, 67, 72, 71, 62, 69, 65]
VELOCITIES = [100, 90, 110, 80, 120, 100, 95, 105]


def piano_song(port: str) -> Song:
    """Eight piano notes half a second apart (120 BPM, a note every 4 rows), on channel 3."""
    track = Track("Synth", kind=TrackKind.MIDI, port=port, channel=3, program=0)
    song = Song(bpm=120.0, tracks=[track])
    pattern = Pattern(32)
    for i, (pitch, velocity) in enumerate(zip(PITCHES, VELOCITIES, strict=True)):
        pattern.set_note(0, i * 4, 0, NoteCell(pitch, velocity=velocity))
        pattern.set_note(0, i * 4 + 2, 0, NoteCell(-1))  # OFF
    song.patterns[0] = pattern
    song.order = [0]
    return song


def our_midi_port(env: dict[str, str], destination: str) -> str | None:
    """Our output port wired to `destination` (jack_lsp -c lists a port, then its peers)."""
    current = None
    for line in jack_ports(env, "-c"):
        if not line.startswith(" "):
            current = line
        elif line.strip() == destination and current and current.startswith("tracker"):
            return current
    return None


ATTEMPTS = 3


def test_record_a_synth_back_with_its_latency_taken_off(tmp_path: Path) -> None:
    takes_within_2ms(tmp_path, "record")


def test_freezing_a_midi_track_records_its_synth_and_plays_that(tmp_path: Path) -> None:
    folder = takes_within_2ms(tmp_path, "freeze")
    song = load_song(folder / "take.song")
    assert song.tracks[0].frozen == "audio/01-Synth.freeze.wav"
    assert song.tracks[0].kind is TrackKind.MIDI  # its notes and port are kept
    # Offline, the frozen MIDI track is heard: the bounce is its recording (0 dB, centre).
    mix = folder / "mix.wav"
    assert main(["bounce", str(folder / "take.song"), "-o", str(mix), "--bits", "32f"]) == 0
    bounced, _ = sf.read(mix, dtype="float32")
    frozen, _ = sf.read(folder / "audio/01-Synth.freeze.wav", dtype="float32")
    frames = min(len(bounced), len(frozen))
    assert np.abs(bounced[:frames] - frozen[:frames]).max() <= 10 ** (-90 / 20)
    assert np.abs(bounced).max() > 0.01


def takes_within_2ms(tmp_path: Path, command: str) -> Path:
    """Make takes with `tracker record` or `tracker freeze` until one holds every onset within
    2 ms; return the folder of the last.

    The dummy driver keeps time only while the machine keeps up: a cycle it misses under load
    moves everything after it (see docs/DESIGN.md). A take whose onsets stray is made again,
    up to ATTEMPTS times, each measuring the latency afresh; every take is printed.
    """
    takes = []
    for attempt in range(ATTEMPTS):
        folder = tmp_path / f"take{attempt}"
        errors_ms = record_take(folder, command)
        takes.append([round(e, 3) for e in errors_ms])
        if max(abs(e) for e in errors_ms) <= 2.0:
            break
    print(takes)
    assert max(abs(e) for e in takes[-1]) <= 2.0, takes
    return folder


def record_take(tmp_path: Path, command: str) -> list[float]:
    """One take through FluidSynth; the onsets' errors against the notes' times, ms."""
    tmp_path.mkdir()
    # JACK MIDI leaves at the start of a period: 64 frames (1.3 ms) keeps that well inside the
    # 2 ms the take must hold
    with jack_server(tmp_path, 64) as env:
        env = dict(env, TRACKER_STATE_DIR=str(tmp_path / "state"))
        synth = FluidSynth(env, tmp_path)
        dump = MidiDump(env, tmp_path, "tap")
        try:
            song = piano_song(synth.midi_in)
            path = tmp_path / "take.song"
            save_song(song, path)
            take = tmp_path / "take.wav"
            output = ["-o", str(take)]
            if command == "freeze":
                take = tmp_path / "audio/01-Synth.freeze.wav"
                output = []
            recorder = subprocess.Popen(
                [sys.executable, "-m", "tracker", command, str(path), "--track", "Synth",
                 "--input", "1-2", *output, "--midi-api", "jack", "--preroll", "2",
                 "--tail", "1"],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            first = recorder.stderr.readline()
            assert "recording" in first, first + recorder.stderr.read()
            # The "interface": FluidSynth's outputs into our inputs, in place of the dummy
            # driver's silent capture ports; and jack_midi_dump on our MIDI wire.
            inputs = sorted(p for p in jack_ports(env) if p.startswith("PortAudio") and ":in_" in p)
            assert len(inputs) == 2, jack_ports(env)
            for number, port in enumerate(inputs, 1):
                jack_disconnect(env, f"system:capture_{number}", port)
            for source, port in zip(sorted(synth.audio_out), inputs, strict=True):
                jack_connect(env, source, port)
            assert wait_for(lambda: our_midi_port(env, synth.midi_in) is not None, 5)
            jack_connect(env, our_midi_port(env, synth.midi_in) or "", dump.port)
            _, err = recorder.communicate(timeout=60)
            err = first + err
            assert recorder.returncode == 0, err
        finally:
            if recorder.poll() is None:
                recorder.kill()
            dump.close()
            synth.close()
    assert "measured round trip" in err, err

    # What went over the wire: the song's notes, channel 3, their pitches and velocities.
    received = dump.messages()
    ons = [(m.channel, m.data[1], m.data[2]) for m in received if m.is_note_on]
    assert ons[-len(PITCHES) :] == [(3, p, v) for p, v in zip(PITCHES, VELOCITIES, strict=True)]
    assert ons[: len(ons) - len(PITCHES)] == [(3, 60, 110)] * 5  # the test notes came first

    # What came back: one onset per note, at the note's time once the latency is taken off.
    audio, rate = sf.read(take, dtype="float32")
    found = onset_frames(audio, rate)
    tempo = song_tempo_map(song)
    expected = [round(tempo.seconds_at(i * 4 * song.ticks_per_line) * rate) for i in range(8)]
    assert len(found) == len(expected), (found, expected)
    return [(f - e) / rate * 1000 for f, e in zip(found, expected, strict=True)]
