"""Numba kernels of the subtractive synth: every voice of one instance in one compiled call.

Voice state lives in two preallocated struct-of-arrays tables, `fs[voice, F_*]` (float64) and
`vs[voice, I_*]` (int64), so a render allocates nothing whatever the polyphony.

A render works in pieces of up to PIECE samples, in three steps per voice:

1. `_plan` runs the control updates that fall in the piece (every CONTROL_PERIOD samples of the
   voice's own age: envelopes, glide, bend, filter cutoff) and writes, per control period, the
   amplitude ramp, filter coefficients, phase increments and wavetable rows into `tick`/`itick`.
2. `_sound` runs the voice's oscillators (band-limited wavetables, see synth_tables) into its
   lane of `buf`, one tight loop per oscillator kind.
3. `_filter_pair` filters two voices at once and sums them. Each voice's filter is a chain of
   dependent operations; interleaving two chains keeps the CPU's pipelines busy.

Voices add into a float64 accumulator in ascending slot order, and each piece is added to the
float32 output once per sample. Control updates are keyed to each voice's age, never to block
boundaries, and every sum runs in the same order, so the output is bit-identical however the
mixer splits a block.

Why the shapes below (measured on the project's machines, ~3.2 GHz Zen 3): numba adds a
negative-index check to every signed index, so hot loops index with unsigned integers; a call
passing arrays costs tens of cycles, so the control update is written out inside `_plan`;
per-period fields sit side by side because rows a power of two apart share a cache set.

Every compiled function and every constant they read live in this one file on purpose: numba's
on-disk cache is invalidated only when the function's own source file changes, so a constant
imported from another module could change under a stale cached kernel.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Wavetable layout (synth_tables builds the tables to it).
TABLE_BITS = 11
TABLE_SIZE = 1 << TABLE_BITS  # samples per cycle
ROW = TABLE_SIZE + 1  # one guard sample so interpolation never wraps
PHASE_SHIFT = 32 - TABLE_BITS  # 32-bit phase → table index
FRAC_SCALE = 1.0 / (1 << PHASE_SHIFT)
LEVELS = 24  # half-octave bandwidth steps, from 1 harmonic up to TABLE_SIZE / 2
AUDIBLE_HZ = 20000.0  # aliases may land above this, never below

# Waves stored in the table, in this order (sine has one level: it never aliases). The square
# row is the 50 % pulse; other widths are made from two saws.
TABLE_SAW, TABLE_SQUARE, TABLE_TRIANGLE, TABLE_SINE = (i * LEVELS * ROW for i in range(4))

# Filter coefficient table: g = tan(pi f / rate) at 1/32-octave steps from 16 Hz up.
FILTER_MIN_OCT = 4.0  # log2(16 Hz)
FILTER_STEPS_PER_OCT = 32.0

CONTROL_PERIOD = 16  # samples between control updates (0.36 ms at 44.1 kHz)
CONTROL_MASK = CONTROL_PERIOD - 1
CONTROL_SHIFT = 4
PIECE = 512  # samples per pass: the accumulator and the per-period rows stay in the L1 cache
TICKS = PIECE // CONTROL_PERIOD + 1  # control periods a piece can touch
FADE_SECONDS = 0.003  # cut and stolen voices fade this long instead of clicking
SILENT = 1e-4  # -80 dB: an envelope below this has finished
BASE_LEVEL = 0.25  # one voice at full velocity and 0 dB gain; four in phase reach 1.0
# The filter is recomputed when its cutoff has moved this far (1/256 octave, 0.3 %): slow
# sweeps then cost a coefficient update every few periods, not every one, inaudibly.
CUTOFF_STEP_OCT = 1.0 / 256.0
MASK32 = 0xFFFFFFFF
CYCLE = 4294967296.0  # one oscillator cycle in phase units (phases are 32-bit fixed point)
HALF_CYCLE = 1 << 31
NOISE_SCALE = 2.0 / CYCLE
# Unsigned constants for index arithmetic (numba widens unsigned-with-signed mixes to float).
U_ONE = np.uint64(1)
U_SHIFT = np.uint64(PHASE_SHIFT)
U_FRAC = np.uint64((1 << PHASE_SHIFT) - 1)
U_MASK32 = np.uint64(MASK32)
U_CONTROL_SHIFT = np.uint64(CONTROL_SHIFT)
U_CONTROL_MASK = np.uint64(CONTROL_MASK)

# Waves (params[P_WAVE1], params[P_WAVE2]); NONE only for the second oscillator.
NONE, SAW, SQUARE, TRIANGLE, SINE, NOISE = range(6)
WAVES = {"saw": SAW, "square": SQUARE, "triangle": TRIANGLE, "sine": SINE, "noise": NOISE}

# Envelope stages (amp envelope in vs[:, I_STAGE], filter envelope in vs[:, I_FSTAGE]).
IDLE, ATTACK, DECAY, SUSTAIN, RELEASE, FADE = range(6)

# Float voice fields. The amplitude is a linear ramp from F_START to F_LEVEL over each control
# period; the envelope itself (exponential decays included) is exact at period boundaries.
(
    F_LEVEL,  # amp envelope at the end of the current control period
    F_START,  # amp envelope at its start
    F_FADE,  # decrement per control period while fading
    F_FENV,  # filter envelope level
    F_PITCH,  # current pitch in semitones (moves toward F_TARGET when gliding)
    F_TARGET,
    F_SEMIS,  # the pitch + bend the increments were computed for
    F_OCTAVE,  # the log2 cutoff the filter coefficients were computed for
    F_BASE_OCT,  # log2 cutoff with velocity and key tracking applied
    F_GAIN,  # base level × preset gain × velocity
    F_IC1,  # state-variable filter integrators
    F_IC2,
    F_M11,  # filter coefficients (see _filter_coefficients)
    F_B1,
    F_B2,
    NF,
) = range(16)

# Integer voice fields.
(
    I_STAGE,
    I_FSTAGE,
    I_DYING,  # 1: the envelope has finished; the voice frees at the end of this period
    I_AGE,  # samples since note-on: the clock of control updates
    I_KEY,  # 1 while the key is down
    I_HELD,  # 1 when the key is up but the sustain pedal holds the note
    I_NOTE,  # MIDI pitch, for note_off
    I_ORDER,  # note-on counter: smaller is older
    I_NOISE,  # xorshift32 state
    I_PHASE1,  # oscillator phases and increments, 32-bit fixed point
    I_PHASE2,
    I_INC1,
    I_INC2,
    I_ROW1,  # wavetable row offsets for the current pitch
    I_ROW2,
    NI,
) = range(16)

# Preset parameters, computed once by synth.load (params[P_*]). Envelope rates are per control
# period.
(
    P_WAVE1,
    P_WAVE2,
    P_PULSE,
    P_MIX,
    P_RATIO2,  # osc 2 frequency ratio (octave and detune)
    P_ATTACK,  # amp envelope: attack increment, decay and release multipliers
    P_DECAY,
    P_SUSTAIN,
    P_RELEASE,
    P_FATTACK,  # filter envelope, likewise
    P_FDECAY,
    P_FSUSTAIN,
    P_FRELEASE,
    P_FENV_AMT,  # octaves
    P_K,  # filter damping (1/Q)
    P_CUTOFF_OCT,
    P_VEL_CUTOFF,
    P_VEL_AMP,
    P_KEY_TRACK,
    P_GAIN,
    P_GLIDE,  # multiplier of the distance to the target pitch; 0 jumps at once
    P_POLYPHONY,
    P_FADE_PERIODS,  # control periods a fade lasts
    P_RATE,
    NP,
) = range(25)

# Instance controls written by the Python side between renders (ctl[C_*]).
C_BEND, C_BRIGHT, NC = range(3)

# Per control period, per lane (0 and 1), flat: `tick` floats and `itick` integers.
T_START, T_STEP, T_M11, T_B1, T_B2, T_STRIDE = 0, 1, 2, 3, 4, 8
K_INC1, K_INC2, K_ROW1, K_ROW2, K_STRIDE = 0, 1, 2, 3, 4
T_LANE = TICKS * T_STRIDE
K_LANE = TICKS * K_STRIDE
U_T_START, U_T_STEP, U_T_M11, U_T_B1, U_T_B2, U_T_STRIDE, U_T_LANE = (
    np.uint64(f) for f in (T_START, T_STEP, T_M11, T_B1, T_B2, T_STRIDE, T_LANE)
)
# Where _filter_pair puts its voices' sum.
SINK_ADD, SINK_FIRST, SINK_OUT = 0, 1, 2
# `buf` (float64): the accumulator at 0, then per lane the oscillator output of the piece.
X_LANE = PIECE + 8
X_BASE = X_LANE


def work_buffers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scratch arrays one instance passes to render_voices: buf, tick, itick.

    Each period's fields sit side by side, and buf's parts are not a power of two apart: rows of
    a power-of-two stride fall into the same cache set and evict each other.
    """
    return (
        np.zeros(X_BASE + 2 * X_LANE),
        np.zeros(2 * T_LANE),
        np.zeros(2 * K_LANE, dtype=np.int64),
    )


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _table_row(wave: int, inc: int, half_square: bool) -> int:
    """Where in the wavetable a wave lives at this increment: the level with the most
    harmonics that still keeps them below the alias limit (levels are half an octave apart).
    A square of another width than 50 % reads the saw rows (twice)."""
    if wave == SINE:
        return TABLE_SINE
    level = int(-2.0 * math.log2(max(inc, 1) / (0.5 * CYCLE)))
    level = min(max(level, 0), LEVELS - 1)
    base = TABLE_SAW
    if wave == TRIANGLE:
        base = TABLE_TRIANGLE
    elif wave == SQUARE and half_square:
        base = TABLE_SQUARE
    return base + level * ROW


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _lerp(a: float, b: float, phase: int) -> float:
    """Linear interpolation between two adjacent wavetable samples at a 32-bit phase."""
    return a + (b - a) * (numba.int64(phase & U_FRAC) * FRAC_SCALE)


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _noise(state: int) -> int:
    """One xorshift32 step: deterministic white noise."""
    state ^= (state << 13) & MASK32
    state ^= state >> 17
    return state ^ ((state << 5) & MASK32)


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _envelope(
    stage: int, level: float, attack: float, decay: float, sustain: float, release: float
) -> tuple[int, float]:
    """One control period of an ADSR: linear attack, exponential decay and release.

    Returns IDLE (with level 0) once the envelope has finished.
    """
    if stage == ATTACK:
        level += attack
        if level >= 1.0:
            level = 1.0
            stage = DECAY
    elif stage == DECAY:
        level = sustain + (level - sustain) * decay
        if level - sustain < SILENT:
            level = sustain
            stage = SUSTAIN
            if sustain <= SILENT:
                level = 0.0
                stage = IDLE
    elif stage == RELEASE:
        level *= release
        if level < SILENT:
            level = 0.0
            stage = IDLE
    return stage, level


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _filter_coefficients(octave: float, k: float, table: np.ndarray) -> tuple[float, float, float]:
    """Cutoff (log2 Hz) → the coefficients of Cytomic's trapezoidal state-variable filter.

    With a1 = 1 / (1 + g (g + k)), a2 = g a1, a3 = g a2 and d = x - ic2, one sample is
        ic1' = (2 a1 - 1) ic1 + 2 a2 d
        ic2' = ic2 + 2 a2 ic1 + 2 a3 d
        low-pass = (ic2 + ic2') / 2
    which keeps the per-sample recurrence three operations deep with three coefficients.
    g = tan(pi f / rate) comes from interpolating the table.
    """
    x = (octave - FILTER_MIN_OCT) * FILTER_STEPS_PER_OCT
    last = table.shape[0] - 2
    if x < 0.0:
        x = 0.0
    elif x > last:
        x = float(last)
    j = int(x)
    g = table[j] + (table[j + 1] - table[j]) * (x - j)
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return 2.0 * a1 - 1.0, 2.0 * a2, 2.0 * g * a2


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _plan(fs, vs, v, m, lane, params, ctl, table, tick, itick) -> int:  # type: ignore[no-untyped-def]
    """Step 1 for voice v over the next m samples: run its control updates, fill its lane of
    `tick`/`itick` per control period, advance its age. Returns how many samples it sounds
    (less than m if it ends); past that its amplitude is 0 and its other values stay valid."""
    attack = params[P_ATTACK]
    decay = params[P_DECAY]
    sustain = params[P_SUSTAIN]
    release = params[P_RELEASE]
    fattack = params[P_FATTACK]
    fdecay = params[P_FDECAY]
    fsustain = params[P_FSUSTAIN]
    frelease = params[P_FRELEASE]
    bend = ctl[C_BEND]
    bright = ctl[C_BRIGHT]
    age = vs[v, I_AGE]
    live = m
    j = 0
    ft = lane * T_LANE
    it = lane * K_LANE
    while j < m:
        pos = age & CONTROL_MASK
        if pos == 0 and live == m:
            if vs[v, I_DYING] == 1:
                vs[v, I_STAGE] = IDLE
                live = j
            else:
                # The control update, written out here: a call passing the arrays would cost
                # as much again.
                stage = vs[v, I_STAGE]
                level = fs[v, F_LEVEL]
                fs[v, F_START] = level
                if stage == FADE:
                    level -= fs[v, F_FADE]
                    if level <= 0.0:
                        level = 0.0
                        vs[v, I_DYING] = 1
                else:
                    stage, level = _envelope(stage, level, attack, decay, sustain, release)
                    if stage == IDLE:
                        # Ramp to silence over this period, then free the voice.
                        vs[v, I_DYING] = 1
                        stage = RELEASE
                vs[v, I_STAGE] = stage
                fs[v, F_LEVEL] = level

                fstage = vs[v, I_FSTAGE]
                if vs[v, I_KEY] == 0 and vs[v, I_HELD] == 0 and fstage != IDLE:
                    fstage = RELEASE
                fstage, fenv = _envelope(fstage, fs[v, F_FENV], fattack, fdecay, fsustain, frelease)
                vs[v, I_FSTAGE] = fstage
                fs[v, F_FENV] = fenv

                target = fs[v, F_TARGET]
                pitch = target + (fs[v, F_PITCH] - target) * params[P_GLIDE]
                fs[v, F_PITCH] = pitch
                semis = pitch + bend
                if semis != fs[v, F_SEMIS]:
                    fs[v, F_SEMIS] = semis
                    cycles = 440.0 * math.exp2((semis - 69.0) / 12.0) / params[P_RATE]
                    inc1 = int(min(cycles, 0.49) * CYCLE)
                    inc2 = int(min(cycles * params[P_RATIO2], 0.49) * CYCLE)
                    vs[v, I_INC1] = inc1
                    vs[v, I_INC2] = inc2
                    half = params[P_PULSE] == 0.5
                    vs[v, I_ROW1] = _table_row(int(params[P_WAVE1]), inc1, half)
                    vs[v, I_ROW2] = _table_row(int(params[P_WAVE2]), inc2, half)

                octave = fs[v, F_BASE_OCT] + params[P_FENV_AMT] * fenv + bright
                if abs(octave - fs[v, F_OCTAVE]) >= CUTOFF_STEP_OCT:
                    fs[v, F_OCTAVE] = octave
                    fs[v, F_M11], fs[v, F_B1], fs[v, F_B2] = _filter_coefficients(
                        octave, params[P_K], table
                    )
        if live < m:
            tick[ft + T_START] = 0.0
            tick[ft + T_STEP] = 0.0
        else:
            gain = fs[v, F_GAIN]
            start = fs[v, F_START]
            tick[ft + T_START] = start * gain
            tick[ft + T_STEP] = (fs[v, F_LEVEL] - start) * (gain / CONTROL_PERIOD)
        tick[ft + T_M11] = fs[v, F_M11]
        tick[ft + T_B1] = fs[v, F_B1]
        tick[ft + T_B2] = fs[v, F_B2]
        itick[it + K_INC1] = vs[v, I_INC1]
        itick[it + K_INC2] = vs[v, I_INC2]
        itick[it + K_ROW1] = vs[v, I_ROW1]
        itick[it + K_ROW2] = vs[v, I_ROW2]
        step = min(m - j, CONTROL_PERIOD - pos)
        age += step
        j += step
        ft += T_STRIDE
        it += K_STRIDE
    vs[v, I_AGE] = age
    return live


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _oscillate(waves, wave, phase, noise, m, off, itick, k_row, k_inc, width, weight, buf, base):  # type: ignore[no-untyped-def]
    """Step 2: add `weight` × one oscillator into buf[base : base + m]; return (phase, noise).

    Periodic waves read the wavetable row `_plan` chose, one control period at a time so the
    row and increment stay in registers. A pulse narrower or wider than 50 % is the difference
    of two saws a pulse width apart: band-limited at any width, and free of DC (its two levels
    are 2w and 2w - 2). Index arithmetic is unsigned: numba adds a negative-index
    check to every signed index, which here would cost as much as the lookup.
    """
    if wave == NOISE:
        for j in range(m):
            noise = _noise(noise)
            buf[base + j] += weight * (noise * NOISE_SCALE - 1.0)
        return phase, noise
    square = wave == SQUARE and width != HALF_CYCLE
    uwidth = numba.uint64(width)
    uphase = numba.uint64(phase)
    j = 0
    t = 0
    while j < m:
        stop = min(m, j + CONTROL_PERIOD - ((off + j) & CONTROL_MASK))
        row = numba.uint64(itick[t * K_STRIDE + k_row])
        inc = numba.uint64(itick[t * K_STRIDE + k_inc])
        for i in range(numba.uint64(base + j), numba.uint64(base + stop)):
            at = row + (uphase >> U_SHIFT)
            x = _lerp(waves[at], waves[at + U_ONE], uphase)
            if square:
                p = (uphase - uwidth) & U_MASK32
                at = row + (p >> U_SHIFT)
                x -= _lerp(waves[at], waves[at + U_ONE], p)
            buf[i] += weight * x
            uphase = (uphase + inc) & U_MASK32
        j = stop
        t += 1
    return numba.int64(uphase), noise


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _oscillate_two(waves, pulsed1, pulsed2, ph1, ph2, m, off, itick, width, mix1, mix2, buf, base):  # type: ignore[no-untyped-def]
    """Step 2 for two table oscillators in one loop (the common two-oscillator patch): as
    _oscillate, but one pass over buf. `pulsed1/2`: the wave is a two-saw pulse."""
    uwidth = numba.uint64(width)
    u1 = numba.uint64(ph1)
    u2 = numba.uint64(ph2)
    j = 0
    t = 0
    while j < m:
        stop = min(m, j + CONTROL_PERIOD - ((off + j) & CONTROL_MASK))
        row1 = numba.uint64(itick[t * K_STRIDE + K_ROW1])
        inc1 = numba.uint64(itick[t * K_STRIDE + K_INC1])
        row2 = numba.uint64(itick[t * K_STRIDE + K_ROW2])
        inc2 = numba.uint64(itick[t * K_STRIDE + K_INC2])
        for i in range(numba.uint64(base + j), numba.uint64(base + stop)):
            at = row1 + (u1 >> U_SHIFT)
            x1 = _lerp(waves[at], waves[at + U_ONE], u1)
            if pulsed1:
                p = (u1 - uwidth) & U_MASK32
                at = row1 + (p >> U_SHIFT)
                x1 -= _lerp(waves[at], waves[at + U_ONE], p)
            at = row2 + (u2 >> U_SHIFT)
            x2 = _lerp(waves[at], waves[at + U_ONE], u2)
            if pulsed2:
                p = (u2 - uwidth) & U_MASK32
                at = row2 + (p >> U_SHIFT)
                x2 -= _lerp(waves[at], waves[at + U_ONE], p)
            buf[i] = x1 * mix1 + x2 * mix2
            u1 = (u1 + inc1) & U_MASK32
            u2 = (u2 + inc2) & U_MASK32
        j = stop
        t += 1
    return numba.int64(u1), numba.int64(u2)


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _sound(vs, v, m, off, lane, params, waves, itick, buf) -> None:  # type: ignore[no-untyped-def]
    """Step 2 for voice v: its oscillators into its lane of buf."""
    base = X_BASE + lane * X_LANE
    wave1 = int(params[P_WAVE1])
    wave2 = int(params[P_WAVE2])
    width = int(params[P_PULSE] * CYCLE)
    mix1 = 1.0 - params[P_MIX] if wave2 != NONE else 1.0
    ticks = itick[lane * K_LANE :]
    if wave1 != NOISE and wave2 != NOISE and wave2 != NONE:
        pulsed = width != HALF_CYCLE
        vs[v, I_PHASE1], vs[v, I_PHASE2] = _oscillate_two(
            waves, wave1 == SQUARE and pulsed, wave2 == SQUARE and pulsed,
            vs[v, I_PHASE1], vs[v, I_PHASE2], m, off, ticks, width, mix1, params[P_MIX], buf, base,
        )  # fmt: skip
        return
    for j in range(m):
        buf[base + j] = 0.0
    vs[v, I_PHASE1], vs[v, I_NOISE] = _oscillate(
        waves, wave1, vs[v, I_PHASE1], vs[v, I_NOISE], m, off,
        ticks, K_ROW1, K_INC1, width, mix1, buf, base,
    )  # fmt: skip
    if wave2 != NONE:
        vs[v, I_PHASE2], vs[v, I_NOISE] = _oscillate(
            waves, wave2, vs[v, I_PHASE2], vs[v, I_NOISE], m, off,
            ticks, K_ROW2, K_INC2, width, params[P_MIX], buf, base,
        )  # fmt: skip


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _position(q: int) -> int:
    """1 .. CONTROL_PERIOD: how far into its control period a sample is (the ramp's step)."""
    return numba.int64((q & U_CONTROL_MASK) + U_ONE)


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _filter_step(
    x: float, ic1: float, ic2: float, m11: float, b1: float, b2: float
) -> tuple[float, float, float]:
    """One sample of the state-variable low-pass; returns (output, ic1, ic2)."""
    d = x - ic2
    n2 = ic2 + b1 * ic1 + b2 * d
    return 0.5 * (ic2 + n2), m11 * ic1 + b1 * d, n2


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _filter_pair(fs, a, b, off_a, off_b, length, m, tick, buf, out, at, sink) -> None:  # type: ignore[no-untyped-def]
    """Step 3 for voices a (lane 0) and b (lane 1; -1 for a alone): filter, amplitude, sum.

    Two voices per loop: each filter is a chain of dependent operations, and two independent
    chains keep the CPU's pipelines busy. Unsigned indices avoid numba's negative-index checks.
    `sink`: SINK_ADD adds to the accumulator, SINK_FIRST starts it (it holds the lowest
    voices), SINK_OUT adds straight to out[at:] (the only voices). All three give the same sum.
    """
    ic1a = fs[a, F_IC1]
    ic2a = fs[a, F_IC2]
    qa = numba.uint64(off_a)
    xa = numba.uint64(X_BASE)
    o = numba.uint64(at)
    if b < 0:
        for j in range(numba.uint64(length)):
            q = qa + j
            ft = (q >> U_CONTROL_SHIFT) * U_T_STRIDE
            amp = tick[ft + U_T_START] + tick[ft + U_T_STEP] * _position(q)
            y, ic1a, ic2a = _filter_step(
                buf[xa + j], ic1a, ic2a, tick[ft + U_T_M11], tick[ft + U_T_B1], tick[ft + U_T_B2]
            )
            if sink == SINK_ADD:
                buf[j] = buf[j] + y * amp
            elif sink == SINK_FIRST:
                buf[j] = y * amp
            else:
                out[o + j] += y * amp
    else:
        ic1b = fs[b, F_IC1]
        ic2b = fs[b, F_IC2]
        qb = numba.uint64(off_b)
        xb = numba.uint64(X_BASE + X_LANE)
        for j in range(numba.uint64(length)):
            q = qa + j
            ft = (q >> U_CONTROL_SHIFT) * U_T_STRIDE
            amp = tick[ft + U_T_START] + tick[ft + U_T_STEP] * _position(q)
            y, ic1a, ic2a = _filter_step(
                buf[xa + j], ic1a, ic2a, tick[ft + U_T_M11], tick[ft + U_T_B1], tick[ft + U_T_B2]
            )
            ya = y * amp
            q = qb + j
            ft = U_T_LANE + (q >> U_CONTROL_SHIFT) * U_T_STRIDE
            amp = tick[ft + U_T_START] + tick[ft + U_T_STEP] * _position(q)
            y, ic1b, ic2b = _filter_step(
                buf[xb + j], ic1b, ic2b, tick[ft + U_T_M11], tick[ft + U_T_B1], tick[ft + U_T_B2]
            )
            # Lane a is the lower slot: the sum runs in slot order however voices pair up.
            if sink == SINK_ADD:
                buf[j] = buf[j] + ya + y * amp
            elif sink == SINK_FIRST:
                buf[j] = ya + y * amp
            else:
                out[o + j] += ya + y * amp
        fs[b, F_IC1] = ic1b
        fs[b, F_IC2] = ic2b
    fs[a, F_IC1] = ic1a
    fs[a, F_IC2] = ic2a
    if sink == SINK_FIRST:
        for j in range(length, m):
            buf[j] = 0.0


# nogil: the live engine renders in its own thread while the UI keeps running.
@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def render_voices(out, fs, vs, params, ctl, table, waves, buf, tick, itick) -> int:  # type: ignore[no-untyped-def]
    """Add every sounding voice into `out` (float32, 1-D); return how many voices still sound."""
    n = out.shape[0]
    done = 0
    while done < n:
        m = min(PIECE, n - done)
        sounding = 0
        for v in range(fs.shape[0]):
            if vs[v, I_STAGE] != IDLE:
                sounding += 1
        if sounding == 0:
            break
        # Up to two voices go straight to out; more sum in buf first (lowest slots first).
        sink = SINK_OUT if sounding <= 2 else SINK_FIRST
        waiting = -1  # a voice in lane 0, waiting for a partner
        waiting_off = 0
        waiting_live = 0
        for v in range(fs.shape[0]):
            if vs[v, I_STAGE] == IDLE:
                continue
            off = vs[v, I_AGE] & CONTROL_MASK
            lane = 0 if waiting < 0 else 1
            live = _plan(fs, vs, v, m, lane, params, ctl, table, tick, itick)
            _sound(vs, v, m, off, lane, params, waves, itick, buf)
            if waiting < 0:
                waiting = v
                waiting_off = off
                waiting_live = live
            else:
                length = max(live, waiting_live)
                _filter_pair(
                    fs, waiting, v, waiting_off, off, length, m, tick, buf, out, done, sink
                )
                if sink == SINK_FIRST:
                    sink = SINK_ADD
                waiting = -1
        if waiting >= 0:
            _filter_pair(
                fs, waiting, -1, waiting_off, 0, waiting_live, m, tick, buf, out, done, sink
            )
        if sounding > 2:
            for j in range(m):
                out[done + j] += buf[j]
        done += m
    active = 0
    for v in range(fs.shape[0]):
        if vs[v, I_STAGE] != IDLE:
            active += 1
    return active


# Voice allocation: note on (with stealing), note off, pedal and panic. Compiled like the render
# kernel so an event costs about a microsecond, not a Python loop over the voice table. Each
# returns the number of active voices, which the instance caches.

UNSET = -1e300  # forces the first control update to compute increments and coefficients


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def count_active(vs) -> int:  # type: ignore[no-untyped-def]
    count = 0
    for v in range(vs.shape[0]):
        if vs[v, I_STAGE] != IDLE:
            count += 1
    return count


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _playing(vs, v) -> bool:  # type: ignore[no-untyped-def]
    """Sounding and not already on its way out (fading or finished)."""
    return vs[v, I_STAGE] != IDLE and vs[v, I_STAGE] != FADE and vs[v, I_DYING] == 0


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _fade(fs, vs, v, params) -> None:  # type: ignore[no-untyped-def]
    """Silence a voice within FADE_SECONDS (from the next control period on)."""
    if vs[v, I_DYING] == 1:
        return
    vs[v, I_STAGE] = FADE
    vs[v, I_KEY] = 0
    vs[v, I_HELD] = 0
    fs[v, F_FADE] = fs[v, F_LEVEL] / params[P_FADE_PERIODS]


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _oldest(vs, released_only) -> int:  # type: ignore[no-untyped-def]
    """The oldest playing voice (only among released ones if asked); -1 if none."""
    best = -1
    for v in range(vs.shape[0]):
        if not _playing(vs, v):
            continue
        if released_only and vs[v, I_STAGE] != RELEASE:
            continue
        if best < 0 or vs[v, I_ORDER] < vs[best, I_ORDER]:
            best = v
    return best


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def _set_pitch(fs, v, params, pitch, velocity) -> None:  # type: ignore[no-untyped-def]
    fs[v, F_TARGET] = pitch
    fs[v, F_BASE_OCT] = (
        params[P_CUTOFF_OCT]
        + params[P_VEL_CUTOFF] * (velocity / 127.0)
        + params[P_KEY_TRACK] * (pitch - 60) / 12.0
    )


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def note_on(fs, vs, params, pitch, velocity, order, from_pitch) -> int:  # type: ignore[no-untyped-def]
    """Start a voice, stealing at the polyphony limit (the oldest released voice, else the
    oldest one, fades out). `from_pitch` is where a glide starts, -1 for none."""
    gliding = params[P_GLIDE] > 0.0 and from_pitch >= 0
    if int(params[P_POLYPHONY]) == 1 and gliding:
        # A mono synth with glide plays legato: a new key slides the held voice.
        for v in range(vs.shape[0]):
            if vs[v, I_KEY] == 1 and _playing(vs, v):
                _set_pitch(fs, v, params, pitch, velocity)
                vs[v, I_NOTE] = pitch
                vs[v, I_ORDER] = order
                return count_active(vs)
    playing = 0
    for v in range(vs.shape[0]):
        if _playing(vs, v):
            playing += 1
    if playing >= int(params[P_POLYPHONY]):
        victim = _oldest(vs, True)
        if victim < 0:
            victim = _oldest(vs, False)
        _fade(fs, vs, victim, params)
    slot = -1
    for v in range(vs.shape[0]):
        if vs[v, I_STAGE] == IDLE:
            slot = v
            break
    if slot < 0:
        # Every spare slot still fades out: take the quietest.
        for v in range(vs.shape[0]):
            if slot < 0 or fs[v, F_LEVEL] < fs[slot, F_LEVEL]:
                slot = v
    v = slot
    vel = velocity / 127.0
    vel_amp = params[P_VEL_AMP]
    fs[v, :] = 0.0
    fs[v, F_GAIN] = BASE_LEVEL * params[P_GAIN] * ((1.0 - vel_amp) + vel_amp * vel * vel)
    _set_pitch(fs, v, params, pitch, velocity)
    fs[v, F_PITCH] = from_pitch if gliding else pitch
    fs[v, F_SEMIS] = UNSET
    fs[v, F_OCTAVE] = UNSET
    vs[v, :] = 0
    vs[v, I_STAGE] = ATTACK
    vs[v, I_FSTAGE] = ATTACK
    vs[v, I_KEY] = 1
    vs[v, I_NOTE] = pitch
    vs[v, I_ORDER] = order
    vs[v, I_AGE] = 0
    vs[v, I_NOISE] = ((order * 2654435761 + 12345) & MASK32) | 1
    # A saw starts mid-ramp (value 0) so an instant attack does not click; others start at 0.
    vs[v, I_PHASE1] = HALF_CYCLE if int(params[P_WAVE1]) == SAW else 0
    vs[v, I_PHASE2] = HALF_CYCLE if int(params[P_WAVE2]) == SAW else 0
    return count_active(vs)


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def note_off(fs, vs, params, pitch, cut, pedal) -> int:  # type: ignore[no-untyped-def]
    """Release (or cut) the oldest key-down voice of `pitch`. A cut also takes a voice whose
    key is already up (releasing or pedal-held) when no key-down one is left."""
    best = -1
    for v in range(vs.shape[0]):
        key_down = vs[v, I_NOTE] == pitch and vs[v, I_KEY] == 1 and _playing(vs, v)
        if key_down and (best < 0 or vs[v, I_ORDER] < vs[best, I_ORDER]):
            best = v
    if best < 0 and cut:
        for v in range(vs.shape[0]):
            sounding = vs[v, I_NOTE] == pitch and _playing(vs, v)
            if sounding and (best < 0 or vs[v, I_ORDER] < vs[best, I_ORDER]):
                best = v
    if best >= 0:
        if cut:
            _fade(fs, vs, best, params)
        elif pedal:
            vs[best, I_KEY] = 0
            vs[best, I_HELD] = 1
        else:
            vs[best, I_KEY] = 0
            vs[best, I_STAGE] = RELEASE
    return count_active(vs)


@numba.njit(cache=True, fastmath=False, error_model="numpy")
def release_all(fs, vs, params, cut, pedal, held_only) -> int:  # type: ignore[no-untyped-def]
    """All notes off (respecting the pedal), or with `held_only` the pedal's release, or with
    `cut` all sound off (every voice fades)."""
    for v in range(vs.shape[0]):
        if not _playing(vs, v):
            continue
        if cut:
            _fade(fs, vs, v, params)
        elif held_only:
            if vs[v, I_HELD] == 1:
                vs[v, I_HELD] = 0
                vs[v, I_STAGE] = RELEASE
        elif vs[v, I_KEY] == 1:
            vs[v, I_KEY] = 0
            if pedal:
                vs[v, I_HELD] = 1
            else:
                vs[v, I_STAGE] = RELEASE
    return count_active(vs)
