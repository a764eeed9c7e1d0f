"""A single-producer, single-consumer ring of stereo float32 frames.

The engine thread writes rendered blocks; the audio callback reads them. Neither side locks:
each side only advances its own counter (`written` by the producer, `read` by the consumer),
and under CPython's GIL an int attribute assignment is atomic, so a side sees either the old
or the new count and never frames the other side has not finished with. The data is written
before `written` moves, and read before `read` moves.
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """A fixed-size ring of (frames × 2) float32, allocated once."""

    def __init__(self, capacity: int, channels: int = 2) -> None:
        self.capacity = capacity
        self._data = np.zeros((capacity, channels), dtype=np.float32)
        self.written = 0  # frames ever written (only the producer changes it)
        self.read = 0  # frames ever read or skipped (only the consumer changes it)

    def available(self) -> int:
        """Frames written and not yet read."""
        return self.written - self.read

    def space(self) -> int:
        return self.capacity - (self.written - self.read)

    def write(self, block: np.ndarray) -> None:
        """Append `block` (frames × 2); the caller made sure there is space()."""
        frames = len(block)
        if frames > self.space():
            raise ValueError(f"ring overflow: {frames} frames into {self.space()} free")
        start = self.written % self.capacity
        first = min(frames, self.capacity - start)
        self._data[start : start + first] = block[:first]
        if first < frames:
            self._data[: frames - first] = block[first:]
        self.written += frames

    def read_into(self, out: np.ndarray) -> bool:
        """Fill `out` with the oldest frames; zeros where there are none. False when starved.

        Real-time safe: numpy copies into memory that already exists, no locks, no logging.
        """
        frames = len(out)
        ready = min(frames, self.written - self.read)
        start = self.read % self.capacity
        first = min(ready, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if first < ready:
            out[first:ready] = self._data[: ready - first]
        if ready < frames:
            out[ready:] = 0.0
        self.read += ready
        return ready == frames

    def skip(self, frames: int) -> bool:
        """Consume frames without copying them (a sink with no device). False when starved."""
        ready = min(frames, self.written - self.read)
        self.read += ready
        return ready == frames
