"""When did a recorded frame enter the input? Recorded frame numbers → time.perf_counter_ns.

The audio callback notes, for each buffer, the frame that ends it and the time it ran. A
callback can only run after its frames have entered (late, when the scheduler or the GIL
delays it; never early), and the frames before a buffer's end entered at least their
duration before it (a device can stall, never hurry). So each callback bounds from above the
time of every frame up to its end:

    time(f) ≤ callback_ns − latency − (end − f) · 1e9 / rate      for every end > f

and the estimate is the tightest of those bounds over the callbacks in the HORIZON after f:
the minimum of `callback_ns − latency − end · 1e9 / rate` over them, plus `f · 1e9 / rate`. Late
wake-ups only loosen bounds that a prompt callback then beats.

Why only callbacks after the frame: an earlier callback says nothing about a later frame when
the device's clock loses time. The dummy JACK driver does, whenever it misses a deadline under
load (it restarts its schedule from "now"), and a sound card's overflow drops input the same
way. Through FluidSynth on the dummy driver on a loaded 2-CPU machine, with the server losing
up to 100 ms of real time between notes sent 500 ms apart, the notes' latencies measured this
way came out 0–3 ms after their sending (FluidSynth's 64-frame blocks alone spread them by up
to 1.3 ms), where a lower envelope of the callbacks on both sides of a frame was 15 ms
early after one such loss.

What it costs: a device running faster than perf_counter (a crystal, by up to ~100 ppm) makes
the bound from a callback `d` seconds on too early by `d · 1e-4`, so the horizon is kept short
(0.25 s: at most 25 µs). A stall inside a buffer is charged to the frames before it: their
times come out late by up to the stall, so smaller blocks give a finer clock. The last 0.25 s
of a recording have fewer callbacks after them, so they are only as exact as those were prompt:
record a little past what is needed. Frames not delivered yet carry on from the last one.
"""

from __future__ import annotations

import bisect

HORIZON_SECONDS = 0.25  # callbacks after a frame that bound its time …
HORIZON_BLOCKS = 8  # … and at least this many of them, for large blocks
_EXTRA_CALLBACKS = 256  # slots beyond capacity / block: a host may deliver short buffers


class FrameClock:
    """Maps recorded frames to `time.perf_counter_ns()` from the callbacks' wake-up times.

    `note` runs in the audio callback: integer arithmetic and two list stores into lists
    allocated here, no locks.
    """

    def __init__(self, rate: int, capacity: int, block: int, latency_ns: int = 0) -> None:
        """Args:
        rate: frames per second.
        capacity: the most frames that will be noted.
        block: frames per callback (sizes the storage and the horizon).
        latency_ns: from a frame entering the input to it reaching the callback's buffer
            (PortAudio's input latency); a constant, so a wrong value only shifts all times.
        """
        self.rate = rate
        self.latency_ns = latency_ns
        slots = capacity // max(1, block) + _EXTRA_CALLBACKS
        self._end = [0] * slots  # the frame ending each buffer, ascending
        self._offset = [0] * slots  # callback time − latency − end · 1e9 / rate
        self._count = 0
        self._horizon = max(round(HORIZON_SECONDS * rate), HORIZON_BLOCKS * block)

    def note(self, frame: int, frames: int, callback_ns: int) -> None:
        """A buffer of `frames` frames, of which the first is recorded frame `frame`, reached
        the callback at `callback_ns`. Real-time safe."""
        count = self._count
        if count == len(self._end):
            return  # more callbacks than planned: the last ones go unused
        end = frame + frames
        self._end[count] = end
        self._offset[count] = callback_ns - self.latency_ns - end * 1_000_000_000 // self.rate
        self._count = count + 1  # last: a reader sees only complete entries

    def time_ns_of_frame(self, frame: int) -> int:
        """The perf_counter_ns at which recorded frame `frame` entered the input.

        Frames after the last callback are extrapolated from the last horizon's callbacks.

        Raises:
            RuntimeError: no callback has been noted yet.
        """
        count = self._count
        if count == 0:
            raise RuntimeError("no audio has been recorded yet")
        # Callbacks whose buffers hold `frame` or later ones: their `end` is past it (`end`
        # itself is the next buffer's first frame, which may come after a stall).
        first = bisect.bisect_right(self._end, frame, 0, count)
        if first == count:
            return self._after_the_last(frame)
        horizon_end = max(frame, self._end[first]) + self._horizon
        last = bisect.bisect_right(self._end, horizon_end, first, count)
        offset = min(self._offset[first:last])
        return offset + frame * 1_000_000_000 // self.rate

    def _after_the_last(self, frame: int) -> int:
        """A frame not delivered yet: the clock runs on as over the last horizon, but never
        before the last delivered frame (a stall in that horizon would put it there)."""
        count = self._count
        end = self._end[count - 1]
        first = bisect.bisect_left(self._end, end - self._horizon, 0, count)
        steady = min(self._offset[first:count]) + frame * 1_000_000_000 // self.rate
        last_frame = self.time_ns_of_frame(end - 1)
        return max(steady, last_frame + (frame - end + 1) * 1_000_000_000 // self.rate)
