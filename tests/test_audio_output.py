"""The audio edge without hardware: the ring, device lookup, and the silent fallbacks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO
from tracker.audio import output
from tracker.audio.clock import FrameClock
from tracker.audio.output import AudioUnavailable, OutputDevice, find_output_device, open_output
from tracker.audio.ring import FrameRing
from tracker.audio.sinks import consume
from tracker.model.errors import TrackerError


def ramp(start: int, frames: int) -> np.ndarray:
    values = np.arange(start, start + frames, dtype=np.float32)
    return np.stack([values, -values], axis=1)


def test_ring_hands_frames_over_in_order_across_the_wrap():
    ring = FrameRing(1000)
    written = read = 0
    for size in [700, 333, 512, 999, 1]:
        while ring.space() < size:
            out = np.empty((min(ring.available(), 400), 2), np.float32)
            assert ring.read_into(out)
            assert np.array_equal(out, ramp(read, len(out)))
            read += len(out)
        ring.write(ramp(written, size))
        written += size
    out = np.empty((ring.available(), 2), np.float32)
    assert ring.read_into(out) and np.array_equal(out, ramp(read, len(out)))


def test_a_starved_ring_pads_with_zeros_and_says_so():
    ring = FrameRing(64)
    ring.write(ramp(1, 10))
    out = np.full((16, 2), 7.0, np.float32)
    assert not ring.read_into(out)
    assert np.array_equal(out[:10], ramp(1, 10)) and not np.any(out[10:])
    with pytest.raises(ValueError):
        ring.write(ramp(0, 65))


def test_after_a_stall_the_output_drops_what_came_late_and_plays_on_the_timeline():
    """The engine, two blocks ahead, stalls for four: two blocks are heard as silence, dropped
    when they come, and the next block is the one the timeline has reached (as a DAW plays on
    through an x-run)."""
    ring = FrameRing(4096)
    clock = FrameClock(48000)
    block, period_ns = 512, 512 * 1_000_000_000 // 48000
    heard: list[np.ndarray] = []
    written = 0
    for turn in range(12):
        if turn not in (4, 5, 6, 7):  # a stall: nothing written for four turns …
            while written < (turn + 3) * block:  # … then the engine catches up
                ring.write(ramp(written, block))
                written += block
        out = np.empty((block, 2), np.float32)
        fed = consume(ring, clock, turn * period_ns, block, out)
        assert fed == (turn not in (6, 7)), turn  # starved once the lead was spent
        heard.append(out[:, 0].copy())
    assert not np.any(heard[6]) and not np.any(heard[7])
    for turn in (0, 5, 8, 11):  # before and after: frame k·block at turn k
        assert heard[turn][0] == turn * block, turn
    assert ring.owed == 0 and ring.position == 12 * block
    # MIDI timed by this clock keeps its place: frame f is due where it was before the stall.
    assert clock.ns_at(11 * block) == 11 * period_ns


def test_a_stall_past_half_a_second_restarts_the_timeline_and_the_clock_goes_on_from_now():
    ring = FrameRing(4096)
    clock = FrameClock(48000)
    block, period_ns = 512, 512 * 1_000_000_000 // 48000
    ring.write(ramp(0, block))
    consume(ring, clock, 0, block)
    forgiven = 0
    for turn in range(1, 48000 // (2 * block) + 4):  # a little over half a second starved
        owed = ring.owed
        consume(ring, clock, turn * period_ns, block)
        if ring.owed < owed:
            forgiven += 1
            # MIDI converts frames to times at any moment: the clock places the timeline's
            # next frame at the next turn, never at "now + the song's length" as an empty
            # clock would.
            assert clock.ready
            assert abs(clock.ns_at(ring.position) - (turn + 1) * period_ns) <= period_ns
    assert forgiven == 1


def test_an_engine_slower_than_real_time_still_plays_what_it_makes():
    """Owed frames are paid only from frames beyond what a read needs: an engine at 95 % of
    real time is heard 95 % of the time (with gaps), never silenced to repay its debt."""
    ring = FrameRing(4096)
    clock = FrameClock(48000)
    block, period_ns = 512, 512 * 1_000_000_000 // 48000
    out = np.empty((block, 2), np.float32)
    written = heard = 0
    for turn in range(400):
        if turn % 20 != 19 and ring.space() >= block:  # 19 blocks in 20 turns
            ring.write(ramp(written, block) + 1)
            written += block
        consume(ring, clock, turn * period_ns, block, out)
        heard += int(np.count_nonzero(out[:, 0]))
    assert heard >= 0.9 * 400 * block


DEVICES = [
    OutputDevice(0, "system", "JACK", 2, True),
    OutputDevice(1, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, False),
    OutputDevice(2, "HDA Intel PCH: HDMI 0 (hw:0,3)", "ALSA", 8, False),
]


@pytest.fixture
def devices(monkeypatch):
    monkeypatch.setattr(output, "list_output_devices", lambda: list(DEVICES))


def test_devices_are_found_by_exact_name_or_unique_substring(devices):
    assert find_output_device("system").index == 0
    assert find_output_device("alc3246").index == 1
    assert find_output_device(None).index == 0


@pytest.mark.parametrize("name", ["hda intel", "nothing like it"])
def test_an_unknown_or_ambiguous_device_lists_the_devices(devices, name):
    with pytest.raises(TrackerError) as error:
        find_output_device(name)
    assert "system (JACK, 2 out)" in str(error.value) and "HDMI 0" in str(error.value)


def test_without_portaudio_the_output_is_a_silent_clock(monkeypatch):
    def missing():
        raise AudioUnavailable("PortAudio library not found")

    monkeypatch.setattr(output, "sounddevice_module", missing)
    sink = open_output(48000, 512)
    assert not sink.ok and sink.realtime
    assert sink.description == "no audio: PortAudio library not found"


def test_no_device_at_all_is_a_silent_clock(monkeypatch):
    monkeypatch.setattr(output, "list_output_devices", lambda: [])
    assert open_output(48000, 512).description == "no audio: no audio output device"


def test_live_and_audio_import_without_sounddevice():
    code = (
        "import sys, tracker.live, tracker.audio;"
        "assert 'sounddevice' not in sys.modules and 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
