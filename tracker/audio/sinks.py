"""Where rendered frames go: the interface every output offers, and the two without a device.

A sink consumes frames from a FrameRing. A real-time sink (a sound card, or the silent clock
below) takes them at its own pace, and the transport keeps the ring filled from an engine
thread; a pull sink (tests, benchmarks) asks for frames and has them rendered on the spot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from tracker.audio.clock import FrameClock
from tracker.audio.ring import FrameRing

Produce = Callable[[int], None]  # make at least n frames available in the ring
# A starved output owes the frames it missed and drops them as they come (see ring.py), up to
# this much: past it, the stall was no hiccup (a suspended machine) and the timeline restarts.
MAX_OWED_SECONDS = 0.5


class AudioSink(Protocol):
    description: str  # for the status line: "JACK · 48000 Hz · 512", "no audio: …"
    ok: bool  # False: nothing is heard
    lost: bool  # the device went away while playing: this sink will not come back
    realtime: bool  # True: frames leave on a clock; the transport runs the engine thread
    clock: FrameClock  # when each frame is heard (MIDI out keeps in step with it)

    def start(self, ring: FrameRing, produce: Produce) -> None:
        """Begin consuming `ring`. Raises AudioUnavailable when the output cannot open."""

    def latency_frames(self) -> int:
        """Frames between handing a frame over and it being heard."""

    def underruns(self) -> int:
        """Blocks the output played short: the device's own under-runs plus a starved ring."""

    def close(self) -> None: ...


def consume(
    ring: FrameRing, clock: FrameClock, heard_ns: int, frames: int, out: np.ndarray | None = None
) -> bool:
    """An output's turn: say when the timeline's next frame is heard, then take `frames` from
    the ring (into `out`, or dropped when there is none). False when the ring was starved.
    Real-time safe: it runs in the audio callback."""
    if ring.forgive_beyond(round(clock.rate * MAX_OWED_SECONDS)):
        clock.reset()  # the timeline moved back: the old line is wrong from here on
    clock.report(ring.position, heard_ns)  # (so the clock is never left without a line)
    return ring.skip(frames) if out is None else ring.read_into(out)


class ClockSink:
    """No device: a thread takes a block from the ring every block period and drops it, so the
    playhead moves at the real rate and the transport behaves as with sound."""

    realtime = True
    ok = False
    lost = False

    def __init__(self, rate: int, block: int, reason: str) -> None:
        self.rate = rate
        self.block = block
        self.description = f"no audio: {reason}"
        self.clock = FrameClock(rate)
        self._starved = 0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, ring: FrameRing, produce: Produce) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(ring,), name="tracker-silent-clock", daemon=True
        )
        self._thread.start()

    def _run(self, ring: FrameRing) -> None:
        # Due times count whole periods from one start, in integer ns: no drift, and the
        # frame clock they report is exact.
        started = time.perf_counter_ns()
        periods = 0
        while not self._halt.is_set():
            periods += 1
            due = started + periods * self.block * 1_000_000_000 // self.rate
            delay = due - time.perf_counter_ns()
            if delay > 0:
                self._halt.wait(delay / 1e9)
            elif delay < -500_000_000:
                # suspended for a while: carry on from now, don't burst
                started, periods = time.perf_counter_ns(), 0
                due = started
                self.clock.reset()
            if not consume(ring, self.clock, due, self.block):
                self._starved += 1

    def latency_frames(self) -> int:
        return 0

    def underruns(self) -> int:
        # Nothing is heard, so nothing can drop out: the bar's "Xruns" counts audible gaps.
        # (`starved` still tells a test or bench whether the engine kept up with the clock.)
        return 0

    @property
    def starved(self) -> int:
        return self._starved

    def close(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class PullSink:
    """A sink driven by its caller: `pull(n)` renders and returns the next n frames at once.

    Tests and benchmarks use it to hear exactly what a device would, with no clock and no
    threads; a UI test can pass one to keep the playhead still.
    """

    realtime = False
    ok = True
    lost = False

    def __init__(self, rate: int = 48000) -> None:
        self.description = f"pull · {rate} Hz"
        self.clock = FrameClock(rate)
        self._ring: FrameRing | None = None
        self._produce: Produce | None = None

    def start(self, ring: FrameRing, produce: Produce) -> None:
        self._ring = ring
        self._produce = produce

    def pull(self, frames: int) -> np.ndarray:
        """The next `frames` frames (frames × 2 float32, a new array)."""
        if self._ring is None or self._produce is None:
            raise RuntimeError("the sink has not been started by a transport")
        out = np.empty((frames, 2), dtype=np.float32)
        step = max(self._ring.capacity // 2, 1)
        for start in range(0, frames, step):
            piece = out[start : start + step]
            self._produce(len(piece))
            self._ring.read_into(piece)
        return out

    def latency_frames(self) -> int:
        return 0

    def underruns(self) -> int:
        return 0

    def close(self) -> None:
        self._ring = None
        self._produce = None
