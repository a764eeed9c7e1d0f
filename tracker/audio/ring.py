"""A single-producer, single-consumer ring of stereo float32 frames.

The engine thread writes rendered blocks; the audio callback reads them. Neither side locks:
each side only advances its own counter (`written` by the producer, `read` by the consumer),
and under CPython's GIL an int attribute assignment is atomic, so a side sees either the old
or the new count and never frames the other side has not finished with. The data is written
before `written` moves, and read before `read` moves.

A starved read plays silence and the timeline goes on: the frames it could not play are owed,
and paid back by dropping frames the engine has rendered beyond what the read needs, so the
sound catches up with where the song is (as a DAW's transport runs on through an x-run) and
MIDI, timed by the consumer's position, keeps its place instead of every later note moving by
the stall. Only surplus frames pay: a read never goes silent to pay a debt, so an engine that
only just keeps up (or falls behind) still plays, and its debt is forgiven (the consumer's
clock starting over) once it is past what is worth catching up.
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
        self.owed = 0  # frames played as silence, dropped when they come (only the consumer)

    def available(self) -> int:
        """Frames written and not yet read."""
        return self.written - self.read

    def ahead(self) -> int:
        """Frames written beyond the consumer's position (negative while it waits for owed
        ones): how far ahead the producer really is."""
        return self.written - self.read - self.owed

    @property
    def position(self) -> int:
        """The frame the consumer's timeline is at: read, plus the frames owed."""
        return self.read + self.owed

    def forgive_beyond(self, frames: int) -> bool:
        """Give up the frames owed when they are more than `frames` (a stall too long to
        catch up on: better late than a burst of everything missed); the timeline moves back
        to what was read. True when it did: the consumer's clock must start over. The
        consumer calls this."""
        if self.owed <= frames:
            return False
        self.owed = 0
        return True

    def _pay(self, frames: int) -> None:
        """Drop owed frames, but only those beyond the `frames` about to be read."""
        if self.owed:
            dropped = min(self.owed, max(self.written - self.read - frames, 0))
            self.owed -= dropped
            self.read += dropped

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
        self._pay(frames)
        ready = min(frames, self.written - self.read)
        start = self.read % self.capacity
        first = min(ready, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if first < ready:
            out[first:ready] = self._data[: ready - first]
        if ready < frames:
            out[ready:] = 0.0
        self.read += ready
        self.owed += frames - ready
        return ready == frames

    def skip(self, frames: int) -> bool:
        """Consume frames without copying them (a sink with no device). False when starved."""
        self._pay(frames)
        ready = min(frames, self.written - self.read)
        self.read += ready
        self.owed += frames - ready
        return ready == frames
