"""Audio output: PortAudio through sounddevice (imported lazily), devices, silent fallbacks.

Knows frames, not songs: the live engine fills a FrameRing, a sink empties it.
"""

from __future__ import annotations

from tracker.audio.output import (
    AudioUnavailable,
    OutputDevice,
    SoundDeviceSink,
    find_output_device,
    list_output_devices,
    open_output,
)
from tracker.audio.ring import FrameRing
from tracker.audio.sinks import AudioSink, ClockSink, PullSink

__all__ = [
    "AudioSink",
    "AudioUnavailable",
    "ClockSink",
    "FrameRing",
    "OutputDevice",
    "PullSink",
    "SoundDeviceSink",
    "find_output_device",
    "list_output_devices",
    "open_output",
]
