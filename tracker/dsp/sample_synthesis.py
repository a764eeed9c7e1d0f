"""Our own samples, synthesised from scratch: a drum kit and a multi-sampled electric piano.

No third-party audio: every WAV in instruments/samples/ is made here, deterministically (noise
comes from a counter hash, not a library RNG whose stream could change), so a test can rebuild
them and compare. Run `python -m tracker.dsp.sample_synthesis instruments/samples` to write them.

Stationary sources (oscillators, noise) are filtered in the frequency domain first and shaped by
their envelopes after, so the zero-phase FFT filters cannot smear a transient backwards.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile

from tracker.atomic import atomic_path

RATE = 48000
PEAK = 10.0 ** (-1.0 / 20.0)  # -1 dBFS
KEYS_ROOTS = {"c3": 48, "c4": 60, "c5": 72}  # C-4 is MIDI 60 in this project
KEYS_LOOP_START_SECONDS = 1.6  # every transient has faded out by here (see electric_piano)
TAU = 2.0 * np.pi

Shape = Callable[[np.ndarray], np.ndarray]


# --- building blocks -------------------------------------------------------------------------


def noise(frames: int, seed: int) -> np.ndarray:
    """White noise in [-1, 1) from splitmix64 over a counter: the same on every machine."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    z = (np.arange(1, frames + 1, dtype=np.uint64) + np.uint64(seed) * np.uint64(1 << 32)) * golden
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-52 - 1.0


def uniform(count: int, seed: int, low: float, high: float) -> np.ndarray:
    return low + (high - low) * (noise(count, seed) + 1.0) / 2.0


def times(seconds: float, rate: int) -> np.ndarray:
    return np.arange(round(seconds * rate)) / rate


def filtered(x: np.ndarray, rate: int, *shapes: Shape) -> np.ndarray:
    """Multiply the spectrum of `x` by magnitude responses (functions of frequency in Hz)."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    for shape in shapes:
        spectrum *= shape(freqs)
    return np.fft.irfft(spectrum, len(x))


def highpass(cutoff: float, order: int = 2) -> Shape:
    """Butterworth-like magnitude: -3 dB at `cutoff`, 6·order dB per octave below."""
    return lambda f: 1.0 / np.sqrt(1.0 + (cutoff / np.maximum(f, 1e-9)) ** (2 * order))


def lowpass(cutoff: float, order: int = 2) -> Shape:
    return lambda f: 1.0 / np.sqrt(1.0 + (f / cutoff) ** (2 * order))


def bump(centre: float, octaves: float, gain_db: float) -> Shape:
    """A bell-shaped boost (or cut) `octaves` wide around `centre`, in log frequency."""
    gain = 10.0 ** (gain_db / 20.0) - 1.0
    return lambda f: (
        1.0 + gain * np.exp(-0.5 * (np.log2(np.maximum(f, 1e-9) / centre) / octaves) ** 2)
    )


def decay(t: np.ndarray, seconds: float) -> np.ndarray:
    return np.exp(-t / seconds)


def attack(t: np.ndarray, seconds: float) -> np.ndarray:
    """A quick smooth onset, so nothing starts with a step (a click we did not design)."""
    return np.sin(0.5 * np.pi * np.minimum(t / seconds, 1.0)) ** 2


def sweep(t: np.ndarray, rate: int, start: float, end: float, seconds: float) -> np.ndarray:
    """Phase of a sine gliding exponentially from `start` Hz to `end` Hz."""
    return TAU * np.cumsum(end + (start - end) * decay(t, seconds)) / rate


def square(t: np.ndarray, freq: float, rate: int, phase: float = 0.0) -> np.ndarray:
    """A band-limited square (odd harmonics below 20 kHz and Nyquist): metal without aliasing."""
    out = np.zeros_like(t)
    top = min(20000.0, 0.45 * rate)
    for k in range(1, int(top / freq) + 1, 2):
        out += np.sin(k * (TAU * freq * t + phase)) / k
    return out * (4.0 / np.pi)


def partials(
    t: np.ndarray, freqs: np.ndarray, amps: np.ndarray, taus: np.ndarray, seed: int
) -> np.ndarray:
    """A sum of decaying sines with hashed phases: the body of bells and cymbals."""
    phases = uniform(len(freqs), seed, 0.0, TAU)
    out = np.zeros_like(t)
    for f, a, tau, p in zip(freqs, amps, taus, phases, strict=True):
        out += a * np.sin(TAU * f * t + p) * decay(t, tau)
    return out


def drive(x: np.ndarray, amount: float) -> np.ndarray:
    """Soft saturation: louder body for the same peak, the way a hot preamp rounds a drum."""
    return np.tanh(amount * x) / np.tanh(amount)


def finish(x: np.ndarray, rate: int, fade_seconds: float = 0.02) -> np.ndarray:
    """Fade the last moments to exact silence and peak-normalise to -1 dBFS."""
    fade = min(len(x), round(fade_seconds * rate))
    x = x.copy()
    if fade:
        x[len(x) - fade :] *= np.cos(0.5 * np.pi * np.arange(1, fade + 1) / fade) ** 2
    return x * (PEAK / np.max(np.abs(x)))


# --- drums -----------------------------------------------------------------------------------


def kick(rate: int) -> np.ndarray:
    t = times(0.5, rate)
    # The pitch drop from ~260 Hz is the punch; it settles at 50 Hz, felt as much as heard.
    body = np.sin(sweep(t, rate, 260.0, 50.0, 0.028)) * decay(t, 0.15) * (1 + 0.5 * decay(t, 0.02))
    click = filtered(noise(len(t), 1), rate, highpass(1500.0), lowpass(9000.0, 1))
    click *= 0.9 * decay(t, 0.0025) * attack(t, 0.0002)
    return finish(drive(body * attack(t, 0.0004) + click, 1.8), rate, 0.05)


def snare(rate: int) -> np.ndarray:
    t = times(0.45, rate)
    shell = 0.8 * np.sin(sweep(t, rate, 240.0, 190.0, 0.012)) * decay(t, 0.05)
    shell += 0.45 * np.sin(sweep(t, rate, 400.0, 335.0, 0.01)) * decay(t, 0.035)
    wires = filtered(noise(len(t), 2), rate, highpass(1200.0), lowpass(9000.0), bump(3800, 1, 5))
    wires *= 0.9 * decay(t, 0.1)
    snap = filtered(noise(len(t), 3), rate, highpass(3000.0, 3)) * 0.5 * decay(t, 0.006)
    mix = (shell + wires / np.std(wires[:2400]) * 0.35 + snap) * attack(t, 0.0005)
    return finish(drive(mix, 1.4), rate, 0.05)


def clap(rate: int) -> np.ndarray:
    t = times(0.5, rate)
    band = filtered(noise(len(t), 4), rate, highpass(800.0), lowpass(3500.0), bump(1300, 0.6, 6))
    band /= np.std(band)
    env = np.zeros_like(t)
    # Several hands a few milliseconds apart, then the room: what makes a clap a clap.
    for start in (0.0, 0.009, 0.019, 0.031):
        later = np.maximum(t - start, 0.0)
        env = np.maximum(env, (t >= start) * decay(later, 0.004) * attack(later, 0.0003))
    tail_t = np.maximum(t - 0.031, 0.0)
    env = np.maximum(env, (t >= 0.031) * 0.8 * decay(tail_t, 0.11))
    return finish(drive(band * env, 1.3), rate, 0.05)


def side_stick(rate: int) -> np.ndarray:
    t = times(0.2, rate)
    wood = 0.6 * np.sin(TAU * 480.0 * t) * decay(t, 0.018)
    wood += 0.5 * np.sin(TAU * 1650.0 * t + 0.5) * decay(t, 0.011)
    click = filtered(noise(len(t), 5), rate, highpass(2000.0), lowpass(8000.0))
    click *= 0.8 / np.std(click) * decay(t, 0.003) * 0.35
    return finish(drive((wood + click) * attack(t, 0.0002), 1.5), rate, 0.03)


def metal(t: np.ndarray, rate: int, seed: int) -> np.ndarray:
    """The 808's hi-hat source: six detuned squares, plus noise, both kept above ~7 kHz later."""
    squares = np.zeros_like(t)
    for freq, phase in zip(
        (205.3, 304.4, 369.6, 522.7, 540.0, 800.0), uniform(6, seed, 0, TAU), strict=True
    ):
        squares += square(t, freq, rate, phase)
    hiss = noise(len(t), seed + 1)
    return squares / np.std(squares) + 0.7 * hiss / np.std(hiss)


def hat(
    rate: int, seconds: float, env: Callable[[np.ndarray], np.ndarray], low: float
) -> np.ndarray:
    t = times(seconds, rate)
    source = filtered(
        metal(t, rate, 10), rate, highpass(low, 3), lowpass(16000.0, 1), bump(10000.0, 0.7, 4)
    )
    return finish(source * env(t), rate, 0.02)


def hat_closed(rate: int) -> np.ndarray:
    return hat(rate, 0.2, lambda t: attack(t, 0.0003) * decay(t, 0.022), 7000.0)


def hat_pedal(rate: int) -> np.ndarray:
    # The foot closing the hats: a softer onset and a duller, slightly longer "chick".
    return hat(rate, 0.25, lambda t: attack(t, 0.002) * decay(t, 0.03), 5000.0)


def hat_open(rate: int) -> np.ndarray:
    return hat(
        rate,
        1.1,
        lambda t: attack(t, 0.0005) * (0.75 * decay(t, 0.4) + 0.25 * decay(t, 0.02)),
        6500.0,
    )


def cymbal(
    rate: int, seconds: float, seed: int, low: float, high: float, tau: float, count: int = 70
) -> np.ndarray:
    """A crash-like cymbal: many inharmonic partials in [low, high] Hz plus a bright wash."""
    t = times(seconds, rate)
    freqs = np.exp(uniform(count, seed, np.log(low), np.log(high)))
    taus = tau * uniform(count, seed + 1, 0.4, 1.0) * (low / freqs) ** 0.15
    ring = partials(t, freqs, uniform(count, seed + 2, 0.3, 1.0), taus, seed + 3)
    wash = filtered(noise(len(t), seed + 4), rate, highpass(3000.0, 2), bump(8000, 1, 3))
    wash *= decay(t, tau * 0.8) + 1.5 * decay(t, 0.03)
    mix = ring / np.std(ring[: rate // 10]) * 0.5 + wash / np.std(wash[: rate // 10])
    return mix * attack(t, 0.001)


def crash(rate: int) -> np.ndarray:
    return finish(cymbal(rate, 2.2, 20, 400.0, 12000.0, 1.1), rate, 0.3)


def splash(rate: int) -> np.ndarray:
    return finish(cymbal(rate, 1.2, 30, 700.0, 14000.0, 0.35), rate, 0.15)


def china(rate: int) -> np.ndarray:
    # Trashier than a crash: more energy in the mids and a hard-driven, raw edge.
    raw = cymbal(rate, 1.6, 40, 350.0, 7000.0, 0.55, 90)
    return finish(drive(raw / np.max(np.abs(raw)), 1.8), rate, 0.25)


def ride(rate: int) -> np.ndarray:
    t = times(2.2, rate)
    freqs = np.exp(uniform(40, 50, np.log(2000.0), np.log(9000.0)))
    ping = partials(t, freqs, uniform(40, 51, 0.3, 1.0), uniform(40, 52, 0.08, 0.3), 53)
    body = partials(
        t, np.array([420.0, 613.0, 889.0]), np.array([0.5, 0.35, 0.25]), np.full(3, 1.4), 54
    )
    wash = filtered(noise(len(t), 55), rate, highpass(4000.0, 2), bump(7500, 0.8, 4))
    wash = wash / np.std(wash) * (0.25 * decay(t, 1.5) + 0.6 * decay(t, 0.01))
    mix = ping / np.std(ping[:4800]) + body / np.std(body[:4800]) * 0.25 + wash
    return finish(mix * attack(t, 0.0003), rate, 0.3)


def ride_bell(rate: int) -> np.ndarray:
    t = times(2.0, rate)
    ratios = np.array([1.0, 1.47, 2.09, 2.56, 3.08, 4.12, 5.33, 6.7])
    bell = partials(
        t,
        780.0 * ratios,
        np.array([1.0, 0.6, 0.75, 0.5, 0.4, 0.3, 0.2, 0.15]),
        1.3 / ratios**0.6,
        60,
    )
    tick = filtered(noise(len(t), 61), rate, highpass(3000.0), lowpass(10000.0))
    tick = tick / np.std(tick) * 1.0 * decay(t, 0.004)
    return finish((bell / np.std(bell[:4800]) + tick) * attack(t, 0.0003), rate, 0.3)


def tom(rate: int, pitch: float, tau: float) -> np.ndarray:
    t = times(0.25 + 3.0 * tau, rate)
    head = np.sin(sweep(t, rate, pitch * 1.45, pitch, 0.05)) * decay(t, tau)
    head += 0.3 * np.sin(sweep(t, rate, pitch * 2.3, pitch * 1.6, 0.04)) * decay(t, tau * 0.4)
    stick = filtered(noise(len(t), 70), rate, highpass(1500.0), lowpass(8000.0))
    stick = stick / np.std(stick) * 0.6 * decay(t, 0.005)
    return finish(drive((head + stick) * attack(t, 0.0004), 1.3), rate, 0.1)


def tambourine(rate: int) -> np.ndarray:
    t = times(0.5, rate)
    freqs = np.exp(uniform(24, 80, np.log(5000.0), np.log(12000.0)))
    jingles = partials(t, freqs, uniform(24, 81, 0.5, 1.0), uniform(24, 82, 0.05, 0.15), 83)
    hiss = filtered(noise(len(t), 84), rate, highpass(6000.0, 3), lowpass(15000.0, 1))
    source = jingles / np.std(jingles[:4800]) + hiss / np.std(hiss) * 0.8
    env = np.zeros_like(t)
    # The hand hits, then the jingles rattle against each other a few times as they settle.
    for start, level in ((0.0, 1.0), (0.011, 0.6), (0.024, 0.45), (0.04, 0.3)):
        later = np.maximum(t - start, 0.0)
        env += (t >= start) * level * decay(later, 0.02) * attack(later, 0.0005)
    env += 0.35 * decay(t, 0.12) * attack(t, 0.002)
    return finish(source * env, rate, 0.05)


def cowbell(rate: int) -> np.ndarray:
    t = times(0.5, rate)
    source = square(t, 562.0, rate) + square(t, 845.0, rate, 1.0)
    source = filtered(source, rate, highpass(500.0, 2), lowpass(4500.0, 2), bump(900, 0.5, 5))
    env = attack(t, 0.0003) * (0.6 * decay(t, 0.015) + 0.4 * decay(t, 0.14))
    return finish(source * env, rate, 0.05)


# --- electric piano --------------------------------------------------------------------------


def keys_loop(root: int, rate: int = RATE) -> tuple[int, int]:
    """Loop start and end (frames) of the keys sample at `root`: a whole number of periods."""
    start = round(KEYS_LOOP_START_SECONDS * rate)
    return start, start + round(keys_periods(root) * rate / keys_pitch(root))


def keys_pitch(root: int) -> float:
    return 440.0 * 2.0 ** ((root - 69) / 12.0)


def keys_periods(root: int) -> int:
    """How many cycles fill the loop (about 0.3 s of them)."""
    return max(1, round(0.3 * keys_pitch(root)))


def electric_piano(rate: int, root: int, loud: bool) -> np.ndarray:
    """A tine piano, DX7-style FM: a 1:1 pair for the body, a 1:14 pair for the tine's ding.

    Every transient part is multiplied by a window that reaches exactly 0 before the loop
    starts, and the steady part is a fixed sum of harmonics of a pitch that fits the loop a whole
    number of times: the loop then repeats exactly, however long a key is held. (That nudges the
    pitch by under 0.1 cent, since the loop length is a whole number of frames.)
    """
    start, end = keys_loop(root, rate)
    freq = keys_periods(root) * rate / (end - start)
    t = np.arange(end) / rate
    fade_from, fade_to = 1.0, KEYS_LOOP_START_SECONDS - 0.05
    window = np.clip((fade_to - t) / (fade_to - fade_from), 0.0, 1.0)
    window = np.sin(0.5 * np.pi * window) ** 2
    phase = TAU * freq * t
    # Higher notes die away faster, as on the instrument.
    tau = 0.55 * 2.0 ** (-(root - 48) / 24.0)
    index = 0.15 + (2.0 if loud else 0.8) * decay(t, 0.35) * window
    body = np.sin(phase + index * np.sin(phase))
    tine_index = (1.6 if loud else 0.6) * decay(t, 0.02) * window
    tine = np.sin(phase + tine_index * np.sin(14.0 * phase)) - np.sin(phase)
    sustain = 0.07
    level = sustain + (1.0 - sustain) * decay(t, tau) * window
    ding = (0.5 if loud else 0.25) * decay(t, 0.25) * window
    thump = filtered(noise(len(t), root), rate, highpass(800.0), lowpass(4000.0))
    thump = thump / np.std(thump) * (0.05 if loud else 0.02) * decay(t, 0.003) * window
    onset = attack(t, 0.001 if loud else 0.003)
    return finish((body * level + tine * ding + thump) * onset, rate, 0.0)


# --- the collection --------------------------------------------------------------------------

DRUMS: dict[str, Callable[[int], np.ndarray]] = {
    "kick": kick,
    "snare": snare,
    "clap": clap,
    "side_stick": side_stick,
    "hat_closed": hat_closed,
    "hat_pedal": hat_pedal,
    "hat_open": hat_open,
    "crash": crash,
    "splash": splash,
    "china": china,
    "ride": ride,
    "ride_bell": ride_bell,
    "tom_floor_low": lambda rate: tom(rate, 82.0, 0.22),
    "tom_floor_high": lambda rate: tom(rate, 98.0, 0.2),
    "tom_low": lambda rate: tom(rate, 116.0, 0.18),
    "tom_low_mid": lambda rate: tom(rate, 138.0, 0.16),
    "tom_high_mid": lambda rate: tom(rate, 164.0, 0.15),
    "tom_high": lambda rate: tom(rate, 196.0, 0.14),
    "tambourine": tambourine,
    "cowbell": cowbell,
}


def synthesize_all(rate: int = RATE) -> dict[str, np.ndarray]:
    """Every sample by file stem (`kick`, `keys_c4_loud` …): mono float64, peak at -1 dBFS."""
    samples = {name: make(rate) for name, make in DRUMS.items()}
    for name, root in KEYS_ROOTS.items():
        for layer in ("soft", "loud"):
            samples[f"keys_{name}_{layer}"] = electric_piano(rate, root, layer == "loud")
    return samples


def main(folder: str | Path) -> int:
    """Write every sample into `folder` as 48 kHz 24-bit mono WAV (atomically, one by one)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in synthesize_all(RATE).items():
        with atomic_path(folder / f"{name}.wav") as tmp:
            soundfile.write(str(tmp), audio, RATE, subtype="PCM_24", format="WAV")
        print(f"{folder / name}.wav  {len(audio) / RATE:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "instruments/samples"))
