"""`tracker play` through a real JACK server: what jack_midi_dump receives is the song, every
note ends (at the song's end, on ctrl-c, on SIGTERM, when the port dies), a lost port comes
back, and MIDI clock runs at the song's tempo.

The server runs 256-frame periods: at 32 frames a loaded two-core machine makes the dummy
driver miss cycles, and events of a missed cycle can be lost at the receiver. Timing at 32
frames is bench/midi_jitter.py's job.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.jack import (
    RATE,
    MidiDump,
    Received,
    jack_server,
    unmatched_notes,
    wait_for,
)
from tracker.engine.sequencer import sequence
from tracker.model.events import NoteOn
from tracker.model.serialize import save_song
from tracker.model.song import EffectCell, NoteCell, Pattern, Song, Track, TrackKind

BPM = 150.0
PERIOD = 256


def midi_song(ports: list[str], rows: int = 16, patterns: int = 2) -> Song:
    """Tracks on channels 3 and 10 (one per port given, round robin), a note on every other
    row with its own velocity, a controller and aftertouch on the first."""
    tracks = [
        Track(f"T{i}", kind=TrackKind.MIDI, port=port, channel=(3, 10)[i % 2], program=i + 5)
        for i, port in enumerate(ports)
    ]
    song = Song(bpm=BPM, tracks=tracks)
    for pattern_id in range(patterns):
        pattern = Pattern(rows)
        for track in range(len(tracks)):
            for row in range(0, rows, 2):
                pitch = 40 + track * 12 + row // 2
                pattern.set_note(
                    track, row, 0, NoteCell(pitch, velocity=min(20 + row * 3 + track, 127))
                )
            pattern.set_effect(track, 0, 0, EffectCell("C", 0x0740))
            pattern.set_effect(track, 1, 0, EffectCell("A", 0x33))
        song.patterns[pattern_id] = pattern
    song.order = list(range(patterns))
    return song


def play(env: dict[str, str], song_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "play", str(song_path), "--midi-api", "jack", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def note_ons(received: list[Received]) -> list[tuple[int, int, int]]:
    return [(m.channel, m.data[1], m.data[2]) for m in received if m.is_note_on]


def test_a_songs_notes_reach_the_receiver(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "dumpa")
        try:
            song = midi_song([dump.port, dump.port])
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = play(env, path)
            _, err = player.communicate(timeout=30)
            assert player.returncode == 0, err
        finally:
            dump.close()  # jack_midi_dump prints what it holds as it ends
        received = dump.messages()
    channels = [track.channel for track in song.tracks]
    expected = [
        (channels[e.track], e.pitch, e.velocity) for e in sequence(song) if isinstance(e, NoteOn)
    ]
    assert sorted(note_ons(received)) == sorted(expected)
    assert unmatched_notes(received) == []
    data = [m.data for m in received]
    # program at start, controller and aftertouch from the effect columns
    assert bytes([0xC2, 5]) in data and bytes([0xC9, 6]) in data
    assert bytes([0xB2, 7, 0x40]) in data and bytes([0xD9, 0x33]) in data
    # the notes come in the song's order, each track's spaced by two rows
    ons = [m for m in received if m.is_note_on and m.channel == 3]
    assert [m.data[1] for m in ons] == [40 + i % 8 for i in range(16)]
    two_rows = 2 * 60 / BPM / 4 * RATE
    gaps = [b.frame - a.frame for a, b in itertools.pairwise(ons)]
    assert all(abs(gap - two_rows) < 0.25 * two_rows for gap in gaps), gaps


def play_long_notes(env: dict[str, str], tmp_path: Path, dump: MidiDump) -> subprocess.Popen:
    """`tracker play --loop` of notes held over rows, to `dump`, once some of them sound."""
    song = midi_song([dump.port, dump.port])
    for pattern in song.patterns.values():  # long notes: some sound when the test ends it
        for track_rows in pattern.data.values():
            for row in list(track_rows):
                if row % 4 == 2:
                    del track_rows[row]
    path = tmp_path / "midi.song"
    save_song(song, path)
    player = play(env, path, "--loop")
    assert wait_for(lambda: len(note_ons(dump.messages())) >= 6, 15)
    time.sleep(0.13)
    return player


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_every_note_ends_after_a_signal(tmp_path: Path, stop_signal: int) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "dumpsig")
        try:
            player = play_long_notes(env, tmp_path, dump)
            player.send_signal(stop_signal)
            _, err = player.communicate(timeout=15)
            assert player.returncode == 130, err
            assert "Traceback" not in err
        finally:
            dump.close()  # jack_midi_dump prints what it holds as it ends
        received = dump.messages()
    assert len(note_ons(received)) >= 6
    assert unmatched_notes(received) == []
    # the panic: all notes off and all sound off on both channels used
    data = [m.data for m in received]
    for status in (0xB2, 0xB9):
        assert bytes([status, 123, 0]) in data and bytes([status, 120, 0]) in data


def test_every_note_ends_even_after_sigkill_of_the_player(tmp_path: Path) -> None:
    """SIGKILL gives the player no chance to send anything; its MIDI sender, a process of its
    own, sees the pipe from the player close and ends every note it sent."""
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "dumpkill")
        try:
            player = play_long_notes(env, tmp_path, dump)
            player.kill()
            player.communicate(timeout=15)
            assert wait_for(lambda: unmatched_notes(dump.messages()) == [], 10)
        finally:
            dump.close()
        received = dump.messages()
    assert len(note_ons(received)) >= 6
    assert unmatched_notes(received) == []


def test_a_port_that_dies_and_returns(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        steady = MidiDump(env, tmp_path, "steady")
        victim = MidiDump(env, tmp_path, "victim")
        comeback = None
        try:
            song = midi_song([steady.port, victim.port])
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = play(env, path, "--loop", "--duration", "6")
            assert wait_for(lambda: len(note_ons(victim.messages())) >= 3, 15)
            victim.kill()
            time.sleep(1.5)
            comeback = MidiDump(env, tmp_path, "victim")
            _, err = player.communicate(timeout=30)
            assert player.returncode == 0, err
        finally:
            steady.close()
            if comeback is not None:
                comeback.close()
        steady_received = steady.messages()
        back_received = comeback.messages()
    assert "MIDI port 'victim:input' lost" in err
    assert "MIDI port 'victim:input' is back" in err
    # The other track played on: no gap longer than its two-row note spacing.
    ons = [m.frame for m in steady_received if m.is_note_on]
    two_rows = 2 * 60 / BPM / 4 * RATE
    assert max(b - a for a, b in itertools.pairwise(ons)) < 1.25 * two_rows
    assert len(ons) > 6 / (two_rows / RATE) * 0.8
    # The returned port gets notes again, each of them ended.
    assert len(note_ons(back_received)) >= 4
    assert unmatched_notes(back_received) == []
    assert unmatched_notes(steady_received) == []


def test_an_unknown_port_is_one_line_listing_the_ports(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "dumpu")
        try:
            song = midi_song(["no such synth"])
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = play(env, path)
            _, err = player.communicate(timeout=30)
        finally:
            dump.close()
    assert player.returncode == 2
    assert err.strip().count("\n") == 0, err
    assert "'no such synth' matches no port" in err and "dumpu:input" in err


def test_clock_out_runs_at_the_song_tempo(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "clockdump")
        try:
            song = midi_song([dump.port], rows=32, patterns=2)
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = play(env, path, "--clock-out", "clockdump@-5")
            _, err = player.communicate(timeout=30)
            assert player.returncode == 0, err
        finally:
            dump.close()  # jack_midi_dump prints what it holds as it ends
        received = dump.messages()
    kinds = [m.data[0] for m in received if m.data[0] >= 0xF0]
    assert kinds[0] == 0xFA and kinds[-1] == 0xFC
    clocks = [m.frame for m in received if m.data[0] == 0xF8]
    beats = 2 * 32 / 4
    assert len(clocks) == beats * 24
    # the slope of a line through every clock: each one is rounded to the receiver's period
    per_clock = float(np.polyfit(np.arange(len(clocks)), clocks, 1)[0])
    assert abs(per_clock / (60 / BPM / 24 * RATE) - 1) < 0.001
