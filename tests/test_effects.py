"""The built-in effects: what a listener would notice, exact where the maths allows.

Delay repeats at exact frames and levels; the reverb rings, decays and spreads in stereo; the
filter's gains at and around its cutoff; the limiter never exceeds its ceiling and is
transparent below it. Every kind gives bit-identical output for any block split, resets to
silence, stays within its reported tail and ends it in exact zeros (no subnormal crawl).
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import pytest

from tracker.dsp.effects import EFFECT_KINDS, Effect, build_effect, ms_to_frames
from tracker.model.errors import TrackerError

RATE = 48000
SILENCE = 1e-6  # -120 dBFS


def impulse(frames: int, left: float = 1.0, right: float = 1.0) -> np.ndarray:
    block = np.zeros((frames, 2), dtype=np.float32)
    block[0] = (left, right)
    return block


def sine(freq: float, frames: int, amplitude: float = 0.5) -> np.ndarray:
    wave = amplitude * np.sin(2.0 * np.pi * freq * np.arange(frames) / RATE)
    return np.repeat(wave[:, None], 2, axis=1).astype(np.float32)


def noise(frames: int, amplitude: float, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-amplitude, amplitude, (frames, 2)).astype(np.float32)


def run(effect: Effect, signal: np.ndarray, sizes: Sequence[int] | None = None) -> np.ndarray:
    """The effect's output for `signal`: in one call, or in blocks of `sizes` (cycled; 0 is an
    empty block)."""
    out = signal.copy()
    if sizes is None:
        effect.process(out)
        return out
    start = 0
    turn = 0
    while start < len(out):
        size = sizes[turn % len(sizes)]
        effect.process(out[start : start + size])  # a row slice of a C-contiguous array
        start += size
        turn += 1
    return out


def last_audible(out: np.ndarray) -> int:
    """Index of the last frame louder than -120 dBFS."""
    return int(np.flatnonzero(np.abs(out).max(axis=1) > SILENCE)[-1])


def gain_db(kind_params: dict[str, float | str], freq: float) -> float:
    """Steady-state RMS gain of the effect for a sine at `freq` (the last half second of 1 s)."""
    effect = build_effect("filter", kind_params, RATE, RATE)
    signal = sine(freq, RATE)
    out = run(effect, signal)
    half = RATE // 2
    rms_in = np.sqrt(np.mean(signal[half:, 0].astype(np.float64) ** 2))
    rms_out = np.sqrt(np.mean(out[half:, 0].astype(np.float64) ** 2))
    return 20.0 * math.log10(rms_out / rms_in)


# --- delay -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "time", "frames"),
    [(48000, 375.0, 18000), (44100, 375.0, 16538), (44100, 1.0, 44), (44100, 10.01, 441)],
)
def test_delay_repeats_at_exact_frames_and_levels(rate: int, time: float, frames: int) -> None:
    assert ms_to_frames(time, rate) == frames
    effect = build_effect("delay", {"time": time, "feedback": 0.5, "mix": 0.3}, rate, 6 * frames)
    out = run(effect, impulse(5 * frames + 10))
    expected = [0.7, 0.3, 0.3 * 0.5, 0.3 * 0.5**2, 0.3 * 0.5**3, 0.3 * 0.5**4]
    for channel in (0, 1):
        hits = np.flatnonzero(out[:, channel])
        assert hits.tolist() == [0, frames, 2 * frames, 3 * frames, 4 * frames, 5 * frames]
        np.testing.assert_allclose(out[hits, channel], expected, rtol=1e-6)


def test_delay_pingpong_alternates_sides_starting_left() -> None:
    params: dict[str, float | str] = {"time": 10.0, "feedback": 0.5, "mix": 1.0, "pingpong": "on"}
    out = run(build_effect("delay", params, RATE, 4096), impulse(2000))
    d = 480
    assert np.flatnonzero(out[:, 0]).tolist() == [d, 3 * d]
    assert np.flatnonzero(out[:, 1]).tolist() == [2 * d, 4 * d]
    np.testing.assert_allclose(out[[d, 3 * d], 0], [1.0, 0.25], rtol=1e-6)
    np.testing.assert_allclose(out[[2 * d, 4 * d], 1], [0.5, 0.125], rtol=1e-6)


def test_delay_tail_bound_is_tight_and_ends_in_exact_zeros() -> None:
    # The worst case the bound assumes: a line charged by a sustained full-scale input. 1 ms
    # and feedback 0.95 make thousands of repeats that decay through the subnormal range.
    effect = build_effect("delay", {"time": 1.0, "feedback": 0.95, "mix": 1.0}, RATE, 1 << 17)
    signal = np.zeros((1 << 17, 2), dtype=np.float32)
    loud = 10000
    signal[:loud] = 1.0
    out = run(effect, signal)
    tail = effect.tail_frames()
    after = last_audible(out) - (loud - 1)
    assert 0.95 * tail <= after <= tail
    silent_from = np.flatnonzero(out.any(axis=1))[-1] + 1
    assert silent_from < len(out) - RATE  # a second of exact zeros at the end


# --- reverb ------------------------------------------------------------------------------------


def window_rms(out: np.ndarray, start_ms: int, stop_ms: int) -> float:
    part = out[start_ms * RATE // 1000 : stop_ms * RATE // 1000].astype(np.float64)
    return float(np.sqrt(np.mean(part**2)))


def test_reverb_impulse_rings_for_hundreds_of_ms_and_decays() -> None:
    out = run(build_effect("reverb", {}, RATE, RATE * 2), impulse(RATE * 2))
    windows = [window_rms(out, start, start + 200) for start in range(200, 2000, 200)]
    assert windows[0] > 1e-3  # -60 dBFS of reverb 200-400 ms after a click
    assert all(later < earlier for earlier, later in itertools.pairwise(windows))
    assert windows[-1] < windows[0] / 10.0


def test_reverb_width_spreads_or_joins_the_channels() -> None:
    wide = run(build_effect("reverb", {"width": 1.0}, RATE, RATE), impulse(RATE))
    mono = run(build_effect("reverb", {"width": 0.0}, RATE, RATE), impulse(RATE))
    assert not np.array_equal(wide[:, 0], wide[:, 1])
    # Decorrelated, not merely different: the channels' correlation is far from 1.
    late = wide[RATE // 10 :].astype(np.float64)
    assert abs(np.corrcoef(late[:, 0], late[:, 1])[0, 1]) < 0.5
    assert np.array_equal(mono[:, 0], mono[:, 1])
    assert np.abs(mono[RATE // 10 :]).max() > 1e-3


def test_reverb_tail_bound_covers_a_full_scale_impulse_at_max_size() -> None:
    rate = 44100
    params: dict[str, float | str] = {"size": 1.0, "damping": 0.0, "mix": 1.0}
    effect = build_effect("reverb", params, rate, 1 << 16)
    tail = effect.tail_frames()
    out = run(effect, impulse(tail + rate), sizes=(1 << 16,))
    after = last_audible(out)
    assert after > 10 * rate  # a hall: over ten seconds to fall 120 dB
    assert after <= tail < 3 * after  # a bound, and not a wildly loose one


def test_reverb_tail_ends_in_exact_zeros() -> None:
    effect = build_effect("reverb", {"size": 0.0, "mix": 1.0}, RATE, 1 << 16)
    signal = np.zeros((RATE * 20, 2), dtype=np.float32)
    signal[: RATE // 10] = noise(RATE // 10, 1.0)
    out = run(effect, signal, sizes=(1 << 16,))
    assert last_audible(out) - RATE // 10 <= effect.tail_frames()
    silent_from = np.flatnonzero(out.any(axis=1))[-1] + 1
    assert silent_from < len(out) - RATE  # exact zeros, no subnormal crawl


# --- filter ------------------------------------------------------------------------------------


def test_lowpass_is_3db_down_at_cutoff_and_falls_12db_per_octave() -> None:
    params: dict[str, float | str] = {"mode": "lowpass", "cutoff": 1000.0, "q": 0.707}
    assert gain_db(params, 1000.0) == pytest.approx(-3.0, abs=0.1)
    assert gain_db(params, 500.0) > -0.5  # the passband
    assert gain_db(params, 100.0) == pytest.approx(0.0, abs=0.05)
    assert gain_db(params, 2000.0) < -12.0  # one octave into the stopband
    assert gain_db(params, 4000.0) < -24.0


def test_highpass_mirrors_the_lowpass() -> None:
    params: dict[str, float | str] = {"mode": "highpass", "cutoff": 1000.0, "q": 0.707}
    assert gain_db(params, 1000.0) == pytest.approx(-3.0, abs=0.1)
    assert gain_db(params, 2000.0) > -0.5
    assert gain_db(params, 10000.0) == pytest.approx(0.0, abs=0.05)
    assert gain_db(params, 500.0) < -12.0
    assert gain_db(params, 250.0) < -24.0


@pytest.mark.parametrize("gain", [9.0, -12.0])
def test_peak_gain_at_centre_is_the_gain(gain: float) -> None:
    params: dict[str, float | str] = {"mode": "peak", "cutoff": 2000.0, "q": 1.0, "gain": gain}
    assert gain_db(params, 2000.0) == pytest.approx(gain, abs=0.05)
    assert abs(gain_db(params, 100.0)) < 0.3  # far from the centre: untouched


def test_bandpass_passes_its_centre_only() -> None:
    params: dict[str, float | str] = {"mode": "bandpass", "cutoff": 1000.0, "q": 2.0}
    assert gain_db(params, 1000.0) == pytest.approx(0.0, abs=0.05)
    assert gain_db(params, 250.0) < -15.0
    assert gain_db(params, 4000.0) < -15.0


@pytest.mark.parametrize(("mode", "low", "high"), [("lowshelf", 6.0, 0.0), ("highshelf", 0.0, 6.0)])
def test_shelves_lift_their_side(mode: str, low: float, high: float) -> None:
    params: dict[str, float | str] = {"mode": mode, "cutoff": 1000.0, "gain": 6.0}
    assert gain_db(params, 50.0) == pytest.approx(low, abs=0.1)
    assert gain_db(params, 16000.0) == pytest.approx(high, abs=0.1)
    assert gain_db(params, 1000.0) == pytest.approx(3.0, abs=0.1)  # half the gain in dB


def test_filter_cutoff_above_nyquist_is_clamped_and_stable() -> None:
    effect = build_effect("filter", {"mode": "lowpass", "cutoff": 20000.0}, 22050, 22050)
    out = run(effect, noise(22050, 1.0))
    assert np.isfinite(out).all()
    assert np.abs(out).max() < 4.0


def test_filter_tail_bound_covers_a_resonant_impulse() -> None:
    params: dict[str, float | str] = {"mode": "lowpass", "cutoff": 100.0, "q": 20.0}
    effect = build_effect("filter", params, RATE, 1 << 16)
    tail = effect.tail_frames()
    # Six times the tail: long enough for the state to decay to the flush level.
    out = run(effect, impulse(tail * 6), sizes=(1 << 16,))
    assert 0.5 * tail < last_audible(out) <= tail
    assert not out[-1000:].any()  # exact zeros, no subnormal crawl


# --- limiter -----------------------------------------------------------------------------------


def loud_signal(frames: int) -> np.ndarray:
    """A sine at +12 dBFS with transients: isolated spikes, a step and a burst of noise."""
    signal = sine(220.0, frames, amplitude=10.0 ** (12.0 / 20.0))
    signal[1000] = (30.0, -30.0)
    signal[1001] = (-25.0, 2.0)
    signal[5000:5003] = 40.0
    signal[9000:12000] *= 0.05  # quiet, then a jump straight to full level
    signal[15000:17000] += noise(2000, 16.0)
    return signal


@pytest.mark.parametrize(
    "params",
    [{}, {"lookahead": 0.0}, {"lookahead": 10.0, "release": 1.0}, {"ceiling": -6.0}],
    ids=["default", "no-lookahead", "long-lookahead-fast-release", "ceiling-6"],
)
def test_limiter_never_exceeds_the_ceiling(params: dict[str, float | str]) -> None:
    effect = build_effect("limiter", params, RATE, 4096)
    out = run(effect, loud_signal(RATE // 2), sizes=(64, 333, 1, 4096))
    ceiling = 10.0 ** (float(params.get("ceiling", -0.3)) / 20.0)
    assert np.abs(out).max() <= ceiling
    assert np.abs(out).max() > 0.99 * ceiling  # limited, not just turned down


def test_limiter_ceiling_holds_for_random_settings_and_signals() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        params: dict[str, float | str] = {
            "lookahead": float(rng.uniform(0.0, 10.0)),
            "release": float(rng.uniform(1.0, 300.0)),
            "ceiling": float(rng.uniform(-24.0, 0.0)),
        }
        effect = build_effect("limiter", params, RATE, 4096)
        gate = rng.random((RATE // 2, 1)) < 0.3  # sparse bursts: attacks and releases
        signal = (rng.standard_normal((RATE // 2, 2)) * rng.uniform(0.1, 30.0) * gate).astype(
            np.float32
        )
        out = run(effect, signal, sizes=(int(rng.integers(1, 4096)), 4096))
        assert np.abs(out).max() <= 10.0 ** (float(params["ceiling"]) / 20.0), params


def test_limiter_passes_a_quiet_signal_unchanged_but_delayed() -> None:
    effect = build_effect("limiter", {"lookahead": 1.5}, RATE, 4096)
    latency = effect.latency_frames()
    assert latency == 72 == effect.tail_frames()
    signal = noise(RATE // 4, 0.96)  # peaks just under the -0.3 dBFS ceiling
    out = run(effect, signal, sizes=(7, 4096))
    assert not out[:latency].any()
    assert np.array_equal(out[latency:], signal[:-latency])


def test_limiter_returns_to_exact_unity_after_limiting() -> None:
    effect = build_effect("limiter", {"release": 1.0, "lookahead": 1.0}, RATE, RATE)
    signal = noise(RATE // 2, 0.5)
    signal[:2000] *= 8.0
    out = run(effect, signal)
    latency = effect.latency_frames()
    # 1 ms release: after 100 ms the gain is exactly 1 again.
    later = RATE // 10
    assert np.array_equal(out[later + latency :], signal[later:-latency])


def test_limiter_survives_nan_input() -> None:
    # A NaN from a broken source is muted, not passed on, and does not poison the gain.
    effect = build_effect("limiter", {"release": 1.0}, RATE, RATE)
    signal = noise(RATE // 4, 0.5)
    signal[100] = np.nan
    out = run(effect, signal)
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= 10.0 ** (-0.3 / 20.0)
    latency = effect.latency_frames()
    assert np.array_equal(out[RATE // 8 :], signal[RATE // 8 - latency : -latency])  # recovered


# --- every kind --------------------------------------------------------------------------------

CONFIGS: list[tuple[str, dict[str, float | str]]] = [
    ("delay", {}),
    ("delay", {"time": 1.0, "feedback": 0.95, "pingpong": "on"}),
    ("reverb", {}),
    ("reverb", {"size": 1.0, "damping": 0.0, "width": 0.3, "mix": 1.0}),
    *[("filter", {"mode": mode, "gain": 6.0, "q": 4.0}) for mode in EFFECT_KINDS["filter"]["mode"]],
    ("limiter", {}),
    ("limiter", {"lookahead": 0.0, "release": 1.0}),
    ("limiter", {"lookahead": 10.0}),
]
CONFIG_IDS = [f"{kind}-{i}" for i, (kind, _) in enumerate(CONFIGS)]


def mixed_signal() -> np.ndarray:
    """Loud and quiet noise, a sine and a tail of silence: every state path gets exercised."""
    signal = np.zeros((24000, 2), dtype=np.float32)
    signal[:6000] = noise(6000, 3.0)
    signal[6000:12000] = sine(440.0, 6000, 0.3)
    signal[12000:14000] = noise(2000, 0.1, seed=3)
    return signal


@pytest.mark.parametrize(("kind", "params"), CONFIGS, ids=CONFIG_IDS)
def test_output_is_identical_for_any_block_sizes(kind: str, params: dict[str, float | str]) -> None:
    signal = mixed_signal()
    whole = run(build_effect(kind, params, RATE, len(signal)), signal)
    assert np.isfinite(whole).all()
    assert whole.any()
    for sizes in [(1,), (7,), (64,), (333,), (4096,), (1, 7, 0, 64, 333, 4096, 5)]:
        split = run(build_effect(kind, params, RATE, 4096), signal, sizes=sizes)
        assert np.array_equal(split, whole), sizes


@pytest.mark.parametrize(("kind", "params"), CONFIGS, ids=CONFIG_IDS)
def test_reset_returns_to_silence(kind: str, params: dict[str, float | str]) -> None:
    signal = mixed_signal()[:8192]
    effect = build_effect(kind, params, RATE, 8192)
    first = run(effect, signal)
    effect.reset()
    assert not run(effect, np.zeros_like(signal)).any()
    effect.reset()
    assert np.array_equal(run(effect, signal), first)  # as good as new


def test_empty_block_and_oversized_block() -> None:
    effect = build_effect("reverb", {}, RATE, 64)
    effect.process(np.zeros((0, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="max_block"):
        effect.process(np.zeros((65, 2), dtype=np.float32))


def test_latency_is_zero_except_for_the_limiter() -> None:
    for kind in EFFECT_KINDS:
        effect = build_effect(kind, {}, RATE, 64)
        expected = ms_to_frames(1.5, RATE) if kind == "limiter" else 0
        assert effect.latency_frames() == expected


def test_parameter_table_defaults_are_valid() -> None:
    for kind, table in EFFECT_KINDS.items():
        for name, spec in table.items():
            assert name == name.lower() and name.isalpha()
            if isinstance(spec[0], str):
                assert all(isinstance(value, str) for value in spec)
            else:
                default, low, high = spec
                assert isinstance(default, float) and low <= default <= high
        build_effect(kind, {name: spec[0] for name, spec in table.items()}, RATE, 64)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "words"),
    [
        ("flanger", {}, ["'flanger'", "delay, filter, limiter, reverb"]),
        ("delay", {"tme": 300.0}, ["delay", "'tme'", "time, feedback, mix, pingpong"]),
        ("delay", {"time": 5000.0}, ["delay", "time", "5000", "1..4000"]),
        ("delay", {"feedback": 1.0}, ["feedback", "1", "0..0.95"]),
        ("reverb", {"size": math.nan}, ["size", "nan", "0..1"]),
        ("filter", {"cutoff": 10.0}, ["cutoff", "10", "20..20000"]),
        ("filter", {"mode": "notch"}, ["mode", "'notch'", "lowpass", "highshelf"]),
        ("filter", {"mode": 1.0}, ["mode", "lowpass"]),
        ("filter", {"q": "high"}, ["q", "number", "'high'"]),
        ("limiter", {"ceiling": True}, ["ceiling", "number", "True"]),
        ("limiter", {"lookahead": 11.0}, ["lookahead", "11", "0..10"]),
    ],
)
def test_build_effect_errors_are_one_clear_line(
    kind: str, params: dict[str, float | str], words: list[str]
) -> None:
    with pytest.raises(TrackerError) as caught:
        build_effect(kind, params, RATE, 64)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_integers_are_accepted_as_numbers() -> None:
    effect = build_effect("delay", {"time": 10, "mix": 1}, RATE, 64)
    assert effect.tail_frames() > 0


def test_effects_import_no_ui_or_audio_device() -> None:
    code = (
        "import sys, tracker.dsp.effects;"
        "print(sorted(m for m in sys.modules if m in ('textual', 'sounddevice')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
