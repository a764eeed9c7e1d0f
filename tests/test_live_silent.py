"""With no sound card the transport still plays: a clock moves the playhead, status says why."""

from __future__ import annotations

import time

from tracker.audio import output
from tracker.audio.output import AudioUnavailable
from tracker.live import Transport
from tracker.model.serialize import load_song
from tracker.paths import demo_song


def test_without_portaudio_the_playhead_still_moves(monkeypatch):
    def missing():
        raise AudioUnavailable("PortAudio library not found")

    monkeypatch.setattr(output, "sounddevice_module", missing)
    with Transport(load_song(demo_song())) as live:
        status = live.status()
        assert status.audio == "no audio: PortAudio library not found"
        assert not status.audio_ok and not status.playing
        live.play(row=2, loop=True)
        assert live.playing
        deadline = time.monotonic() + 10
        while live.status().row < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        status = live.status()
        assert status.playing and status.looping and status.row >= 4
        live.stop()
        assert not live.playing


def test_a_device_that_will_not_open_falls_back_to_silence(monkeypatch):
    class Refusing:
        realtime = True
        ok = True
        description = "refusing"

        def start(self, ring, produce):
            raise AudioUnavailable("hw:9: Device unavailable")

        def latency_frames(self):
            return 0

        def underruns(self):
            return 0

        def close(self):
            pass

    with Transport(load_song(demo_song()), output=Refusing()) as live:
        assert live.status().audio == "no audio: hw:9: Device unavailable"
        assert not live.status().audio_ok
