"""Ticks to seconds and frames, exactly, through every tempo change.

Times are kept as Fractions so a long song with hundreds of tempo changes does not drift;
a frame index is the exact time rounded half up to the nearest frame.

A BPM arrives as a float; it is read as the simplest fraction within 1/2**24 of it, so 92.5 is
185/2 and a MIDI tempo of 461538 µs a beat is exactly 60000000/461538. Taking the float's own
binary fraction instead would make every segment start's denominator a product of powers of two
and grow without bound over a song with thousands of tempo changes (memory and time with it).
"""

from __future__ import annotations

import bisect
from fractions import Fraction

BPM_DENOMINATOR_LIMIT = 1 << 24  # MIDI tempos are 60e6 / (µs per beat ≤ 0xFFFFFF)
MAX_START_DENOMINATOR = 1 << 128  # past this a segment start is rounded to 2**-64 s


def exact_bpm(bpm: float) -> Fraction:
    """The tempo as the fraction the float stands for (see the module's docstring)."""
    return Fraction(bpm).limit_denominator(BPM_DENOMINATOR_LIMIT)


class TempoMap:
    """Piecewise-constant tempo over ticks. Changes are appended in tick order (as the
    sequencer emits them), so live playback can extend the map while it plays."""

    def __init__(self, bpm: float, ticks_per_beat: int) -> None:
        self.ticks_per_beat = ticks_per_beat
        self._ticks: list[int] = [0]
        self._starts: list[Fraction] = [Fraction(0)]  # seconds at each change
        self._seconds_per_tick: list[Fraction] = [self._spt(bpm)]
        # Per sample rate, per segment: integers (N0, M, Q) with frame time = (N0 + dt·M) / Q.
        # Exact like the Fractions, but a frame costs a few integer operations, not a Fraction.
        self._frame_terms: dict[int, list[tuple[int, int, int]]] = {}

    def _spt(self, bpm: float) -> Fraction:
        return Fraction(60) / (exact_bpm(bpm) * self.ticks_per_beat)

    def set_tempo(self, tick: int, bpm: float) -> None:
        """Change the tempo from `tick` on; `tick` must not precede the last change."""
        last = self._ticks[-1]
        if tick < last:
            raise ValueError(f"tempo change at tick {tick} before the last one at {last}")
        if tick == last:
            self._seconds_per_tick[-1] = self._spt(bpm)
            for terms in self._frame_terms.values():
                del terms[len(self._ticks) - 1 :]
            return
        start = self._starts[-1] + (tick - last) * self._seconds_per_tick[-1]
        if start.denominator > MAX_START_DENOMINATOR:
            # Only many unrelated fractional tempos get here; 2**-64 s is far below a sample.
            start = Fraction(round(start * (1 << 64)), 1 << 64)
        self._ticks.append(tick)
        self._starts.append(start)
        self._seconds_per_tick.append(self._spt(bpm))

    def exact_seconds(self, tick: int) -> Fraction:
        i = bisect.bisect_right(self._ticks, tick) - 1
        i = max(i, 0)
        return self._starts[i] + (tick - self._ticks[i]) * self._seconds_per_tick[i]

    def seconds_at(self, tick: int) -> float:
        return float(self.exact_seconds(tick))

    def frame_at(self, tick: int, rate: int) -> int:
        """The frame an event at `tick` starts on: exact time × rate, rounded half up."""
        i = max(bisect.bisect_right(self._ticks, tick) - 1, 0)
        terms = self._frame_terms.setdefault(rate, [])
        while len(terms) <= i:
            j = len(terms)
            start = self._starts[j] * rate
            step = self._seconds_per_tick[j] * rate
            terms.append(
                (
                    start.numerator * step.denominator,
                    step.numerator * start.denominator,
                    start.denominator * step.denominator,
                )
            )
        base, per_tick, denominator = terms[i]
        numerator = base + (tick - self._ticks[i]) * per_tick
        return (numerator * 2 + denominator) // (denominator * 2)

    def tick_at_seconds(self, seconds: float) -> float:
        """The (fractional) tick at a time; the inverse of seconds_at, for display and import."""
        exact = Fraction(seconds)
        i = max(bisect.bisect_right(self._starts, exact) - 1, 0)
        return float(self._ticks[i] + (exact - self._starts[i]) / self._seconds_per_tick[i])
