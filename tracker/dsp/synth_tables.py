"""Lookup tables the synth kernel reads: band-limited wavetables and filter coefficients.

Built once per sample rate with numpy (a few milliseconds) and shared by every instance.

Why wavetables rather than polyBLEP: a table lookup with linear interpolation is the same short,
branch-free code for every wave, so the per-sample loop stays small enough to keep two voices'
state in registers (see synth_kernel). Each wave is stored at several bandwidths ("levels", half
an octave apart); a voice reads the level whose harmonics all stay below the alias limit at its
current pitch, so nothing folds back into the audible band.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from tracker.dsp.synth_kernel import (
    AUDIBLE_HZ,
    FILTER_MIN_OCT,
    FILTER_STEPS_PER_OCT,
    LEVELS,
    TABLE_SIZE,
)


def level_top(level: int) -> float:
    """The highest phase increment (cycles per sample) a level serves."""
    return 0.5 * 2.0 ** (-level / 2.0)


def _harmonics(level: int, rate: int) -> int:
    """How many harmonics a level holds: the top one of its highest note stays below the
    alias limit (a partial above Nyquist at f folds to rate - f, inaudible if that is above
    AUDIBLE_HZ)."""
    limit_hz = max(rate / 2.0, rate - AUDIBLE_HZ)
    return max(1, min(TABLE_SIZE // 2 - 1, int(limit_hz / (level_top(level) * rate))))


def _row(amplitudes: np.ndarray) -> np.ndarray:
    """One cycle of sum(amplitudes[h] × sin(2 pi h t)), plus the guard sample."""
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
    spectrum[1 : len(amplitudes) + 1] = -0.5j * TABLE_SIZE * amplitudes
    cycle = np.fft.irfft(spectrum, TABLE_SIZE)
    return np.append(cycle, cycle[0])


@cache
def wavetables(rate: int) -> np.ndarray:
    """Saw, square, triangle (levels each) and sine rows, flat; every wave is 0 at phase 0.

    Saw (rising -1 → 1): -(2/pi) sum sin(2 pi h t) / h.
    Square (-1, then +1 from half a cycle): -(4/pi) sum over odd h of sin(2 pi h t) / h.
    Triangle (rising from 0): (8/pi²) sum over odd h of (-1)^((h-1)/2) sin(2 pi h t) / h².
    """
    amplitudes = {
        "saw": lambda h: -2.0 / np.pi / h,
        "square": lambda h: np.where(h % 2 == 1, -4.0 / np.pi / h, 0.0),
        "triangle": lambda h: np.where(
            h % 2 == 1, 8.0 / np.pi**2 * np.where((h // 2) % 2 == 0, 1.0, -1.0) / h**2, 0.0
        ),
    }
    rows = []
    for wave in ("saw", "square", "triangle"):
        for level in range(LEVELS):
            h = np.arange(1, _harmonics(level, rate) + 1, dtype=np.float64)
            rows.append(_row(amplitudes[wave](h)))
    rows.append(_row(np.ones(1)))
    table = np.concatenate(rows)
    table.setflags(write=False)
    return table


@cache
def filter_table(rate: int) -> np.ndarray:
    """tan(pi f / rate) for f from 16 Hz to 0.45 × rate, in 1/32-octave steps.

    Interpolating this table costs a few cycles, where tan() and exp2() per control update would
    cost more than the audio loop itself.
    """
    top = math.log2(0.45 * rate)
    steps = math.ceil((top - FILTER_MIN_OCT) * FILTER_STEPS_PER_OCT) + 1
    octaves = np.minimum(FILTER_MIN_OCT + np.arange(steps + 1) / FILTER_STEPS_PER_OCT, top)
    table = np.tan(np.pi * np.exp2(octaves) / rate)
    table.setflags(write=False)
    return table
