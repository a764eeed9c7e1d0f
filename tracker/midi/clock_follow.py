"""Following an external MIDI clock: real-time messages in, transport actions and tempo out.

Pure: the caller passes each message with its arrival time, so this runs the same under a port
callback and in tests. Tempo is the slope of a least-squares line through the last clocks'
timestamps, which averages out the ±1 ms a JACK period or USB frame adds to each message
(interval-to-interval estimates would swing by several BPM).

Choices the MIDI 1.0 spec leaves open:
- Song Position Pointer is honoured only while stopped. Gear sends it only then (the spec says
  so); mid-play it would contradict the clocks we are counting, so it is ignored.
- No tempo until MIN_TEMPO_CLOCKS clocks (one beat) are in the window: by then ±1 ms of jitter
  moves the estimate by about 0.1 BPM at 120 BPM, inside the 0.5 BPM contract; fewer clocks
  would show a wandering number.
- Position counts completed MIDI beats (the spec's "increment after every 6 clocks"), so it is
  where Continue would resume. Continue restarts the 6-clock phase at that position.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

CLOCKS_PER_BEAT = 24
CLOCKS_PER_MIDI_BEAT = 6  # a MIDI beat (SPP unit) is a 16th note
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
MIN_TEMPO_CLOCKS = CLOCKS_PER_BEAT
GAP_PERIODS = 4  # a silence this many clock periods long means the clock stopped
MAX_GAP_NS = 1_000_000_000  # below 2.5 BPM nobody is clocking; also covers a 1-clock window


@dataclass(frozen=True, slots=True)
class FollowStart:
    """Start playing from `position` (MIDI beats = 16ths) on the next clock."""

    position: int
    resume: bool  # True for Continue, False for Start


@dataclass(frozen=True, slots=True)
class FollowStop:
    """Stop playing; the position is kept for a later Continue."""


FollowAction = FollowStart | FollowStop


class ClockFollower:
    """Turns incoming MIDI real-time messages into transport actions and a smoothed tempo."""

    def __init__(self, window_clocks: int = 2 * CLOCKS_PER_BEAT) -> None:
        """Create a stopped follower at position 0 with no tempo.

        Args:
            window_clocks: How many recent clocks the tempo fit uses. Larger is steadier but
                follows a tempo change more slowly: a step is fully taken up after this many
                clocks (48 = 2 beats).

        Raises:
            ValueError: If `window_clocks` is below 2 (a line needs two points).
        """
        if window_clocks < 2:
            raise ValueError(f"window_clocks must be at least 2, not {window_clocks}")
        self._times: deque[int] = deque(maxlen=window_clocks)
        self._min_clocks = min(MIN_TEMPO_CLOCKS, window_clocks)
        self._bpm: float | None = None
        self._playing = False
        self._position = 0
        self._phase = 0  # clocks into the current MIDI beat
        self._clocks = 0

    @property
    def bpm(self) -> float | None:
        """Smoothed tempo; None until one beat of clocks (or the whole window) has arrived."""
        return self._bpm

    @property
    def playing(self) -> bool:
        """Whether the master is playing (between Start/Continue and Stop)."""
        return self._playing

    @property
    def position(self) -> int:
        """Song position in MIDI beats (16ths): set by SPP, advanced every 6 clocks in play."""
        return self._position

    def clocks_since_start(self) -> int:
        """Clocks received while playing since the last Start/Continue (the phase reference)."""
        return self._clocks

    def clocks_at(self, time_ns: int) -> float:
        """Clocks since the last Start/Continue at `time_ns`, between clocks too: read off the
        line fitted through the window, so one late clock does not jolt it."""
        times = self._times
        n = len(times)
        if not self._playing or n < self._min_clocks:
            return float(self._clocks)
        period = _slope(times)
        if period <= 0:
            return float(self._clocks)
        first = times[0]
        mean_t = sum(t - first for t in times) / n
        index = (time_ns - first - mean_t) / period + (n - 1) / 2
        return self._clocks - (n - 1) + index

    def feed(self, data: Sequence[int], time_ns: int) -> FollowAction | None:
        """Take one incoming message.

        Args:
            data: The raw bytes, e.g. [0xF8] or [0xF2, lsb, msb]. Anything other than clock,
                Start, Continue, Stop and a well-formed SPP is ignored.
            time_ns: When it arrived, on time.perf_counter_ns's clock.

        Returns:
            The transport action the message asks for, or None.
        """
        if not data:
            return None
        status = data[0]
        if status == CLOCK:
            self._clock(time_ns)
        elif status == START:
            return self._start(0, resume=False)
        elif status == CONTINUE and not self._playing:
            return self._start(self._position, resume=True)
        elif status == STOP and self._playing:
            self._playing = False
            return FollowStop()
        elif status == SONG_POSITION and not self._playing and len(data) >= 3:
            lsb, msb = data[1], data[2]
            if 0 <= lsb < 0x80 and 0 <= msb < 0x80:
                self._position, self._phase = lsb | msb << 7, 0
        return None

    def _start(self, position: int, *, resume: bool) -> FollowStart:
        # Start while playing restarts from the top, as a master re-syncing means it to.
        self._playing = True
        self._position, self._phase, self._clocks = position, 0, 0
        return FollowStart(position, resume)

    def _clock(self, time_ns: int) -> None:
        if self._playing:
            self._clocks += 1
            self._phase += 1
            if self._phase == CLOCKS_PER_MIDI_BEAT:
                self._position, self._phase = self._position + 1, 0
        times = self._times
        if times and self._is_gap(time_ns - times[-1]):
            # Fitting across a pause would report a tempo far slower than either side of it.
            times.clear()
            self._bpm = None
        times.append(time_ns)
        if len(times) >= self._min_clocks:
            period = _slope(times)
            self._bpm = 60e9 / (CLOCKS_PER_BEAT * period) if period > 0 else None

    def _is_gap(self, interval_ns: int) -> bool:
        times = self._times
        if interval_ns < 0 or interval_ns > MAX_GAP_NS:
            return True  # backwards: a different clock source; the fit would be nonsense
        if len(times) < 2:
            return False
        mean_period = (times[-1] - times[0]) / (len(times) - 1)
        return interval_ns > GAP_PERIODS * mean_period


def _slope(times: deque[int]) -> float:
    """Least-squares nanoseconds per clock for timestamps at clock indices 0, 1, 2, …"""
    n = len(times)
    first = times[0]  # offsets keep perf_counter_ns magnitudes out of the float arithmetic
    mean_i = (n - 1) / 2
    mean_t = sum(t - first for t in times) / n
    sxy = sum((i - mean_i) * (t - first - mean_t) for i, t in enumerate(times))
    return sxy / (n * (n * n - 1) / 12)  # Σ(i - mean_i)² for 0..n-1
