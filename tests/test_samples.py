"""The shipped samples are ours: the synthesis rebuilds them, and they are fit to play."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tracker.dsp import sample_synthesis
from tracker.dsp.presets import parse_preset
from tracker.paths import instruments_dir

SAMPLES = instruments_dir() / "samples"


@pytest.fixture(scope="module")
def synthesised() -> dict[str, np.ndarray]:
    return sample_synthesis.synthesize_all()


def shipped() -> dict[str, np.ndarray]:
    return {
        path.stem: soundfile.read(str(path), dtype="float64")[0]
        for path in sorted(SAMPLES.glob("*.wav"))
    }


def test_regenerating_gives_the_shipped_audio(synthesised: dict[str, np.ndarray]) -> None:
    files = shipped()
    assert sorted(files) == sorted(synthesised)
    for name, audio in synthesised.items():
        assert files[name].shape == audio.shape, name
        # 24-bit PCM rounds to 2**-23 ≈ 1.2e-7; anything beyond that is a different sound.
        np.testing.assert_allclose(files[name], audio, rtol=0, atol=2e-6, err_msg=name)


def test_files_are_48k_mono_24_bit() -> None:
    for path in SAMPLES.glob("*.wav"):
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (48000, 1, "PCM_24"), path.name


def test_samples_are_sound(synthesised: dict[str, np.ndarray]) -> None:
    for name, audio in synthesised.items():
        assert np.isfinite(audio).all(), name
        peak = np.max(np.abs(audio))
        assert peak == pytest.approx(10 ** (-1 / 20), rel=1e-9), name  # -1 dBFS
        assert np.sqrt(np.mean(audio**2)) > 0.01, name
        assert abs(audio[0]) < 0.05, name  # no sample starts with a step


def test_drums_fade_to_silence(synthesised: dict[str, np.ndarray]) -> None:
    for name in sample_synthesis.DRUMS:
        assert abs(synthesised[name][-1]) < 1e-6, name


def test_main_writes_what_synthesize_all_makes(tmp_path: Path) -> None:
    sample_synthesis.main(tmp_path)
    kick, rate = soundfile.read(str(tmp_path / "kick.wav"))
    assert rate == 48000
    np.testing.assert_allclose(kick, sample_synthesis.kick(48000), atol=2e-7)
    assert len(list(tmp_path.glob("*.wav"))) == len(list(SAMPLES.glob("*.wav")))
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_keys_preset_loops_are_seamless(synthesised: dict[str, np.ndarray]) -> None:
    preset = parse_preset(instruments_dir() / "keys.preset")
    for entry in preset.all("sample"):
        name = Path(entry.args[0]).stem
        words = list(entry.args)
        start, end = (int(w) for w in words[words.index("loop") + 1 :][:2])
        root = sample_synthesis.KEYS_ROOTS[name.split("_")[1]]
        assert (start, end) == sample_synthesis.keys_loop(root), name
        audio = synthesised[name]
        assert len(audio) == end
        # From shortly before the loop the tone is exactly periodic with the loop's length, so
        # jumping from the loop end back to its start continues the wave without a seam.
        length = end - start
        settled = np.arange(start - 2000, start)
        np.testing.assert_allclose(audio[settled], audio[settled + length], atol=1e-9)


def test_velocity_layers_differ_in_brightness(synthesised: dict[str, np.ndarray]) -> None:
    def centroid(audio: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(audio[:4800] * np.hanning(4800))) ** 2  # the first 0.1 s
        freqs = np.fft.rfftfreq(4800, 1 / 48000)
        return float(np.sum(power * freqs) / np.sum(power))

    for root in sample_synthesis.KEYS_ROOTS:
        soft = synthesised[f"keys_{root}_soft"]
        loud = synthesised[f"keys_{root}_loud"]
        assert centroid(loud) > 1.5 * centroid(soft), root


def test_kick_is_low_and_hats_are_high(synthesised: dict[str, np.ndarray]) -> None:
    def energy_below(audio: np.ndarray, hz: float) -> float:
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(len(audio), 1 / 48000)
        return float(spectrum[freqs < hz].sum() / spectrum.sum())

    assert energy_below(synthesised["kick"], 150) > 0.8
    for hat in ("hat_closed", "hat_pedal", "hat_open"):
        assert energy_below(synthesised[hat], 4000) < 0.05, hat


def test_noise_is_splitmix64() -> None:
    """Pinned to a plain-Python splitmix64, so no library update can change our samples."""
    mask = (1 << 64) - 1

    def reference(i: int, seed: int) -> float:
        z = ((i + 1 + (seed << 32)) * 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        return (z >> 11) * 2.0**-52 - 1.0

    values = sample_synthesis.noise(50, 3)
    assert values.tolist() == [reference(i, 3) for i in range(50)]
    assert values.min() >= -1.0 and values.max() < 1.0
