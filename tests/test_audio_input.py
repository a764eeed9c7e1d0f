"""Audio input without a sound card: channel lists, device choice, the recorder's callback and
clock with fake timings, note onsets in synthetic signals, and the stored latencies."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import numpy as np
import pytest

from tracker.audio import input as audio_input
from tracker.audio.frame_clock import FrameClock
from tracker.audio.input import InputDevice, InputRecorder, find_input_device, parse_channels
from tracker.audio.output import AudioUnavailable
from tracker.dsp.onsets import first_onset_after, onset_frames
from tracker.live.latency_store import LatencyStore, default_path
from tracker.model.errors import TrackerError

RATE = 48000
NS = 1_000_000_000

# --- channel lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "channels"),
    [("1,2", [1, 2]), ("1-2", [1, 2]), ("3", [3]), (" 1, 3-4 ", [1, 3, 4]), ("2-2", [2])],
)
def test_parse_channels(spec, channels):
    assert parse_channels(spec) == channels


@pytest.mark.parametrize("spec", ["", "0", "a", "1,", "2-1", "1,1", "1-2,2", "-1", "1..2", "1 2"])
def test_bad_channel_lists_are_one_line_errors(spec):
    with pytest.raises(TrackerError) as error:
        parse_channels(spec)
    assert "\n" not in str(error.value) and repr(spec) in str(error.value)


# --- devices --------------------------------------------------------------------------------

DEVICES = [
    InputDevice(0, "Scarlett 2i2 USB", "ALSA", 2, False),
    InputDevice(3, "system", "JACK", 2, True),
    InputDevice(5, "Scarlett 18i20 USB", "ALSA", 18, False),
]


@pytest.fixture
def devices(monkeypatch):
    listed = list(DEVICES)
    monkeypatch.setattr(audio_input, "list_input_devices", lambda: listed)
    return listed


def test_find_input_device_by_exact_name_substring_or_default(devices):
    assert find_input_device("system").index == 3
    assert find_input_device("18i20").index == 5
    assert find_input_device(None).index == 3


def test_find_input_device_errors_list_the_devices(devices):
    with pytest.raises(TrackerError, match="matches several input devices") as error:
        find_input_device("scarlett")
    assert "Scarlett 2i2 USB (ALSA, 2 in)" in str(error.value)
    with pytest.raises(TrackerError, match="matches no input devices"):
        find_input_device("MOTU")
    devices.clear()
    with pytest.raises(AudioUnavailable, match="no audio input device"):
        find_input_device(None)


# --- the recorder's callback, with a fake device and fake times -------------------------------


def make_recorder(monkeypatch, channels, max_seconds=1.0, block=512) -> InputRecorder:
    device = InputDevice(1, "fake", "JACK", 4, True)
    monkeypatch.setattr(audio_input, "find_input_device", lambda name: device)
    return InputRecorder(RATE, channels, None, max_seconds=max_seconds, block=block)


def status(overflow: bool = False) -> SimpleNamespace:
    return SimpleNamespace(input_overflow=overflow)


def feed(recorder: InputRecorder, total: int, block: int = 512, start_ns: int = 10 * NS) -> None:
    """Run the callback over `total` frames whose 4 input channels hold 1000·channel + frame."""
    frame = 0
    while frame < total:
        frames = min(block, total - frame)
        indata = np.empty((frames, 4), dtype=np.float32)
        for channel in range(4):
            indata[:, channel] = 1000 * (channel + 1) + np.arange(frame, frame + frames)
        end_ns = start_ns + (frame + frames) * NS // RATE
        recorder._now_ns = lambda end_ns=end_ns: end_ns + 40_000  # woke 40 µs after the buffer
        recorder._callback(indata, frames, None, status(overflow=frame == 1024))
        frame += frames


@pytest.mark.parametrize("channels", [[2, 4], [1, 2], [3]])
def test_the_callback_copies_the_chosen_channels(monkeypatch, channels):
    recorder = make_recorder(monkeypatch, channels)
    feed(recorder, 2000)
    take = recorder.stop()
    assert take.shape == (2000, len(channels)) and take.dtype == np.float32
    assert recorder.frames_recorded == 2000
    for column, channel in enumerate(channels):
        np.testing.assert_array_equal(take[:, column], 1000 * channel + np.arange(2000))
    assert recorder.overflows == 1
    np.testing.assert_array_equal(recorder.stop(), take)  # stop again: the same take


def test_frames_after_max_seconds_are_dropped_and_counted(monkeypatch):
    recorder = make_recorder(monkeypatch, [1], max_seconds=0.02)  # 960 frames
    feed(recorder, 2000)
    assert recorder.frames_recorded == 960
    assert recorder.frames_dropped == 2000 - 960
    np.testing.assert_array_equal(recorder.stop()[:, 0], 1000 + np.arange(960))


def test_the_recorder_clock_maps_frames_to_when_they_entered(monkeypatch):
    recorder = make_recorder(monkeypatch, [1, 2])
    with pytest.raises(RuntimeError):
        recorder.time_ns_of_frame(0)
    feed(recorder, 10 * 512, start_ns=5 * NS)
    for frame in (0, 700, 5119):
        expected = 5 * NS + frame * NS // RATE + 40_000
        assert abs(recorder.time_ns_of_frame(frame) - expected) < 1000


def test_a_channel_the_device_lacks_is_a_one_line_error(monkeypatch):
    with pytest.raises(TrackerError, match="input channel 5 does not exist: fake"):
        make_recorder(monkeypatch, [1, 5])
    with pytest.raises(TrackerError):
        make_recorder(monkeypatch, [0])


# --- the clock alone: late wake-ups and drift ------------------------------------------------


def simulate(
    clock: FrameClock, seconds: float, *, speed: float = 1.0, stalls: bool = False, seed: int = 0
) -> list[tuple[int, float]]:
    """Callbacks of 512 frames from a device whose frames enter at RATE · speed per second
    (frame 0 at 1 s), each waking 20 µs after its buffer plus a late wake-up: none for one in
    four, else exponential with a 3 ms mean, and 20 ms more for one in fifty (a garbage
    collection). With `stalls`, the device stops for 0.1–20 ms before one buffer in ten (the
    dummy JACK driver missing its deadline), and all later frames enter that much later.

    Returns the truth: (first frame, its time in seconds) of each stretch between stalls.
    """
    rng = np.random.default_rng(seed)
    stretches = [(0, 1.0)]
    for index in range(int(seconds * RATE / 512)):
        start, end = index * 512, (index + 1) * 512
        if stalls and rng.random() < 1 / 30:
            stretches.append((start, entered(stretches, start, speed) + rng.uniform(1e-4, 0.02)))
        late = 0.0 if rng.random() < 0.25 else rng.exponential(3e-3)
        if rng.random() < 0.02:
            late += 0.020
        wake = entered(stretches, end, speed) + 20e-6 + late
        clock.note(start, 512, round(wake * NS))
    return stretches


def entered(stretches: list[tuple[int, float]], frame: int, speed: float = 1.0) -> float:
    first, at = max((s for s in stretches if s[0] <= frame), default=stretches[0])
    return at + (frame - first) / (RATE * speed)


def truth_ns(stretches, frame: int, speed: float = 1.0) -> int:
    return round((entered(stretches, frame, speed) + 20e-6) * NS)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("speed", [1.0, 1.0001, 0.9999])
def test_the_clock_ignores_late_wakeups(speed, seed):
    # 1.0001 and 0.9999: a sound card's crystal against the system clock.
    clock = FrameClock(RATE, 20 * RATE, 512)
    truth = simulate(clock, 10.0, speed=speed, seed=seed)
    last = 10 * RATE // 512 * 512 - 1  # the last frame delivered
    frames = [-4800, *range(0, last - RATE // 4, 4801)]
    errors = [abs(clock.time_ns_of_frame(f) - truth_ns(truth, f, speed)) for f in frames]
    assert max(errors) < 100_000, max(errors)  # 0.1 ms
    # The last 0.25 s have fewer callbacks after them, and frames not delivered yet carry
    # on from the last one delivered: neither is early.
    for frame in (last - 1000, last, last + 4800):
        assert clock.time_ns_of_frame(frame) >= truth_ns(truth, frame, speed) - 30_000


def test_the_clock_never_runs_backwards():
    for seed in range(5):
        for stalls in (False, True):
            clock = FrameClock(RATE, 20 * RATE, 512)
            simulate(clock, 10.0, stalls=stalls, seed=seed)
            times = [clock.time_ns_of_frame(f) for f in range(-2000, 11 * RATE, 256)]
            assert all(b > a for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("seed", range(3))
def test_the_clock_follows_a_device_that_loses_time(seed):
    # Only callbacks after a frame bound its time: a minimum over callbacks on both sides
    # would put frames after a stall early by the stall (here up to 20 ms). A frame is late
    # only when no callback between it and the next stall woke promptly.
    clock = FrameClock(RATE, 20 * RATE, 512)
    truth = simulate(clock, 10.0, stalls=True, seed=seed)
    assert len(truth) > 20
    frames = [*range(0, int(9.5 * RATE), 479), *(s for s, _ in truth), *(s - 1 for s, _ in truth)]
    errors = np.array([clock.time_ns_of_frame(f) - truth_ns(truth, f) for f in frames])
    assert errors.min() > -1000  # never early
    assert np.mean(errors < 50_000) > 0.8


def test_an_empty_clock_says_so():
    with pytest.raises(RuntimeError, match="no audio"):
        FrameClock(RATE, RATE, 512).time_ns_of_frame(0)


# --- onsets -----------------------------------------------------------------------------


def burst(length: int, frequency: float, amplitude: float, decay: float, phase: float):
    """A struck tone: full amplitude at once, then an exponential decay (time constant s)."""
    t = np.arange(length) / RATE
    return amplitude * np.exp(-t / decay) * np.sin(2 * np.pi * frequency * t + phase)


def synthetic_take(starts, *, seconds=4.0, noise_db=-75.0, seed=1, decay=0.15):
    rng = np.random.default_rng(seed)
    signal = rng.normal(0.0, 10 ** (noise_db / 20), int(seconds * RATE))
    for number, start in enumerate(starts):
        frequency = [262.0, 440.0, 131.0, 1175.0][number % 4]
        amplitude = [0.5, 0.2, 0.8, 0.3][number % 4]
        phase = rng.uniform(0, 2 * np.pi)
        length = len(signal) - start
        signal[start:] += burst(length, frequency, amplitude, decay, phase)
    return signal


STARTS = [12_000, 40_311, 52_777, 80_000, 104_050, 150_001]
TOLERANCE = round(0.00025 * RATE)  # 0.25 ms


@pytest.mark.parametrize("seed", range(5))
def test_onsets_of_decaying_bursts_are_found_within_a_quarter_millisecond(seed):
    # Several start over the previous burst's tail (0.25–0.6 s later, decay 0.15 s).
    found = onset_frames(synthetic_take(STARTS, seed=seed), RATE)
    assert len(found) == len(STARTS), found
    for start, onset in zip(STARTS, found, strict=True):
        assert start <= onset <= start + TOLERANCE, (start, onset)


def test_onsets_in_noise_stereo_and_int_samples():
    mono = synthetic_take(STARTS, noise_db=-60.0, seed=7)
    stereo = np.stack([mono * 0.5, mono * 0.5], axis=1).astype(np.float32)
    for signal in (stereo, (mono * 20000).astype(np.int16)):
        found = onset_frames(signal, RATE)
        assert len(found) == len(STARTS)
        assert all(0 <= o - s <= TOLERANCE for s, o in zip(STARTS, found, strict=True))


def test_silence_and_noise_have_no_onsets():
    assert onset_frames(np.zeros(RATE), RATE) == []
    assert onset_frames(np.zeros((0, 2)), RATE) == []
    noise = np.random.default_rng(3).normal(0, 10 ** (-65 / 20), 5 * RATE)
    assert onset_frames(noise, RATE) == []


def test_quieter_than_the_threshold_is_not_a_note():
    signal = synthetic_take([24_000], noise_db=-100.0) * 10 ** (-60 / 20)
    assert onset_frames(signal, RATE) == []
    assert onset_frames(signal, RATE, threshold_db=-90.0) != []


def test_a_take_that_starts_inside_a_note_has_no_onset_at_its_start():
    signal = synthetic_take([0, 48_000], decay=0.2)[2400:]
    found = onset_frames(signal, RATE)
    assert len(found) == 1 and 0 <= found[0] - (48_000 - 2400) <= TOLERANCE


def test_min_gap_merges_notes_closer_than_it():
    signal = np.zeros(RATE)
    signal[24_000:] += burst(RATE - 24_000, 440.0, 0.01, 0.15, 0.0)
    signal[25_440:] += burst(RATE - 25_440, 262.0, 0.5, 0.15, 0.0)  # 30 ms later, louder
    close = onset_frames(signal, RATE, min_gap=0.02)
    assert len(close) == 2 and 0 <= close[1] - 25_440 <= TOLERANCE
    assert onset_frames(signal, RATE) == close[:1]  # min_gap 0.05


def test_first_onset_after():
    signal = synthetic_take(STARTS)
    assert first_onset_after(signal, RATE, 0) == onset_frames(signal, RATE)[0]
    second = first_onset_after(signal, RATE, STARTS[0] + 100)
    assert second is not None and 0 <= second - STARTS[1] <= TOLERANCE
    assert first_onset_after(signal, RATE, STARTS[-1] + 100) is None


# --- stored latencies --------------------------------------------------------------------


def test_latency_store_round_trip(tmp_path):
    path = tmp_path / "state" / "latency.json"
    store = LatencyStore(path)
    assert store.get("system", "fluidsynth:midi_00") is None
    store.put("system", "fluidsynth:midi_00", 0.0123)
    store.put("system", "Other port", 0.5)
    store.put("Scarlett", "fluidsynth:midi_00", 0.004)
    store.put("system", "fluidsynth:midi_00", 0.0125)
    again = LatencyStore(path)
    assert again.get("system", "fluidsynth:midi_00") == 0.0125
    assert again.get("system", "Other port") == 0.5
    assert again.get("Scarlett", "fluidsynth:midi_00") == 0.004
    assert again.get("Scarlett", "Other port") is None
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["latency.json"]  # no temporary left


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"version": 1, "latencies": []}', b'{"version": 9}'],
)
def test_an_unusable_file_reads_as_empty_and_is_set_aside_on_write(tmp_path, content):
    path = tmp_path / "latency.json"
    path.write_bytes(content)
    store = LatencyStore(path)
    assert store.get("system", "port") is None
    assert path.read_bytes() == content  # reading never touches it
    store.put("system", "port", 0.01)
    assert store.get("system", "port") == 0.01
    assert store.set_aside == tmp_path / "latency.json~"
    assert store.set_aside.read_bytes() == content
    path.write_bytes(content)
    store.put("system", "port", 0.02)  # an earlier spare is never overwritten
    assert store.set_aside == tmp_path / "latency.json~1"
    assert (tmp_path / "latency.json~").read_bytes() == content


def test_bad_entries_read_as_none_and_survive_other_writes(tmp_path):
    path = tmp_path / "latency.json"
    entries = {"a": {"p": {"seconds": "soon"}, "q": {"seconds": True}, "r": 3}}
    path.write_text(json.dumps({"version": 1, "latencies": entries}))
    store = LatencyStore(path)
    assert store.get("a", "p") is None and store.get("a", "q") is None
    assert store.get("a", "r") is None
    store.put("b", "p", 0.25)
    assert json.loads(path.read_text())["latencies"]["a"] == entries["a"]
    assert store.set_aside is None


def test_a_folder_that_cannot_be_written_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TrackerError, match="cannot write"):
        LatencyStore(blocker / "latency.json").put("a", "b", 0.01)


def test_latency_store_default_path(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "tracker" / "latency.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "state" / "tracker" / "latency.json"
    monkeypatch.setenv("TRACKER_STATE_DIR", str(tmp_path / "mine"))
    assert LatencyStore().path == tmp_path / "mine" / "latency.json"
    LatencyStore().put("system", "port", 0.007)
    assert LatencyStore(tmp_path / "mine" / "latency.json").get("system", "port") == 0.007
