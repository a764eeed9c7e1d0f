"""The sound card: PortAudio through sounddevice, imported only when audio is first wanted.

A machine without PortAudio, without output devices, or with a device that will not open
still plays, silently, on a ClockSink; `AudioUnavailable` carries the reason shown to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter_ns
from types import ModuleType
from typing import Any

from tracker.audio.clock import FrameClock
from tracker.audio.ring import FrameRing
from tracker.audio.sinks import AudioSink, ClockSink, Produce, consume
from tracker.model.errors import TrackerError

SHORT_API_NAMES = {"JACK Audio Connection Kit": "JACK", "Windows WASAPI": "WASAPI"}


LOST_AFTER_NS = 1_500_000_000  # no callback for this long: the device is gone


class AudioUnavailable(TrackerError):
    """No sound: no PortAudio, no output device, or the device refused to open."""


@dataclass(frozen=True, slots=True)
class OutputDevice:
    index: int  # PortAudio's device number
    name: str
    api: str  # host API, short: "JACK", "ALSA", …
    channels: int
    default: bool

    def label(self) -> str:
        return f"{self.name} ({self.api}, {self.channels} out)"


def sounddevice_module() -> ModuleType:
    """Import sounddevice now. Raises AudioUnavailable when PortAudio is missing."""
    try:
        import sounddevice
    except OSError:  # sounddevice raises OSError when it cannot load libportaudio
        raise AudioUnavailable("PortAudio library not found") from None
    return sounddevice


def list_output_devices() -> list[OutputDevice]:
    """Every device that can play, in PortAudio's order. Raises AudioUnavailable."""
    sd = sounddevice_module()
    apis = [SHORT_API_NAMES.get(api["name"], api["name"]) for api in sd.query_hostapis()]
    default = _default_output_index(sd)
    return [
        OutputDevice(
            i, info["name"], apis[info["hostapi"]], info["max_output_channels"], i == default
        )
        for i, info in enumerate(sd.query_devices())
        if info["max_output_channels"] > 0
    ]


def _default_output_index(sd: ModuleType) -> int:
    try:
        return int(sd.query_devices(kind="output")["index"])
    except sd.PortAudioError:
        return -1


def find_output_device(name: str | None) -> OutputDevice:
    """The device called `name` exactly, else the one whose name contains it (any case);
    None: the default output (else the first one).

    Raises:
        TrackerError: `name` matches no device, or several; the message lists them.
        AudioUnavailable: no PortAudio, or no output device at all (with `name` None).
    """
    devices = list_output_devices()
    if name is None:
        for device in devices:
            if device.default:
                return device
        if devices:
            return devices[0]
        raise AudioUnavailable("no audio output device")
    exact = [d for d in devices if d.name == name]
    found = exact or [d for d in devices if name.lower() in d.name.lower()]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(d.label() for d in devices) or "none"
    problem = "matches several" if found else "matches no"
    raise TrackerError(f"audio device {name!r} {problem} output devices (devices: {listed})")


def open_output(rate: int, block: int, device: str | None = None) -> AudioSink:
    """The sink for `device` (see find_output_device), or a silent ClockSink saying why there
    is no sound. Raises TrackerError only for a device name that matches no single device."""
    try:
        return SoundDeviceSink(find_output_device(device), rate, block)
    except AudioUnavailable as exc:
        return ClockSink(rate, block, str(exc))


class SoundDeviceSink:
    """A PortAudio output stream whose callback only copies frames out of the ring."""

    realtime = True

    def __init__(self, device: OutputDevice, rate: int, block: int) -> None:
        self.device = device
        self.rate = rate
        self.block = block
        where = (
            device.api if device.name in ("system", "default") else f"{device.api} {device.name}"
        )
        self.description = f"{where} · {rate} Hz · {block}"
        self.ok = True
        self.clock = FrameClock(rate)
        self._stream: Any = None
        self._ring: FrameRing | None = None
        self._device_underflows = 0
        self._latency = 0.0
        self._starved = 0
        self._last_callback_ns = 0  # when the device last asked for sound (0: not yet)

    def start(self, ring: FrameRing, produce: Produce) -> None:
        """Open and start the stream. Raises AudioUnavailable when the device refuses."""
        sd = sounddevice_module()
        self._ring = ring
        try:
            self._stream = sd.OutputStream(
                samplerate=self.rate,
                blocksize=self.block,
                device=self.device.index,
                channels=2,
                dtype="float32",
                callback=self._callback,
            )
            self._latency = float(self._stream.latency)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self.close()
            self.ok = False
            raise AudioUnavailable(f"{self.device.name}: {exc}") from None

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        # Real-time: copy, count, return. No allocation beyond numpy views, no locks, no I/O.
        self._last_callback_ns = perf_counter_ns()
        if status.output_underflow:
            self._device_underflows += 1
        # This buffer's first frame is heard at its DAC time; PortAudio gives it on the
        # stream's clock, so only the distance from "now" carries over to perf_counter.
        ahead = time.outputBufferDacTime - time.currentTime
        if not 0.0 < ahead < 1.0:
            ahead = self._latency
        heard_ns = perf_counter_ns() + int(ahead * 1e9)
        if not consume(self._ring, self.clock, heard_ns, frames, outdata):  # type: ignore[arg-type]
            self._starved += 1

    @property
    def lost(self) -> bool:
        """The device stopped asking for sound (a JACK server killed, a card unplugged).

        PortAudio cannot be revived in this process then (its JACK client hangs on close and
        re-initialising fails), so the owner starts a new audio process instead.
        """
        last = self._last_callback_ns
        if self._stream is None or last == 0:
            return False
        silent = perf_counter_ns() - last > LOST_AFTER_NS
        if silent and self.ok:
            self.ok = False
            self.description = f"audio lost: {self.device.name} stopped asking for sound"
        return silent

    def latency_frames(self) -> int:
        if self._stream is None:
            return 0
        return round(float(self._stream.latency) * self.rate)

    def underruns(self) -> int:
        return self._device_underflows + self._starved

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and not self.ok:
            return  # a dead server's stream hangs on stop: the process will go instead
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()
