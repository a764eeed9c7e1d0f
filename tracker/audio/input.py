"""Recording from the sound card: input devices, channel lists, and a take recorder.

The recorder brings a hardware synth's audio back: its callback copies the chosen input
channels into a buffer allocated for the whole take, and notes when each buffer arrived, so
`time_ns_of_frame` says when a recorded frame entered the input on the time.perf_counter_ns
clock that MIDI output is timed against. sounddevice is imported only when a device is looked
up, as for output.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from tracker.audio.frame_clock import FrameClock
from tracker.audio.output import SHORT_API_NAMES, AudioUnavailable, sounddevice_module
from tracker.model.errors import TrackerError

_CHANNEL_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True, slots=True)
class InputDevice:
    index: int  # PortAudio's device number
    name: str
    api: str  # host API, short: "JACK", "ALSA", …
    channels: int
    default: bool

    def label(self) -> str:
        return f"{self.name} ({self.api}, {self.channels} in)"


def list_input_devices() -> list[InputDevice]:
    """Every device that can record, in PortAudio's order. Raises AudioUnavailable."""
    sd = sounddevice_module()
    apis = [SHORT_API_NAMES.get(api["name"], api["name"]) for api in sd.query_hostapis()]
    default = _default_input_index(sd)
    return [
        InputDevice(
            i, info["name"], apis[info["hostapi"]], info["max_input_channels"], i == default
        )
        for i, info in enumerate(sd.query_devices())
        if info["max_input_channels"] > 0
    ]


def _default_input_index(sd: ModuleType) -> int:
    try:
        return int(sd.query_devices(kind="input")["index"])
    except sd.PortAudioError:
        return -1


def find_input_device(name: str | None) -> InputDevice:
    """The input device called `name` exactly, else the one whose name contains it (any
    case); None: the default input (else the first one).

    Raises:
        TrackerError: `name` matches no device, or several; the message lists them.
        AudioUnavailable: no PortAudio, or no input device at all (with `name` None).
    """
    devices = list_input_devices()
    if name is None:
        for device in devices:
            if device.default:
                return device
        if devices:
            return devices[0]
        raise AudioUnavailable("no audio input device")
    exact = [d for d in devices if d.name == name]
    found = exact or [d for d in devices if name.lower() in d.name.lower()]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(d.label() for d in devices) or "none"
    problem = "matches several" if found else "matches no"
    raise TrackerError(f"audio device {name!r} {problem} input devices (devices: {listed})")


def parse_channels(spec: str) -> list[int]:
    """Input channel numbers, counted from 1, from "1,2", "1-2", "3" or "1,3-4".

    Raises:
        TrackerError: not such a list, a channel 0, a backwards range, or a repeat.
    """
    channels: list[int] = []
    for item in spec.split(","):
        match = _CHANNEL_ITEM.match(item)
        if not match:
            raise _bad_channels(spec)
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if first < 1 or last < first:
            raise _bad_channels(spec)
        channels.extend(range(first, last + 1))
    if len(set(channels)) != len(channels):
        raise _bad_channels(spec)
    return channels


def _bad_channels(spec: str) -> TrackerError:
    return TrackerError(
        f"bad input channels {spec!r}: give numbers from 1, like 1,2 or 1-2 or 3, each once"
    )


class InputRecorder:
    """Records input channels of one device into memory for up to `max_seconds`.

    One take per recorder: `start()`, then `stop()` returns what was recorded. The buffer for
    the whole take is allocated (and touched) at construction, so the callback only copies.
    """

    def __init__(
        self,
        rate: int,
        channels: Sequence[int],
        device: str | None = None,
        max_seconds: float = 600.0,
        block: int = 512,
    ) -> None:
        """Args:
        rate: frames per second to record at.
        channels: input channel numbers of the device, from 1 (see parse_channels).
        device: an input device name or part of one (see find_input_device); None: default.
        max_seconds: the longest take; frames after it are dropped and counted.
        block: frames per callback.

        Raises:
            TrackerError: no such device or channel, or a bad length.
            AudioUnavailable: no PortAudio, or no input device.
        """
        if not channels or min(channels) < 1:
            raise TrackerError(f"input channels must be numbers from 1, not {list(channels)}")
        if not (rate > 0 and block > 0 and max_seconds > 0):
            raise TrackerError("recording needs a positive rate, block and length")
        self.device = find_input_device(device)
        if max(channels) > self.device.channels:
            raise TrackerError(
                f"input channel {max(channels)} does not exist: {self.device.label()}"
            )
        self.rate = rate
        self.block = block
        self.channels = list(channels)
        self._columns = [c - 1 for c in channels]
        self._span = _as_slice(self._columns)
        self._capacity = math.ceil(max_seconds * rate)
        # np.empty then fill: the pages are really mapped now, not on first touch in the
        # callback (np.zeros may hand out lazily zeroed memory).
        self._buffer = np.empty((self._capacity, len(channels)), dtype=np.float32)
        self._buffer.fill(0.0)
        self._clock = FrameClock(rate, self._capacity, block)
        self._now_ns = time.perf_counter_ns  # a test may put a fake clock here
        self._frames = 0
        self._dropped = 0
        self._overflows = 0
        self._stream: Any = None
        self._started = False

    @property
    def frames_recorded(self) -> int:
        """Frames in the buffer so far (safe to read while recording)."""
        return self._frames

    @property
    def frames_dropped(self) -> int:
        """Frames that arrived after the buffer was full (`max_seconds`)."""
        return self._dropped

    @property
    def overflows(self) -> int:
        """Callbacks that reported input lost before it reached us (input overflow)."""
        return self._overflows

    @property
    def latency(self) -> float:
        """PortAudio's input latency in seconds (0 before start)."""
        return self._clock.latency_ns / 1e9

    def start(self) -> None:
        """Open the input and start recording.

        Raises:
            AudioUnavailable: the device refused to open.
            RuntimeError: this recorder has already been started.
        """
        if self._started:
            raise RuntimeError("an InputRecorder records one take; make a new one")
        self._started = True
        sd = sounddevice_module()
        try:
            self._stream = sd.InputStream(
                samplerate=self.rate,
                blocksize=self.block,
                device=self.device.index,
                channels=max(self.channels),  # PortAudio opens the first n; we keep ours
                dtype="float32",
                callback=self._callback,
            )
            self._clock.latency_ns = round(float(self._stream.latency) * 1e9)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._close_stream()
            raise AudioUnavailable(f"{self.device.name}: {exc}") from None

    def stop(self) -> np.ndarray:
        """Stop recording (if running) and return the take: frames × channels, float32, a
        copy of only what was recorded. Calling it again returns the same frames."""
        self._close_stream()
        return self._buffer[: self._frames].copy()

    def peek(self) -> np.ndarray:
        """What has been recorded so far, while recording goes on: a view, not a copy (the
        frames in it are final; the callback only writes after them)."""
        return self._buffer[: self._frames]

    def time_ns_of_frame(self, frame: int) -> int:
        """The time.perf_counter_ns() at which recorded frame `frame` entered the input.

        Bounded by the callbacks of the 0.25 s after the frame and as exact as the most
        prompt of them (see FrameClock): never early; late by what the device lost inside
        the frame's own buffer (smaller blocks give a finer clock), and in the last 0.25 s
        recorded by how late the few callbacks after it were (record a little past what is
        needed). Increases with `frame`; frames not recorded yet carry on from the last.

        Raises:
            RuntimeError: nothing has been recorded yet.
        """
        return self._clock.time_ns_of_frame(frame)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # Real-time: read the clock first, copy, count, return. No allocation beyond numpy
        # views and small ints, no locks, no I/O.
        now = self._now_ns()
        if status.input_overflow:
            self._overflows += 1
        start = self._frames
        self._clock.note(start, frames, now)
        count = min(frames, self._capacity - start)
        if count < frames:
            self._dropped += frames - count
        if count <= 0:
            return
        end = start + count
        if self._span is not None:
            self._buffer[start:end] = indata[:count, self._span]
        else:
            for column, source in enumerate(self._columns):
                self._buffer[start:end, column] = indata[:count, source]
        self._frames = end

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    def __enter__(self) -> InputRecorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._close_stream()


def _as_slice(columns: list[int]) -> slice | None:
    """Consecutive ascending columns as one slice (one copy per callback), else None."""
    if columns == list(range(columns[0], columns[0] + len(columns))):
        return slice(columns[0], columns[0] + len(columns))
    return None
