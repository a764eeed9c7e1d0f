"""MIDI clock through a real JACK server: a jump sends stop, song position and continue; an
external clock's start and tempo are followed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.jack import MidiDump, jack_server
from tests.test_midi_play_jack import BPM, PERIOD, midi_song
from tracker.model.serialize import save_song

JUMPER = """
import sys, time
from tracker.live.midi_out import MidiSetup, song_routes
from tracker.live.transport import Transport
from tracker.audio.sinks import ClockSink
from tracker.model.serialize import load_song

song = load_song(sys.argv[1])
setup = MidiSetup("jack", song_routes(song), {sys.argv[2]: 0.0})
transport = Transport(song, output=ClockSink(48000, 512, "test"), midi=setup)
transport.play()
time.sleep(1.0)
transport.play(1, 8)  # order position 1, row 8: a jump while playing
time.sleep(1.0)
transport.stop()
time.sleep(0.3)
transport.close()
"""


def test_a_jump_sends_stop_song_position_continue(tmp_path: Path) -> None:
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "jumpdump")
        try:
            song = midi_song([dump.port])
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = subprocess.run(
                [sys.executable, "-c", JUMPER, str(path), dump.port],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert player.returncode == 0, player.stderr
        finally:
            dump.close()
    system = [m.data for m in dump.messages() if m.data[0] >= 0xF0 and m.data[0] != 0xF8]
    # pattern 1 starts at 16 rows = 16 sixteenths; row 8 of it is sixteenth 24
    assert system == [b"\xfa", b"\xfc", bytes([0xF2, 24, 0]), b"\xfb", b"\xfc"]


CLOCK_SENDER = """
import sys, time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="extclock")
out.open_virtual_port("out")
print("ready", flush=True)
sys.stdin.readline()
bpm, seconds = float(sys.argv[1]), float(sys.argv[2])
step = 60e9 / bpm / 24
start = time.perf_counter_ns()
for k in range(24):  # a beat of clock before Start, as gear sends it
    while time.perf_counter_ns() < start + k * step: time.sleep(0.0002)
    out.send_message([0xF8])
out.send_message([0xFA])
k = 24
while k * step < seconds * 1e9:
    while time.perf_counter_ns() < start + k * step: time.sleep(0.0002)
    out.send_message([0xF8])
    k += 1
out.send_message([0xFC])
time.sleep(0.5)
"""


def test_playing_follows_an_external_clock(tmp_path: Path) -> None:
    clock_bpm = 128.0
    with jack_server(tmp_path, PERIOD) as env:
        dump = MidiDump(env, tmp_path, "followdump")
        sender = subprocess.Popen(
            [sys.executable, "-c", CLOCK_SENDER, str(clock_bpm), "7"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sender.stdout.readline().strip() == "ready"
            song = midi_song([dump.port], rows=64, patterns=2)
            path = tmp_path / "midi.song"
            save_song(song, path)
            player = subprocess.Popen(
                [sys.executable, "-m", "tracker", "play", str(path), "--midi-api", "jack",
                 "--clock-in", "extclock", "--duration", "10"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            time.sleep(1.5)  # the player is listening before the clock starts
            sender.stdin.write("go\n")
            sender.stdin.flush()
            sender.wait(30)
            time.sleep(0.5)
            player.terminate()
            _, err = player.communicate(timeout=15)
            assert "following MIDI clock from extclock:out" in err, err
        finally:
            if sender.poll() is None:
                sender.kill()
            dump.close()
    ons = [m.frame for m in dump.messages() if m.is_note_on]
    assert len(ons) > 20
    # notes every other row (an eighth note): after the first two seconds of settling,
    # the slope of the note times is the clock's tempo
    settled = [f for f in ons if f - ons[0] > 2 * 48000]
    per_note = float(np.polyfit(np.arange(len(settled)), settled, 1)[0])
    followed = 60 * 48000 / (per_note * 2)
    assert abs(followed - clock_bpm) < 0.5, f"followed {followed:.2f} BPM, song at {BPM}"
