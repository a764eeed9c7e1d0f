"""Recording a synth back through real parts: a JACK server (dummy driver), FluidSynth as the
hardware synth, notes sent to it over JACK MIDI with python-rtmidi, and the InputRecorder in a
process of its own (PortAudio reads JACK_DEFAULT_SERVER once, when it starts).

The property the product relies on: each note's onset, put on the perf_counter clock by the
recorder, lies the same time after the note was sent. Then one measured latency compensates
a whole take.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rtmidi

from tests.jack import (
    RATE,
    FluidSynth,
    PrivateFluidSynth,
    jack_connect,
    jack_disconnect,
    jack_ports,
    jack_server,
)

NOTES = 8
SPACING_NS = 500_000_000
LEAD_NS = 600_000_000  # recording before the first note: quiet, and callbacks around it
ATTEMPTS = 3
# The dummy driver loses real time when it misses a deadline (it restarts its schedule from
# "now"), often on a loaded machine. The recorder's clock follows that, but the bigger the
# loss between two notes, the more of it can fall inside a buffer; pairs of notes between
# which the server lost more than this are not judged.
STEADY_MS = 10.0
# FluidSynth starts a note on its next 64-frame block, so two notes' delays from sending can
# differ by up to one block unless the server's schedule kept the same phase to it.
SYNTH_BLOCK_MS = 64 / RATE * 1e3

RECORDER = """
import json, sys
import numpy as np
from tracker.audio.input import InputRecorder
from tracker.dsp.onsets import onset_frames

recorder = InputRecorder(48000, [1, 2], "system", max_seconds=30.0, block=128)
recorder.start()
print("ready", recorder.device.label(), flush=True)
sys.stdin.readline()  # the test has connected the synth and played its notes
take = recorder.stop()
np.save(sys.argv[1], take)
onsets = onset_frames(take, 48000)
print(json.dumps({
    "frames": recorder.frames_recorded,
    "overflows": recorder.overflows,
    "onsets": onsets,
    "times": [recorder.time_ns_of_frame(frame) for frame in onsets],
}), flush=True)
"""


@dataclass
class Take:
    """Notes sent (perf_counter_ns) and what the recorder made of them."""

    sent: list[int]
    frames: int
    overflows: int
    onsets: list[int]  # recorded frames
    times: list[int]  # their perf_counter_ns, by the recorder's clock

    def matched(self) -> list[tuple[int, int] | None]:
        """Per note sent, (onset frame, onset time) heard within 100 ms after it, or None."""
        found = []
        for sent in self.sent:
            heard = [
                (onset, at)
                for onset, at in zip(self.onsets, self.times, strict=True)
                if -2_000_000 < at - sent < 100_000_000
            ]
            found.append(heard[0] if heard else None)
        return found

    def latencies_ms(self) -> list[float | None]:
        return [
            None if heard is None else (heard[1] - sent) / 1e6
            for heard, sent in zip(self.matched(), self.sent, strict=True)
        ]

    def pairs(self) -> list[tuple[float, float]]:
        """For consecutive notes both heard: how much their onsets' spacing differs from the
        sending's, by the recorder's clock and in raw recorded frames (ms)."""
        matched = self.matched()
        pairs = []
        for i in range(len(self.sent) - 1):
            a, b = matched[i], matched[i + 1]
            if a is None or b is None:
                continue
            sent = self.sent[i + 1] - self.sent[i]
            pairs.append((((b[1] - a[1]) - sent) / 1e6, ((b[0] - a[0]) * 1e9 / RATE - sent) / 1e6))
        return pairs

    def judged(self) -> list[float]:
        """The clock's spacing errors of the pairs between which the server kept time."""
        return [clock for clock, raw in self.pairs() if abs(raw) < STEADY_MS]

    def problems(self) -> list[str]:
        """Why this take does not show the property; empty when it does."""
        latencies = self.latencies_ms()
        errors = [abs(error) for error in self.judged()]
        found = []
        if None in latencies:
            found.append("a note was not heard")
        if any(x is not None and not -2.0 < x < 100.0 for x in latencies):
            found.append("a latency is implausible")
        if len(errors) < 2:
            found.append("the server lost real time between all pairs of notes but one")
        elif max(errors) >= 1.0 + SYNTH_BLOCK_MS or sum(errors) / len(errors) >= 1.0:
            found.append("the onsets' spacing differs from the sending's")
        return found

    def describe(self) -> str:
        latencies = [None if x is None else round(x, 3) for x in self.latencies_ms()]
        clock = [round(c, 3) for c, _ in self.pairs()]
        raw = [round(r, 3) for _, r in self.pairs()]
        return (
            f"latencies ms {latencies}; spacing errors ms {clock} (raw frames {raw}); "
            f"overflows {self.overflows}"
        )


def send_at(midi: rtmidi.MidiOut, message: list[int], target_ns: int) -> int:
    """Send `message` at `target_ns` (sleep, then spin the last 2 ms); returns when it went."""
    while (remaining := target_ns - time.perf_counter_ns()) > 2_000_000:
        time.sleep((remaining - 2_000_000) / 1e9)
    while time.perf_counter_ns() < target_ns:
        pass
    before = time.perf_counter_ns()
    midi.send_message(message)
    return (before + time.perf_counter_ns()) // 2


def open_midi_out(port: str) -> rtmidi.MidiOut:
    midi = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="tester")  # never the server's name
    ports = midi.get_ports()
    assert port in ports, ports
    midi.open_port(ports.index(port), "out")
    return midi


def connected_to(env: dict[str, str], port: str) -> list[str]:
    listed = jack_ports(env, "-c", port)  # the port, then its connections indented
    return [line.strip() for line in listed if line.startswith((" ", "\t"))]


def connect_synth_to_recorder(env: dict[str, str], synth: FluidSynth) -> None:
    inputs = sorted(p for p in jack_ports(env) if p.startswith("PortAudio:in_"))
    assert len(inputs) == 2, jack_ports(env)
    for capture in ("system:capture_1", "system:capture_2"):
        for port in inputs:
            jack_disconnect(env, capture, port)
    for source, port in zip(synth.audio_out, inputs, strict=True):  # left, right
        jack_connect(env, source, port)
        assert connected_to(env, port) == [source]


def record_take(env: dict[str, str], synth: FluidSynth, midi: rtmidi.MidiOut, path: Path) -> Take:
    """Start a recorder, connect FluidSynth to it, play NOTES notes, return what it heard."""
    recorder = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(path)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = recorder.stdout.readline()
        assert ready.startswith("ready system (JACK, 2 in)"), ready + recorder.stderr.read()
        connect_synth_to_recorder(env, synth)
        first = time.perf_counter_ns() + LEAD_NS
        sent = []
        for number in range(NOTES):
            at = first + number * SPACING_NS
            sent.append(send_at(midi, [0x90, 60, 100], at))
            send_at(midi, [0x80, 60, 0], at + 300_000_000)
        time.sleep(1.0)
        recorder.stdin.write("stop\n")
        recorder.stdin.flush()
        report = json.loads(recorder.stdout.readline() or "null")
        recorder.wait(10)
        assert recorder.returncode == 0 and report, recorder.stderr.read()
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    recorded = np.load(path)
    assert recorded.shape == (report["frames"], 2) and recorded.dtype == np.float32
    assert report["frames"] > (LEAD_NS + NOTES * SPACING_NS) / 1e9 * RATE * 0.5
    return Take(sent, report["frames"], report["overflows"], report["onsets"], report["times"])


@pytest.mark.real
def test_the_round_trip_latency_is_measured_and_the_same_for_every_note(tmp_path, monkeypatch):
    # Timing through the dummy driver depends on the machine's load, so a take that does not
    # show the property is repeated, up to ATTEMPTS takes; every take's figures are printed.
    takes: list[Take] = []
    with jack_server(tmp_path, period=64) as env:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", env["JACK_DEFAULT_SERVER"])  # for rtmidi
        synth = PrivateFluidSynth(env, tmp_path)
        midi = None
        try:
            midi = open_midi_out(synth.midi_in)
            for attempt in range(ATTEMPTS):
                takes.append(record_take(env, synth, midi, tmp_path / f"take{attempt}.npy"))
                if not takes[-1].problems():
                    break
        finally:
            if midi is not None:
                midi.close_port()
            synth.close()

    summary = "\n".join(f"{take.describe()}; {take.problems()}" for take in takes)
    print(summary)
    assert not takes[-1].problems(), summary
