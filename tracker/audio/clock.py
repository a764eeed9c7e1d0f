"""When a frame is heard: a map from an output's frame count to time.perf_counter_ns().

The output reports (frame, time) pairs as it consumes frames; MIDI sent for frame f then leaves
at `ns_at(f)`, in step with the audio. Reports from a device callback arrive late by however
long the thread took to wake, never early, so the map keeps the earliest line through recent
reports (the smallest offset): jitter drops out, while a real clock drift, a few ppm, is
followed as old reports age out of the window.
"""

from __future__ import annotations

from collections import deque

NS = 1_000_000_000


class FrameClock:
    def __init__(self, rate: int, window: int = 256) -> None:
        self.rate = rate
        # offset = ns - frame·1e9/rate for each recent report: single appends, read by others
        self._offsets: deque[float] = deque(maxlen=window)
        self._best: float | None = None
        self._since_best = 0

    def report(self, frame: int, ns: int) -> None:
        """Frame `frame` is heard at `ns` (the output's thread calls this)."""
        offset = ns - frame * NS / self.rate
        self._offsets.append(offset)
        self._since_best += 1
        if self._best is None or offset < self._best:
            self._best, self._since_best = offset, 0
        elif self._since_best >= (self._offsets.maxlen or 1):
            # the best report has left the window: find the best of the ones still in it
            self._best, self._since_best = min(self._offsets), 0

    def reset(self) -> None:
        """The output restarted (or stalled and resynced): forget the old line."""
        self._offsets.clear()
        self._best = None

    @property
    def ready(self) -> bool:
        return self._best is not None

    def frame_at(self, ns: int) -> float | None:
        """The frame heard at `ns` (None before any report)."""
        best = self._best
        return None if best is None else (ns - best) * self.rate / NS

    def ns_at(self, frame: int) -> int:
        """When `frame` is heard; before any report, as if frame 0 were now."""
        best = self._best
        if best is None:
            import time

            return time.perf_counter_ns() + round(frame * NS / self.rate)
        return round(best + frame * NS / self.rate)
