"""Numba kernels of the built-in effects: delay, reverb, biquad filter and lookahead limiter.

Each kernel processes one (frames, 2) float32 block in place and keeps every piece of state in
arrays its effect object allocated up front, so a call allocates nothing and a signal split
into blocks of any sizes gives the same samples as one call: state is carried sample by sample
and no computation depends on where a block starts or ends.

Internal arithmetic and state are float64: feedback loops (delay repeats, reverb combs, filter
states) then lose no precision over long tails, and only the output is rounded to float32.

Denormals: a decaying feedback loop ends in subnormal numbers, which cost ~100× per operation
on x86. Every value written back into a loop is flushed to exactly 0 below FLUSH (-600 dB: far
below anything audible, and still a normal float32, so the output stays clear of subnormals
too), so a tail ends in true zeros.

Every compiled function and every constant they read live in this one file on purpose: numba's
on-disk cache is invalidated only when the function's own source file changes, so a constant
imported from another module could change under a stale cached kernel.
"""

from __future__ import annotations

import numba
import numpy as np

FLUSH = 1e-30  # |x| below this in a feedback path becomes 0 (no subnormals, tails end in zeros)

# Reverb layout: 8 combs per channel, then 4 allpasses per channel, in `lines` one after another
# (left channel first). Freeverb's allpass feedback is fixed.
COMBS = 8
COMB_GROUP = 4  # combs run four at a time (see _combs)
ALLPASSES = 4
ALLPASS_FEEDBACK = 0.5

# Reverb coefficients, in the order of the `coef` array the effect passes.
(
    R_INPUT_GAIN,  # (left + right) × this feeds the combs
    R_FEEDBACK,  # comb feedback (the room size)
    R_DAMP1,  # comb lowpass: store = out × DAMP2 + store × DAMP1
    R_DAMP2,
    R_WET1,  # own channel's reverb × WET1 + the other channel's × WET2 (stereo width) …
    R_WET2,
    R_WET,  # … × WET (mix × wet scale) …
    R_DRY,  # … + input × DRY (1 - mix)
    R_COEFS,
) = range(9)

# Limiter gains are summed as integers in units of 2**-GAIN_BITS so the moving average over
# the lookahead window is exact: no drift over hours, and an all-unity window averages to 1.0
# exactly (a quiet signal passes bit-identical).
GAIN_BITS = 40
GAIN_ONE = 1 << GAIN_BITS
GAIN_STEP = 1.0 / GAIN_ONE  # a release within this of its target snaps to it

# Limiter integer state, in the order of its `ints` array.
(
    L_HEAD,  # deque of (required gain, frame) pairs: index of its front in the rings
    L_COUNT,  # deque length
    L_FRAME,  # frames processed since reset: the deque's clock
    L_POS,  # write position in the window rings (frame mod window)
    L_SUM,  # sum of the quantised envelope over the window
    L_INTS,
) = range(6)


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True, inline="always")
def _flush(x: float) -> float:
    """x, or 0 when it is too small to matter (keeps subnormals out of feedback loops)."""
    return x if (x > FLUSH or x < -FLUSH) else 0.0


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _combs(lines, starts, lengths, pos, stores, first, feed, acc, n, feedback, damp1, damp2):  # type: ignore[no-untyped-def]
    """Combs first .. first+3 over the block, their outputs added into acc.

    Four at a time because each comb's lowpass is a chain of dependent multiply-adds: four
    independent chains keep the CPU's pipelines busy (about 2.5× faster than one by one).
    """
    s0 = starts[first]
    s1 = starts[first + 1]
    s2 = starts[first + 2]
    s3 = starts[first + 3]
    n0 = lengths[first]
    n1 = lengths[first + 1]
    n2 = lengths[first + 2]
    n3 = lengths[first + 3]
    p0 = pos[first]
    p1 = pos[first + 1]
    p2 = pos[first + 2]
    p3 = pos[first + 3]
    f0 = stores[first]
    f1 = stores[first + 1]
    f2 = stores[first + 2]
    f3 = stores[first + 3]
    for i in range(n):
        x = feed[i]
        o0 = lines[s0 + p0]
        o1 = lines[s1 + p1]
        o2 = lines[s2 + p2]
        o3 = lines[s3 + p3]
        f0 = _flush(o0 * damp2 + f0 * damp1)
        f1 = _flush(o1 * damp2 + f1 * damp1)
        f2 = _flush(o2 * damp2 + f2 * damp1)
        f3 = _flush(o3 * damp2 + f3 * damp1)
        lines[s0 + p0] = _flush(x + f0 * feedback)
        lines[s1 + p1] = _flush(x + f1 * feedback)
        lines[s2 + p2] = _flush(x + f2 * feedback)
        lines[s3 + p3] = _flush(x + f3 * feedback)
        acc[i] += (o0 + o1) + (o2 + o3)
        p0 = p0 + 1 if p0 + 1 < n0 else 0
        p1 = p1 + 1 if p1 + 1 < n1 else 0
        p2 = p2 + 1 if p2 + 1 < n2 else 0
        p3 = p3 + 1 if p3 + 1 < n3 else 0
    pos[first] = p0
    pos[first + 1] = p1
    pos[first + 2] = p2
    pos[first + 3] = p3
    stores[first] = f0
    stores[first + 1] = f1
    stores[first + 2] = f2
    stores[first + 3] = f3


# nogil: the live engine renders in its own thread while the UI keeps running.
@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def delay_process(block, lines, pos, feedback, mix, pingpong):  # type: ignore[no-untyped-def]
    """Delay with feedback; out = dry × (1 - mix) + delayed × mix.

    `lines` (2, delay frames) float64 are the two delay lines, `pos` (int64[1]) the shared
    read/write position. Straight: each channel feeds its own line. Ping-pong: the mono sum
    enters the left line, whose output feeds the right line, whose output feeds back left, so
    the repeats alternate sides starting on the left.
    """
    n = block.shape[0]
    length = lines.shape[1]
    p = pos[0]
    dry = 1.0 - mix
    for i in range(n):
        x0 = np.float64(block[i, 0])
        x1 = np.float64(block[i, 1])
        w0 = lines[0, p]
        w1 = lines[1, p]
        if pingpong:
            lines[0, p] = _flush(0.5 * (x0 + x1) + feedback * w1)
            lines[1, p] = _flush(feedback * w0)
        else:
            lines[0, p] = _flush(x0 + feedback * w0)
            lines[1, p] = _flush(x1 + feedback * w1)
        block[i, 0] = x0 * dry + w0 * mix
        block[i, 1] = x1 * dry + w1 * mix
        p += 1
        if p == length:
            p = 0
    pos[0] = p


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def reverb_process(block, lines, starts, lengths, pos, stores, scratch, coef):  # type: ignore[no-untyped-def]
    """Freeverb: 8 parallel lowpass-feedback combs into 4 series allpasses, per channel.

    `lines` holds every comb and allpass buffer (float64) at `starts[k]` with `lengths[k]`
    samples: combs 0-7 left, 8-15 right, allpasses 16-19 left, 20-23 right; `pos[k]` are their
    positions and `stores[k]` the comb lowpass states. `scratch` (3, max_block) float64 holds
    the comb input and the two channels' sums.

    Each filter runs over the whole block with its state in registers (one pass per filter or
    group of combs, not one per sample over all 24): several times faster, and still block-size
    independent because each filter is causal and the combs add into the sums in a fixed order.
    """
    n = block.shape[0]
    feed = scratch[0]
    for i in range(n):
        feed[i] = (np.float64(block[i, 0]) + np.float64(block[i, 1])) * coef[R_INPUT_GAIN]
        scratch[1, i] = 0.0
        scratch[2, i] = 0.0
    feedback = coef[R_FEEDBACK]
    damp1 = coef[R_DAMP1]
    damp2 = coef[R_DAMP2]
    for first in range(0, 2 * COMBS, COMB_GROUP):
        _combs(lines, starts, lengths, pos, stores, first, feed, scratch[1 + first // COMBS],
               n, feedback, damp1, damp2)  # fmt: skip
    for k in range(2 * COMBS, 2 * COMBS + 2 * ALLPASSES):
        acc = scratch[1 + (k - 2 * COMBS) // ALLPASSES]
        start = starts[k]
        length = lengths[k]
        p = pos[k]
        for i in range(n):
            x = acc[i]
            held = lines[start + p]
            acc[i] = held - x
            lines[start + p] = _flush(x + held * ALLPASS_FEEDBACK)
            p += 1
            if p == length:
                p = 0
        pos[k] = p
    wet1 = coef[R_WET1]
    wet2 = coef[R_WET2]
    wet = coef[R_WET]
    dry = coef[R_DRY]
    for i in range(n):
        left = scratch[1, i]
        right = scratch[2, i]
        block[i, 0] = np.float64(block[i, 0]) * dry + (left * wet1 + right * wet2) * wet
        block[i, 1] = np.float64(block[i, 1]) * dry + (right * wet1 + left * wet2) * wet


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def biquad_process(block, coef, state):  # type: ignore[no-untyped-def]
    """RBJ biquad in transposed direct form II, both channels; coef = b0, b1, b2, a1, a2
    (normalised by a0), state (2, 2) float64 = (s1, s2) per channel."""
    n = block.shape[0]
    b0 = coef[0]
    b1 = coef[1]
    b2 = coef[2]
    a1 = coef[3]
    a2 = coef[4]
    # Both channels in one loop: two independent chains of multiply-adds run side by side.
    l1 = state[0, 0]
    l2 = state[0, 1]
    r1 = state[1, 0]
    r2 = state[1, 1]
    for i in range(n):
        x = np.float64(block[i, 0])
        y = b0 * x + l1
        l1 = _flush(b1 * x - a1 * y + l2)
        l2 = _flush(b2 * x - a2 * y)
        block[i, 0] = y
        x = np.float64(block[i, 1])
        y = b0 * x + r1
        r1 = _flush(b1 * x - a1 * y + r2)
        r2 = _flush(b2 * x - a2 * y)
        block[i, 1] = y
    state[0, 0] = l1
    state[0, 1] = l2
    state[1, 0] = r1
    state[1, 1] = r2


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def biquad_tail(coef, threshold, limit) -> int:  # type: ignore[no-untyped-def]
    """Frames after which a biquad's output stays below `threshold` for any input within ±1.

    After the input stops at frame t0, |y(t0 + n)| ≤ Σ_{k>n} |h[k]| (h the impulse response),
    so the answer is the first n where that tail sum drops below the threshold. h is computed
    until its state falls below 1e-15 (the rest of the sum is then < 1e-9 even for the slowest
    poles the parameter ranges allow) or `limit` frames.
    """
    b0 = coef[0]
    b1 = coef[1]
    b2 = coef[2]
    a1 = coef[3]
    a2 = coef[4]
    # Pass 1: the whole sum and its length.
    total = 0.0
    s1 = 0.0
    s2 = 0.0
    x = 1.0
    frames = 0
    while frames < limit:
        y = b0 * x + s1
        s1 = b1 * x - a1 * y + s2
        s2 = b2 * x - a2 * y
        x = 0.0
        total += abs(y)
        frames += 1
        if abs(s1) < 1e-15 and abs(s2) < 1e-15:
            break
    # Pass 2: the first frame whose remaining sum is below the threshold.
    s1 = 0.0
    s2 = 0.0
    x = 1.0
    for n in range(frames):
        if total < threshold:
            return n
        y = b0 * x + s1
        s1 = b1 * x - a1 * y + s2
        s2 = b2 * x - a2 * y
        x = 0.0
        total -= abs(y)
    return frames


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def limiter_process(block, ints, envelope, gains, stamps, quanta, held, coef):  # type: ignore[no-untyped-def]
    """Lookahead peak limiter: |output| ≤ ceiling for every sample, by construction.

    For each input frame t the gain it needs is g(t) = min(1, ceiling / peak). With a window of
    W = lookahead + 1 frames:

    1. h(t) = min of g over frames t-W+1 .. t (a monotonic deque: amortised O(1) per frame);
    2. e(t): instant attack to h, exponential release towards it (so e ≤ h always);
    3. the applied gain is the mean of e over the last W frames, and it multiplies the input
       delayed by W - 1 frames.

    Every h in that mean covers frame t-W+1, so gain ≤ g(t-W+1): the delayed sample is within
    the ceiling, and the mean makes the attack a ramp that reaches its floor as the peak
    arrives. e is summed as integers (GAIN_BITS) so the mean is exact and never drifts; a final
    clamp absorbs the last rounding of products and quotients (and turns NaN into 0).

    ints: L_* fields; envelope: float64[1] = e; gains/stamps: the deque's rings (W);
    quanta: int64 ring of quantised e (W); held: (W, 2) float64 ring of the input;
    coef: ceiling (a float32 value), release coefficient.
    """
    n = block.shape[0]
    window = quanta.shape[0]
    ceiling = coef[0]
    release = coef[1]
    head = ints[L_HEAD]
    count = ints[L_COUNT]
    frame = ints[L_FRAME]
    p = ints[L_POS]
    total = ints[L_SUM]
    e = envelope[0]
    denominator = np.float64(window) * GAIN_ONE  # exact: W × 2**40 < 2**53
    for i in range(n):
        x0 = np.float64(block[i, 0])
        x1 = np.float64(block[i, 1])
        peak = max(abs(x0), abs(x1))
        need = 1.0
        if not peak <= ceiling:
            need = ceiling / peak if peak == peak else 0.0  # NaN input: mute around it
        # The deque keeps increasing gains from front to back; drop the expired front first so
        # it never holds more than W entries.
        if count > 0 and stamps[head] <= frame - window:
            head += 1
            if head == window:
                head = 0
            count -= 1
        while count > 0:
            back = head + count - 1
            if back >= window:
                back -= window
            if gains[back] < need:
                break
            count -= 1
        back = head + count
        if back >= window:
            back -= window
        gains[back] = need
        stamps[back] = frame
        count += 1
        target = gains[head]
        if target < e:
            e = target
        else:
            e += (target - e) * release
            # Snap when close (also undoes a rounding overshoot): e ≤ target stays true, and a
            # release ends at exactly 1.0, so the gain returns to exact unity.
            if target - e < GAIN_STEP:
                e = target
        q = np.int64(e * GAIN_ONE)  # truncation: the quantised gain never exceeds e
        total += q - quanta[p]
        quanta[p] = q
        held[p, 0] = x0
        held[p, 1] = x1
        p += 1
        if p == window:
            p = 0
        # After the increment p is the oldest slot: the frame W - 1 back.
        gain = np.float64(total) / denominator  # a full window of unity gives exactly 1.0
        for ch in range(2):
            y = held[p, ch] * gain
            if y > ceiling:
                y = ceiling
            elif y < -ceiling:
                y = -ceiling
            elif y != y:
                y = 0.0
            block[i, ch] = y
        frame += 1
    ints[L_HEAD] = head
    ints[L_COUNT] = count
    ints[L_FRAME] = frame
    ints[L_POS] = p
    ints[L_SUM] = total
    envelope[0] = e
