"""MIDI-in recording through a real JACK MIDI port: a keyboard (another JACK client) plays
while a pattern loops; the notes land on their rows, and each one is passed through to the
track's synth (jack_midi_dump) as it is played."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.jack import MidiDump, jack_server
from tests.test_midi_play_jack import PERIOD

SESSION = """
import json, sys, time, rtmidi
from tracker.audio.sinks import ClockSink
from tracker.live.midi_out import MidiSetup, Route
from tracker.live.midi_record import MidiRecorder
from tracker.live.transport import Transport
from tracker.model.recording import write_played
from tracker.model.song import Pattern, Song, Track, TrackKind

keyboard = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="keyboard")
keyboard.open_virtual_port("out")
song = Song(bpm=120.0, tracks=[Track("Keys", kind=TrackKind.MIDI, port=sys.argv[1], channel=2)])
song.patterns[0] = Pattern(16)
song.order = [0]
transport = Transport(song, output=ClockSink(48000, 512, "test"),
                      midi=MidiSetup("jack", {0: Route(sys.argv[1], 2)}))
recorder = MidiRecorder("jack", "keyboard", transport.tick_now,
                        thru=lambda pitch, velocity: transport.thru(0, pitch, velocity))
recorder.armed = True
transport.play(loop=True)

def at_row(row):  # wait until the row is heard (24 ticks a row), in the second pass
    while transport.tick_now() < 16 * 24 + row * 24:
        time.sleep(0.001)

at_row(4); keyboard.send_message([0x90, 60, 100])
at_row(6); keyboard.send_message([0x80, 60, 0])
at_row(8); keyboard.send_message([0x90, 64, 90]); keyboard.send_message([0x90, 67, 80])
at_row(12); keyboard.send_message([0x80, 64, 0]); keyboard.send_message([0x80, 67, 0])
time.sleep(0.1)
notes = recorder.take()
recorder.close()
transport.stop(); time.sleep(0.3); transport.close()
dropped = write_played(song, 0, 0, notes, fine=False)
cells = {row: [(c.note, c.velocity) if c else None for c in cell.notes]
         for row, cell in sorted(song.patterns[0].data[0].items())}
print(json.dumps({"dropped": dropped, "cells": cells}))
"""


def test_a_keyboard_is_recorded_into_the_pattern_and_heard(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "synth")
        try:
            session = subprocess.run(
                [sys.executable, "-c", SESSION, dump.port],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert session.returncode == 0, session.stderr
        finally:
            dump.close()
    result = json.loads(session.stdout.splitlines()[-1])
    assert result["dropped"] == 0
    cells = {int(row): notes for row, notes in result["cells"].items()}
    assert cells == {
        4: [[60, 100]],
        6: [[-1, None]],
        8: [[64, 90], [67, 80]],
        12: [[-1, None], [-1, None]],
    }
    # thru: each key reached the track's port on the track's channel as it was played
    played = [(m.data[0], m.data[1]) for m in dump.messages() if m.is_note_on or m.is_note_off]
    assert played == [(0x91, 60), (0x81, 60), (0x91, 64), (0x91, 67), (0x81, 64), (0x81, 67)]
