"""Built-in audio effects: delay, reverb, filter and limiter, built by name from song-file params.

Design:

- One object per effect instance; `process(block)` works on a (frames, 2) float32 C-contiguous
  block in place. Every buffer (delay lines, reverb combs, scratch sized for `max_block`) is
  allocated in __init__, and the per-sample work runs in numba kernels (effects_kernel), so
  `process` allocates no arrays, takes no locks and does no I/O: it is safe in the audio
  callback.
- Block-size independence: kernels keep all state in the object's arrays and do nothing at
  block boundaries, so any split of a signal into blocks gives bit-identical output. Live
  playback and an offline render of the same song are then the same samples.
- Parameters are fixed when an effect is built (coefficients and buffer sizes follow from
  them); a change of settings builds a new effect. `EFFECT_KINDS` is the single table of kinds,
  parameter names, defaults and ranges: validation and documentation both read it.
- Dry/wet (delay, reverb): out = dry × (1 - mix) + wet × mix, a crossfade: mix 0 is the
  untouched input, mix 1 the effect alone (what a send/return bus wants).
- `tail_frames()` is a proven upper bound for any input within ±1 (0 dBFS), not a measurement:
  after the input goes silent, output stays below -120 dBFS (1e-6) from that many frames on.
  The reverb's bound assumes the worst case (a sustained full-scale input charging every comb):
  at max size it is 39 s at 44.1 kHz, where sustained full-scale DC, noise or a low sine
  measured 28-30 s and a single full-scale impulse 17 s.
- Times in milliseconds become frames with Python's round() (half to even), at least 1 frame
  for a delay.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from tracker.dsp import effects_kernel as kernel
from tracker.model.errors import TrackerError

SILENCE = 1e-6  # -120 dBFS: below this an effect's tail is over

# Parameter tables: numeric params are (default, min, max); string params list their allowed
# values, the default first.
EFFECT_KINDS: dict[str, dict[str, tuple[float | str, ...]]] = {
    "delay": {
        "time": (375.0, 1.0, 4000.0),  # ms
        "feedback": (0.35, 0.0, 0.95),
        "mix": (0.3, 0.0, 1.0),
        "pingpong": ("off", "on"),
    },
    "reverb": {
        "size": (0.7, 0.0, 1.0),
        "damping": (0.5, 0.0, 1.0),
        "mix": (0.25, 0.0, 1.0),
        "width": (1.0, 0.0, 1.0),
    },
    "filter": {
        "mode": ("lowpass", "highpass", "bandpass", "peak", "lowshelf", "highshelf"),
        "cutoff": (1000.0, 20.0, 20000.0),  # Hz, clamped below Nyquist
        "q": (0.707, 0.1, 20.0),
        "gain": (0.0, -24.0, 24.0),  # dB, for peak and the shelves
    },
    "limiter": {
        "ceiling": (-0.3, -24.0, 0.0),  # dBFS
        "release": (100.0, 1.0, 1000.0),  # ms, time constant of the gain's recovery
        "lookahead": (1.5, 0.0, 10.0),  # ms
    },
}

# Freeverb (Jezar at Dreampoint, public domain): delay lengths in samples at 44.1 kHz.
TUNING_RATE = 44100
COMB_TUNING = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
ALLPASS_TUNING = (556, 441, 341, 225)
STEREO_SPREAD = 23  # the right channel's lines are this much longer: decorrelated channels
FIXED_GAIN = 0.015  # input gain into the combs
SCALE_DAMP = 0.4
SCALE_ROOM = 0.28
OFFSET_ROOM = 0.7  # comb feedback = size × 0.28 + 0.7: 0.7 .. 0.98
# Wet gain at mix 1. Freeverb's own scale is 3; 2 makes a fully wet reverb about as loud as
# its input at the default size (RMS for white noise: 0.80× at size 0, 1.03× at 0.7, 1.49× at 1).
WET_SCALE = 2.0

NYQUIST_FRACTION = 0.49  # the filter's cutoff is clamped to this fraction of the rate


class Effect(Protocol):
    """What the mixer calls: process blocks in place, report tail and latency, reset."""

    def process(self, block: np.ndarray) -> None:
        """Process `block` ((frames, 2) float32 C-contiguous, frames ≤ max_block) in place."""
        ...

    def tail_frames(self) -> int:
        """Frames after the input goes silent until the output stays below -120 dBFS."""
        ...

    def latency_frames(self) -> int:
        """Frames by which the effect delays its input (the mixer compensates them)."""
        ...

    def reset(self) -> None:
        """Clear all state: the effect is silent until new input arrives."""
        ...


def ms_to_frames(ms: float, rate: int) -> int:
    """A time in milliseconds as whole frames (Python's round: half to even)."""
    return round(ms * rate / 1000.0)


def _decay_frames(start: float, gain: float, period: int) -> int:
    """Frames until a level bounded by start × gain**⌊n / period⌋ is below SILENCE for good."""
    if start <= SILENCE:
        return 0
    if gain <= 0.0:
        return period
    return period * math.ceil(math.log(SILENCE / start) / math.log(gain))


class Delay:
    """A sample-exact stereo delay with feedback, optionally ping-pong.

    The first repeat comes back after round(time × rate / 1000) frames at `mix`, each later one
    `feedback` times quieter. Ping-pong feeds the mono sum into the left line and alternates the
    repeats left, right, left …
    """

    kind = "delay"

    def __init__(self, params: Mapping[str, float | str], rate: int, max_block: int) -> None:
        """Args: params (complete and validated, see build_effect), rate, max_block."""
        self.params = dict(params)
        self.rate = rate
        self.max_block = max_block
        self.delay = max(1, ms_to_frames(float(params["time"]), rate))
        self.feedback = float(params["feedback"])
        self.mix = float(params["mix"])
        self.pingpong = params["pingpong"] == "on"
        self._lines = np.zeros((2, self.delay), dtype=np.float64)
        self._pos = np.zeros(1, dtype=np.int64)

    def process(self, block: np.ndarray) -> None:
        """Process a (frames, 2) float32 block in place."""
        _check_block(block, self.max_block)
        kernel.delay_process(block, self._lines, self._pos, self.feedback, self.mix, self.pingpong)

    def tail_frames(self) -> int:
        # A line charged by a full-scale input holds at most 1 / (1 - feedback); each trip
        # round it multiplies that by the feedback.
        if self.mix == 0.0:
            return 0
        return _decay_frames(self.mix / (1.0 - self.feedback), self.feedback, self.delay)

    def latency_frames(self) -> int:
        return 0

    def reset(self) -> None:
        self._lines[:] = 0.0
        self._pos[0] = 0


class Reverb:
    """Freeverb: 8 parallel lowpass-feedback combs and 4 series allpasses per channel.

    The classic 44.1 kHz delay lengths are scaled to the rate, the right channel's lines
    STEREO_SPREAD samples longer. `size` sets the comb feedback (0.7 .. 0.98: from a room to a
    hall), `damping` the combs' lowpass (high frequencies die sooner), `width` how much each
    output channel takes of the other's reverb (0: mono reverb).

    Like Freeverb, large sizes resonate strongly at low frequencies: at size 1 and mix 1 a
    sustained full-scale bass note can come out ~25× (+28 dB) louder. A limiter belongs after it.
    """

    kind = "reverb"

    def __init__(self, params: Mapping[str, float | str], rate: int, max_block: int) -> None:
        """Args: params (complete and validated, see build_effect), rate, max_block."""
        self.params = dict(params)
        self.rate = rate
        self.max_block = max_block
        scale = rate / TUNING_RATE
        spread = round(STEREO_SPREAD * scale)
        combs = [max(1, round(t * scale)) for t in COMB_TUNING]
        allpasses = [max(1, round(t * scale)) for t in ALLPASS_TUNING]
        lengths = combs + [c + spread for c in combs] + allpasses + [a + spread for a in allpasses]
        self._lengths = np.array(lengths, dtype=np.int64)
        self._starts = np.concatenate(([0], np.cumsum(self._lengths)[:-1])).astype(np.int64)
        self._lines = np.zeros(int(self._lengths.sum()), dtype=np.float64)
        self._pos = np.zeros(len(lengths), dtype=np.int64)
        self._stores = np.zeros(len(lengths), dtype=np.float64)  # comb lowpass states
        self._scratch = np.zeros((3, max_block), dtype=np.float64)
        self.feedback = float(params["size"]) * SCALE_ROOM + OFFSET_ROOM
        damp = float(params["damping"]) * SCALE_DAMP
        width = float(params["width"])
        mix = float(params["mix"])
        coef = np.zeros(kernel.R_COEFS, dtype=np.float64)
        coef[kernel.R_INPUT_GAIN] = FIXED_GAIN
        coef[kernel.R_FEEDBACK] = self.feedback
        coef[kernel.R_DAMP1] = damp
        coef[kernel.R_DAMP2] = 1.0 - damp
        coef[kernel.R_WET1] = width / 2.0 + 0.5
        coef[kernel.R_WET2] = (1.0 - width) / 2.0
        coef[kernel.R_WET] = mix * WET_SCALE
        coef[kernel.R_DRY] = 1.0 - mix
        self._coef = coef
        self._longest_comb = int(self._lengths[: 2 * kernel.COMBS].max())
        self._stage_lengths = [max(a, b) for a, b in zip(allpasses, lengths[-4:], strict=True)]

    def process(self, block: np.ndarray) -> None:
        """Process a (frames, 2) float32 block in place."""
        _check_block(block, self.max_block)
        kernel.reverb_process(
            block,
            self._lines,
            self._starts,
            self._lengths,
            self._pos,
            self._stores,
            self._scratch,
            self._coef,
        )

    def tail_frames(self) -> int:
        """A bound for any input within ±1 (the worst case: every comb fully charged).

        A comb's state is at most B = 2 × FIXED_GAIN / (1 - f) and, once the input stops, its
        output shrinks by f per trip round its line, so the combs' sum stays below
        8B × f**(n / longest - 1). An allpass passes an envelope decaying at that rate with a
        gain of at most 1 + r / (1 - g r), r = f**(-length / longest): the combs decay slower
        than its own feedback g = 0.5. The output is below the product of all that × wet gain.
        """
        f = self.feedback
        longest = self._longest_comb
        level = 8.0 * 2.0 * FIXED_GAIN / (1.0 - f) / f
        for length in self._stage_lengths:
            r = f ** (-length / longest)
            level *= 1.0 + r / (1.0 - kernel.ALLPASS_FEEDBACK * r)
        level *= self._coef[kernel.R_WET]  # wet1 + wet2 = 1
        if level <= SILENCE:
            return 0
        return math.ceil(longest * math.log(SILENCE / level) / math.log(f))

    def latency_frames(self) -> int:
        return 0

    def reset(self) -> None:
        self._lines[:] = 0.0
        self._pos[:] = 0
        self._stores[:] = 0.0


def biquad_coefficients(
    mode: str, cutoff: float, q: float, gain_db: float, rate: int
) -> np.ndarray:
    """RBJ Audio EQ Cookbook coefficients (b0, b1, b2, a1, a2), normalised by a0.

    The cutoff is clamped to NYQUIST_FRACTION × rate so a 20 kHz setting stays a valid filter at
    low rates. Band-pass is the constant 0 dB peak gain form; the shelves take `q` as their Q.
    """
    cutoff = min(cutoff, NYQUIST_FRACTION * rate)
    w0 = 2.0 * math.pi * cutoff / rate
    cos_w = math.cos(w0)
    alpha = math.sin(w0) / (2.0 * q)
    a = 10.0 ** (gain_db / 40.0)
    if mode == "lowpass":
        b = ((1.0 - cos_w) / 2.0, 1.0 - cos_w, (1.0 - cos_w) / 2.0)
        den = (1.0 + alpha, -2.0 * cos_w, 1.0 - alpha)
    elif mode == "highpass":
        b = ((1.0 + cos_w) / 2.0, -(1.0 + cos_w), (1.0 + cos_w) / 2.0)
        den = (1.0 + alpha, -2.0 * cos_w, 1.0 - alpha)
    elif mode == "bandpass":
        b = (alpha, 0.0, -alpha)
        den = (1.0 + alpha, -2.0 * cos_w, 1.0 - alpha)
    elif mode == "peak":
        b = (1.0 + alpha * a, -2.0 * cos_w, 1.0 - alpha * a)
        den = (1.0 + alpha / a, -2.0 * cos_w, 1.0 - alpha / a)
    elif mode in ("lowshelf", "highshelf"):
        root = 2.0 * math.sqrt(a) * alpha
        sign = 1.0 if mode == "lowshelf" else -1.0  # a highshelf mirrors the lowshelf's cos_w
        c = sign * cos_w
        b = (
            a * ((a + 1.0) - (a - 1.0) * c + root),
            sign * 2.0 * a * ((a - 1.0) - (a + 1.0) * c),
            a * ((a + 1.0) - (a - 1.0) * c - root),
        )
        den = (
            (a + 1.0) + (a - 1.0) * c + root,
            sign * -2.0 * ((a - 1.0) + (a + 1.0) * c),
            (a + 1.0) + (a - 1.0) * c - root,
        )
    else:
        raise TrackerError(f"filter: unknown mode {mode!r}")
    return np.array([b[0], b[1], b[2], den[1], den[2]], dtype=np.float64) / den[0]


class Filter:
    """An RBJ-cookbook biquad per channel (transposed direct form II, float64 state)."""

    kind = "filter"

    def __init__(self, params: Mapping[str, float | str], rate: int, max_block: int) -> None:
        """Args: params (complete and validated, see build_effect), rate, max_block."""
        self.params = dict(params)
        self.rate = rate
        self.max_block = max_block
        self._coef = biquad_coefficients(
            str(params["mode"]),
            float(params["cutoff"]),
            float(params["q"]),
            float(params["gain"]),
            rate,
        )
        self._state = np.zeros((2, 2), dtype=np.float64)
        # Computed once (it runs the impulse response); capped at a minute of audio.
        self._tail = int(kernel.biquad_tail(self._coef, SILENCE, 60 * rate))

    def process(self, block: np.ndarray) -> None:
        """Process a (frames, 2) float32 block in place."""
        _check_block(block, self.max_block)
        kernel.biquad_process(block, self._coef, self._state)

    def tail_frames(self) -> int:
        return self._tail

    def latency_frames(self) -> int:
        return 0

    def reset(self) -> None:
        self._state[:] = 0.0


class Limiter:
    """A lookahead peak limiter: no output sample ever exceeds the ceiling.

    The input is delayed by the lookahead; the gain ramps down over that window so it has
    reached what a peak needs when the peak comes out (instant attack within the window), then
    recovers exponentially with the release time constant. The ceiling used is the largest
    float32 not above 10**(ceiling / 20), so the float32 output honours it exactly.
    """

    kind = "limiter"

    def __init__(self, params: Mapping[str, float | str], rate: int, max_block: int) -> None:
        """Args: params (complete and validated, see build_effect), rate, max_block."""
        self.params = dict(params)
        self.rate = rate
        self.max_block = max_block
        self.lookahead = ms_to_frames(float(params["lookahead"]), rate)
        linear = 10.0 ** (float(params["ceiling"]) / 20.0)
        ceiling = np.float32(linear)
        if float(ceiling) > linear:
            ceiling = np.nextafter(ceiling, np.float32(0.0))
        self.ceiling = float(ceiling)
        release_frames = float(params["release"]) * rate / 1000.0
        self._coef = np.array([self.ceiling, -math.expm1(-1.0 / release_frames)])
        window = self.lookahead + 1
        self._ints = np.zeros(kernel.L_INTS, dtype=np.int64)
        self._envelope = np.zeros(1, dtype=np.float64)
        self._gains = np.zeros(window, dtype=np.float64)
        self._stamps = np.zeros(window, dtype=np.int64)
        self._quanta = np.zeros(window, dtype=np.int64)
        self._held = np.zeros((window, 2), dtype=np.float64)
        self.reset()

    def process(self, block: np.ndarray) -> None:
        """Process a (frames, 2) float32 block in place."""
        _check_block(block, self.max_block)
        kernel.limiter_process(
            block,
            self._ints,
            self._envelope,
            self._gains,
            self._stamps,
            self._quanta,
            self._held,
            self._coef,
        )

    def tail_frames(self) -> int:
        return self.lookahead

    def latency_frames(self) -> int:
        return self.lookahead

    def reset(self) -> None:
        # Unity gain throughout the window, an empty deque, silence in the delay.
        self._ints[:] = 0
        self._ints[kernel.L_SUM] = kernel.GAIN_ONE * len(self._quanta)
        self._quanta[:] = kernel.GAIN_ONE
        self._envelope[0] = 1.0
        self._held[:] = 0.0


_CLASSES: dict[str, type[Delay] | type[Reverb] | type[Filter] | type[Limiter]] = {
    "delay": Delay,
    "reverb": Reverb,
    "filter": Filter,
    "limiter": Limiter,
}


def _check_block(block: np.ndarray, max_block: int) -> None:
    if block.shape[0] > max_block:
        raise ValueError(f"block of {block.shape[0]} frames exceeds max_block {max_block}")


def _format(value: float) -> str:
    return f"{value:g}"


def resolve_params(kind: str, params: Mapping[str, float | str]) -> dict[str, float | str]:
    """Every parameter of `kind`: the given ones validated, the rest at their defaults.

    Raises:
        TrackerError: one line naming an unknown kind (listing the kinds), an unknown
            parameter (listing the kind's parameters), a value out of range (giving the
            range) or of the wrong type.
    """
    table = EFFECT_KINDS.get(kind)
    if table is None:
        raise TrackerError(f"unknown effect {kind!r} (effects: {', '.join(sorted(EFFECT_KINDS))})")
    resolved: dict[str, float | str] = {name: spec[0] for name, spec in table.items()}
    for name, value in params.items():
        spec = table.get(name)
        if spec is None:
            raise TrackerError(
                f"{kind}: unknown parameter {name!r} (parameters: {', '.join(table)})"
            )
        if isinstance(spec[0], str):
            if not isinstance(value, str) or value not in spec:
                raise TrackerError(
                    f"{kind}: {name} must be one of {', '.join(map(str, spec))}, not {value!r}"
                )
            resolved[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TrackerError(f"{kind}: {name} must be a number, not {value!r}")
        number = float(value)
        low, high = float(spec[1]), float(spec[2])
        if not low <= number <= high:  # also rejects NaN
            span = f"{_format(low)}..{_format(high)}"
            raise TrackerError(f"{kind}: {name} {_format(number)} is out of range ({span})")
        resolved[name] = number
    return resolved


def build_effect(kind: str, params: Mapping[str, float | str], rate: int, max_block: int) -> Effect:
    """Build an effect from its kind and (possibly partial) parameters.

    Args:
        kind: one of EFFECT_KINDS.
        params: parameter name → value; missing ones take their defaults.
        rate: sample rate in Hz.
        max_block: the most frames one `process` call will be given.

    Raises:
        TrackerError: with one clear line for an unknown kind (listing the kinds), an unknown
            parameter (listing that kind's parameters), a value out of range (giving the
            range), or a wrong type.
    """
    resolved = resolve_params(kind, params)
    if rate <= 0 or max_block <= 0:
        raise TrackerError(f"{kind}: rate and max_block must be positive ({rate}, {max_block})")
    return _CLASSES[kind](resolved, rate, max_block)
