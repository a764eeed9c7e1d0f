"""The sampler: pitch by resampling, layers, loops, envelopes, voices, and its preset errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tracker.dsp import sampler
from tracker.dsp.presets import parse_preset
from tracker.model.errors import SongFormatError
from tracker.paths import instruments_dir

RATE = 48000


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # FLOAT keeps the test signals bit-exact, so "reproduces the sample" can mean equal.
    soundfile.write(str(path), audio, rate, subtype="FLOAT", format="WAV")


def make(tmp_path: Path, body: str, rate: int = RATE) -> sampler.Sampler:
    preset = tmp_path / "test.preset"
    preset.write_text("type sampler\n" + body)
    return sampler.load(parse_preset(preset), rate).create()


def render(instrument: sampler.Sampler, frames: int) -> np.ndarray:
    out = np.zeros(frames, np.float32)
    instrument.render(out)
    return out


def sine(freq: float, frames: int, rate: int = RATE) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(frames) / rate)).astype(np.float32)


def level_at(audio: np.ndarray, freq: float, rate: int = RATE) -> float:
    """Amplitude of one frequency in `audio` (a single-bin DFT over whole cycles-ish)."""
    n = np.arange(len(audio))
    return float(abs(np.sum(audio * np.exp(-2j * np.pi * freq * n / rate))) * 2 / len(audio))


@pytest.fixture
def noise_wav(tmp_path: Path) -> np.ndarray:
    audio = np.random.default_rng(1).uniform(-0.9, 0.9, 4000).astype(np.float32)
    write_wav(tmp_path / "samples" / "noise.wav", audio)
    return audio


def test_root_reproduces_the_sample(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(tmp_path, "sample samples/noise.wav root C-4\nvelocity-amp 0\n")
    s.note_on(60, 100)
    out = render(s, 5000)
    np.testing.assert_array_equal(out[:4000], noise_wav)
    assert not out[4000:].any()  # a one-shot stops at its end
    assert s.active_voices() == 0


def test_root_as_midi_number_and_gain(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(tmp_path, "sample samples/noise.wav root 60\nvelocity-amp 0\ngain -6\n")
    s.note_on(60, 1)
    np.testing.assert_allclose(render(s, 4000), noise_wav * 10 ** (-6 / 20), rtol=1e-6)


def test_velocity_amp_scales_level(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(tmp_path, "sample samples/noise.wav root C-4\nvelocity-amp 0.5\n")
    s.note_on(60, 127)
    loud = render(s, 4000)
    s.note_on(60, 0)  # the lowest velocity keeps 1 - velocity-amp of the level
    np.testing.assert_allclose(render(s, 4000), loud * 0.5, rtol=1e-6)


def test_octave_up_plays_twice_as_fast(tmp_path: Path) -> None:
    write_wav(tmp_path / "sine.wav", sine(500.0, 4800))
    s = make(tmp_path, "sample sine.wav root C-4\n")
    s.note_on(72, 127)
    out = render(s, 6000)
    assert np.flatnonzero(out)[-1] < 2400 <= np.flatnonzero(out)[-1] + 2
    assert level_at(out[:2400], 1000.0) > 0.49
    assert level_at(out[:2400], 500.0) < 0.01


def test_sample_rate_is_converted(tmp_path: Path) -> None:
    """A 24 kHz sample played at its root at 48 kHz lasts as long and keeps its pitch."""
    write_wav(tmp_path / "sine.wav", sine(500.0, 2400, 24000), 24000)
    s = make(tmp_path, "sample sine.wav root C-4\n")
    s.note_on(60, 127)
    out = render(s, 6000)
    assert 4797 <= np.flatnonzero(out)[-1] < 4800
    assert level_at(out[:4800], 500.0) > 0.49


def test_pitch_bend_two_semitones(tmp_path: Path) -> None:
    write_wav(tmp_path / "sine.wav", sine(500.0, 4800))
    s = make(tmp_path, "sample sine.wav root C-4\n")
    s.pitch_bend(-8192)
    s.note_on(60, 127)
    out = render(s, 8000)
    assert abs(np.flatnonzero(out)[-1] - 4800 * 2 ** (2 / 12)) < 2


@pytest.fixture
def layered(tmp_path: Path) -> sampler.Sampler:
    """Four constant samples, so the output value says which one plays at any pitch."""
    for name, value in (
        ("low_soft", 0.1),
        ("low_loud", 0.2),
        ("high_soft", 0.3),
        ("high_loud", 0.4),
    ):
        write_wav(tmp_path / f"{name}.wav", np.full(1000, value, np.float32))
    return make(
        tmp_path,
        "sample low_soft.wav root C-3 velocity 1-63\n"
        "sample low_loud.wav root C-3 velocity 64-127\n"
        "sample high_soft.wav root C-5 velocity 1-63\n"
        "sample high_loud.wav root C-5 velocity 64-127\n"
        "velocity-amp 0\n",
    )


@pytest.mark.parametrize(
    ("pitch", "velocity", "value"),
    [
        (48, 10, 0.1),
        (48, 100, 0.2),
        (59, 63, 0.1),  # nearer C-3
        (61, 64, 0.4),  # nearer C-5
        (60, 64, 0.4),  # a tie goes to the higher root
        (20, 127, 0.2),
        (120, 1, 0.3),
    ],
)
def test_velocity_layers_and_nearest_root(
    layered: sampler.Sampler, pitch: int, velocity: int, value: float
) -> None:
    layered.note_on(pitch, velocity)
    assert render(layered, 10)[5] == pytest.approx(value, abs=1e-7)


def test_velocity_outside_every_layer_uses_the_nearest(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.full(100, 0.25, np.float32))
    write_wav(tmp_path / "b.wav", np.full(100, 0.5, np.float32))
    s = make(
        tmp_path,
        "sample a.wav root C-4 velocity 20-40\nsample b.wav root C-4 velocity 100-110\n"
        "velocity-amp 0\n",
    )
    s.note_on(60, 5)
    assert render(s, 4)[0] == pytest.approx(0.25)
    s.note_on(60, 127)
    assert render(s, 4)[0] == pytest.approx(0.5 + 0.25)  # the first note still sounds


def test_loop_sounds_past_the_end_until_release(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(
        tmp_path,
        "sample samples/noise.wav root C-4 loop 1000 3000\nvelocity-amp 0\nrelease 0.01\n",
    )
    s.note_on(60, 100)
    out = render(s, 20000)
    np.testing.assert_array_equal(out[:3000], noise_wav[:3000])
    np.testing.assert_array_equal(out[3000:5000], noise_wav[1000:3000])
    np.testing.assert_array_equal(out[17000:19000], noise_wav[1000:3000])
    assert s.active_voices() == 1
    s.note_off(60)
    tail = render(s, 480)  # 10 ms: the release reaches -80 dB
    assert 0 < np.max(np.abs(tail[-10:])) < 1e-3
    assert s.active_voices() == 0
    assert not render(s, 100).any()


def test_preset_wide_loop_points(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(
        tmp_path,
        "sample samples/noise.wav root C-4\nloop forward\nloop-start 500\nloop-end 1500\n"
        "velocity-amp 0\n",
    )
    s.note_on(60, 100)
    out = render(s, 3000)
    np.testing.assert_array_equal(out[1500:2500], noise_wav[500:1500])


def test_loop_none_plays_one_shot_despite_points(tmp_path: Path, noise_wav: np.ndarray) -> None:
    s = make(tmp_path, "sample samples/noise.wav root C-4 loop 1000 3000\nloop none\n")
    s.note_on(60, 100)
    render(s, 4000)
    assert s.active_voices() == 0


def test_looped_octave_up_wraps_cleanly(tmp_path: Path) -> None:
    """A loop of whole sine cycles, played an octave up for long: still the pure octave."""
    write_wav(tmp_path / "sine.wav", sine(480.0, 4800))  # 100-frame cycles
    s = make(tmp_path, "sample sine.wav root C-4 loop 1000 4800\n")
    s.note_on(72, 127)
    out = render(s, 48000)
    assert level_at(out[-9600:], 960.0) > 0.49
    assert np.isfinite(out).all()


def test_attack_ramps_in(tmp_path: Path) -> None:
    write_wav(tmp_path / "dc.wav", np.full(2000, 0.5, np.float32))
    s = make(tmp_path, "sample dc.wav root C-4\nattack 0.01\nvelocity-amp 0\n")
    s.note_on(60, 100)
    out = render(s, 1000)
    np.testing.assert_allclose(out[:480], 0.5 * np.arange(1, 481) / 480, rtol=1e-5)
    np.testing.assert_allclose(out[480:], 0.5)


def test_cut_fades_in_three_milliseconds(tmp_path: Path) -> None:
    write_wav(tmp_path / "dc.wav", np.full(9000, 0.5, np.float32))
    s = make(tmp_path, "sample dc.wav root C-4\nrelease 5\n")
    s.note_on(60, 127)
    render(s, 100)
    s.note_off(60, cut=True)
    out = render(s, 200)
    assert np.all(np.diff(out[:144]) < 0)  # a ramp down, not a step
    assert not out[144:].any()
    assert s.active_voices() == 0


def test_sustain_pedal_holds_released_notes(tmp_path: Path) -> None:
    write_wav(tmp_path / "dc.wav", np.full(1000, 0.5, np.float32))
    s = make(tmp_path, "sample dc.wav root C-4 loop 0 1000\nrelease 0.01\n")
    s.control_change(64, 127)
    s.note_on(60, 127)
    s.note_off(60)
    render(s, 48000)
    assert s.active_voices() == 1
    s.control_change(64, 0)
    render(s, 1000)
    assert s.active_voices() == 0


def test_all_notes_off_and_all_sound_off(tmp_path: Path) -> None:
    write_wav(tmp_path / "dc.wav", np.full(1000, 0.5, np.float32))
    s = make(tmp_path, "sample dc.wav root C-4 loop 0 1000\nrelease 0.05\n")
    for pitch in (60, 64, 67):
        s.note_on(pitch, 100)
    s.control_change(123, 0)
    render(s, 1000)
    assert s.active_voices() == 3  # releasing
    render(s, 2000)
    assert s.active_voices() == 0
    for pitch in (60, 64, 67):
        s.note_on(pitch, 100)
    s.control_change(120, 0)
    render(s, 150)
    assert s.active_voices() == 0


@pytest.fixture
def three_tones(tmp_path: Path) -> Callable[[str], sampler.Sampler]:
    write_wav(tmp_path / "sine.wav", sine(1000.0, 4800))  # whole cycles: a clean loop
    return lambda extra: make(tmp_path, "sample sine.wav root C-4 loop 0 4800\n" + extra)


def tones(instrument: sampler.Sampler) -> set[int]:
    """Which of C-4, E-4, G-4 sound in the next 0.1 s."""
    out = render(instrument, 4800)
    return {p for p in (60, 64, 67) if level_at(out, 1000.0 * 2 ** ((p - 60) / 12)) > 0.05}


def test_voice_stealing_takes_the_oldest(three_tones: Callable[[str], sampler.Sampler]) -> None:
    s = three_tones("polyphony 2\n")
    s.note_on(60, 127)
    s.note_on(64, 127)
    s.note_on(67, 127)
    render(s, 480)  # the stolen voice fades in 3 ms
    assert s.active_voices() == 2
    assert tones(s) == {64, 67}


def test_voice_stealing_prefers_released_voices(
    three_tones: Callable[[str], sampler.Sampler],
) -> None:
    s = three_tones("polyphony 2\nrelease 10\n")
    s.note_on(60, 127)
    s.note_on(64, 127)
    s.note_off(64)  # still ringing in its long release, but released: it goes first
    s.note_on(67, 127)
    render(s, 480)
    assert tones(s) == {60, 67}


def test_note_off_releases_the_oldest_voice_of_the_pitch(
    three_tones: Callable[[str], sampler.Sampler],
) -> None:
    s = three_tones("release 0.001\n")
    s.note_on(60, 127)
    s.note_on(60, 127)
    s.note_off(60)
    render(s, 480)
    assert s.active_voices() == 1
    s.note_off(60)
    render(s, 480)
    assert s.active_voices() == 0


def play(instrument: sampler.Sampler, chunks: list[int]) -> np.ndarray:
    """A fixed little performance rendered in the given chunk sizes (events at fixed frames)."""
    events: dict[int, list[Callable[[], None]]] = {
        0: [lambda: instrument.note_on(48, 100), lambda: instrument.note_on(60, 120)],
        3000: [lambda: instrument.note_on(67, 60), lambda: instrument.pitch_bend(3000)],
        9000: [lambda: instrument.note_off(60), lambda: instrument.control_change(64, 127)],
        12000: [lambda: instrument.note_off(48), lambda: instrument.note_on(84, 127)],
        20000: [lambda: instrument.control_change(64, 0), lambda: instrument.pitch_bend(0)],
        30000: [lambda: instrument.note_off(67, cut=True)],
    }
    total = sum(chunks)
    out = np.zeros(total, np.float32)
    frame = 0
    boundaries = sorted(set(events) | {total})
    for chunk in chunks:
        end = frame + chunk
        while frame < end:
            for action in events.pop(frame, []):
                action()
            stop = min(end, min(b for b in boundaries if b > frame))
            instrument.render(out[frame:stop])
            frame = stop
    return out


def test_split_invariance() -> None:
    factory = sampler.load(parse_preset(instruments_dir() / "keys.preset"), RATE)
    whole = play(factory.create(), [120000])
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 700, 2000)
    sizes = sizes[np.cumsum(sizes) < 120000]
    pieces = play(factory.create(), [*sizes.tolist(), 120000 - int(sizes.sum())])
    assert np.abs(whole).max() > 0.1
    assert np.array_equal(whole, pieces)


def test_shipped_keys_preset_plays() -> None:
    keys = sampler.load(parse_preset(instruments_dir() / "keys.preset"), RATE).create()
    for pitch in (36, 60, 64, 67, 96):
        keys.note_on(pitch, 100)
    out = render(keys, 4 * RATE)  # longer than the samples: the loops hold the chord
    assert np.isfinite(out).all()
    assert np.sqrt(np.mean(out[-RATE:] ** 2)) > 1e-3
    assert keys.active_voices() == 5


def test_instances_share_samples_but_not_voices() -> None:
    factory = sampler.load(parse_preset(instruments_dir() / "keys.preset"), RATE)
    a, b = factory.create(), factory.create()
    a.note_on(60, 100)
    assert (a.active_voices(), b.active_voices()) == (1, 0)
    assert not render(b, 100).any()


# --- errors ------------------------------------------------------------------------------------


def load_error(tmp_path: Path, body: str) -> str:
    preset = tmp_path / "bad.preset"
    preset.write_text("type sampler\n" + body)
    with pytest.raises(SongFormatError) as info:
        sampler.load(parse_preset(preset), RATE)
    return str(info.value)


@pytest.mark.parametrize(
    "path", ["../noise.wav", "samples/../../x.wav", "/etc/passwd", "..\\x.wav"]
)
def test_sample_path_must_stay_in_the_folder(tmp_path: Path, path: str) -> None:
    message = load_error(tmp_path, f"sample '{path}' root C-4\n")
    assert f"bad.preset:2: sample path {path!r}" in message


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_wav(outside / "x.wav", np.zeros(10, np.float32))
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "link.wav").symlink_to(outside / "x.wav")
    preset = tmp_path / "kit" / "bad.preset"
    preset.write_text("type sampler\nsample link.wav root C-4\n")
    with pytest.raises(SongFormatError, match=r"bad\.preset:2: .*leads outside"):
        sampler.load(parse_preset(preset), RATE)


def test_missing_wav_names_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "# comment\nsample samples/none.wav root C-4\n")
    assert "bad.preset:3: sample samples/none.wav: no such file" in message


def test_corrupt_wav_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" * 3)
    message = load_error(tmp_path, "sample broken.wav root C-4\n")
    assert "bad.preset:2: sample broken.wav: cannot read audio" in message


def test_empty_wav_is_an_error(tmp_path: Path) -> None:
    write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    assert "sample empty.wav: holds no audio" in load_error(tmp_path, "sample empty.wav root 60\n")


def test_non_finite_wav_is_an_error(tmp_path: Path) -> None:
    write_wav(tmp_path / "nan.wav", np.array([0.0, np.nan], np.float32))
    assert "non-finite" in load_error(tmp_path, "sample nan.wav root 60\n")


def test_multichannel_is_mixed_to_mono(tmp_path: Path) -> None:
    stereo = np.stack([np.full(100, 0.2), np.full(100, 0.6)], axis=1).astype(np.float32)
    write_wav(tmp_path / "st.wav", stereo)
    s = make(tmp_path, "sample st.wav root 60\nvelocity-amp 0\n")
    s.note_on(60, 100)
    assert render(s, 10)[3] == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "needs at least one `sample"),
        ("sample x.wav\n", "needs `root NOTE`"),
        ("sample x.wav root H-4\n", "unknown note"),
        ("sample x.wav root 200\n", "outside 0..127"),
        ("sample x.wav root C-4 velocity 90-10\n", "velocity wants LO-HI"),
        ("sample x.wav root C-4 pan 3\n", "expected root NOTE"),
        ("sample x.wav root C-4 loop 10\n", "expected root NOTE"),
        ("sample x.wav root C-4 loop 10 5000\n", "loop 10..5000 must lie within its 100 frames"),
        ("sample x.wav root C-4 loop a 50\n", "not a whole number of frames"),
        ("sample x.wav root C-4\nloop forward\nloop-end 200\n", "bad.preset:4:"),
        ("sample x.wav root C-4\nloop backward\n", "loop must be one of none, forward"),
        ("sample x.wav root C-4\npolyphony 65\n", "polyphony 65 is outside 1..64"),
        ("sample x.wav root C-4\npolyphony 2.5\n", "polyphony must be a whole number"),
        ("sample x.wav root C-4\nattack -1\n", "attack -1 is outside"),
        ("sample x.wav root C-4\nwave saw\n", "unknown key 'wave'"),
    ],
)
def test_preset_errors(tmp_path: Path, body: str, expected: str) -> None:
    write_wav(tmp_path / "x.wav", np.zeros(100, np.float32))
    assert expected in load_error(tmp_path, body)


def test_a_drumkit_preset_is_not_a_sampler(tmp_path: Path) -> None:
    preset = tmp_path / "kit.preset"
    preset.write_text("type drumkit\n")
    with pytest.raises(SongFormatError, match="not a sampler"):
        sampler.load(parse_preset(preset), RATE)
