"""The built-in subtractive synth: pitch, band-limiting, envelopes, filter, voices, controllers.

Every test renders samples and asserts on them; no audio device, no wall clock.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tracker.dsp import synth
from tracker.dsp.presets import parse_preset
from tracker.model.errors import SongFormatError
from tracker.paths import instruments_dir

RATE = 44100
PLAIN = "attack 0\ndecay 0\nsustain 1\nrelease 0.05\n"  # a gate: full level while held


@pytest.fixture
def make(tmp_path: Path):
    """make(text) → a fresh synth instance of a preset with these lines (after `type synth`)."""

    def factory(text: str, rate: int = RATE) -> synth.Synth:
        path = tmp_path / "test.preset"
        path.write_text("type synth\n" + text)
        return synth.load(parse_preset(path), rate).create()

    return factory


def render(instrument: synth.Synth, seconds: float) -> np.ndarray:
    out = np.zeros(round(seconds * RATE), dtype=np.float32)
    instrument.render(out)
    return out


def spectrum(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    magnitude = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return np.fft.rfftfreq(len(signal), 1 / RATE), magnitude


def peak_hz(signal: np.ndarray) -> float:
    freqs, magnitude = spectrum(signal)
    return float(freqs[np.argmax(magnitude)])


def envelope(signal: np.ndarray, ms: float = 1.0) -> np.ndarray:
    """Peak level per `ms` window."""
    window = round(RATE * ms / 1000)
    whole = len(signal) // window * window
    return np.abs(signal[:whole]).reshape(-1, window).max(axis=1)


def high_energy(signal: np.ndarray, above_hz: float) -> float:
    freqs, magnitude = spectrum(signal)
    return float((magnitude[freqs > above_hz] ** 2).sum() / (magnitude**2).sum())


def test_a4_sine_peaks_at_440_hz(make):
    voice = make("wave sine\n" + PLAIN)
    voice.note_on(69, 127)
    assert peak_hz(render(voice, 1.0)) == pytest.approx(440.0, abs=1.0)


def test_saw_is_band_limited(make):
    """A high saw keeps its energy on its harmonics; a naive saw aliases between them."""
    pitch = 100  # 2637 Hz: the 9th harmonic is already past Nyquist
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    voice = make("wave saw\n" + PLAIN)
    voice.note_on(pitch, 127)
    ours = render(voice, 1.0)
    t = np.arange(RATE) * f0 / RATE
    naive = (2 * (t % 1.0) - 1).astype(np.float32)

    def off_harmonic(signal: np.ndarray) -> float:
        freqs, magnitude = spectrum(signal)
        on = np.zeros(len(freqs), dtype=bool)
        for h in range(1, int(RATE / 2 / f0) + 1):
            on |= np.abs(freqs - h * f0) < 15
        return float((magnitude[~on] ** 2).sum() / (magnitude**2).sum())

    assert off_harmonic(naive) > 0.01
    assert off_harmonic(ours) < off_harmonic(naive) / 1000


def test_square_and_pulse_are_band_limited(make):
    for width in ("0.5", "0.25"):
        voice = make(f"wave square\npulse-width {width}\n" + PLAIN)
        voice.note_on(100, 127)
        out = render(voice, 0.5)
        f0 = 440.0 * 2 ** (31 / 12)
        freqs, magnitude = spectrum(out)
        on = np.zeros(len(freqs), dtype=bool)
        for h in range(1, 10):
            on |= np.abs(freqs - h * f0) < 15
        assert (magnitude[~on] ** 2).sum() / (magnitude**2).sum() < 1e-4


def test_silence_until_note_on(make):
    voice = make("wave saw\n" + PLAIN)
    before = render(voice, 0.1)
    assert not before.any()
    assert voice.active_voices() == 0


def test_attack_reaches_full_level_at_the_attack_time(make):
    voice = make("wave sine\nattack 0.1\ndecay 0\nsustain 1\n")
    voice.note_on(69, 127)
    level = envelope(render(voice, 0.3), ms=2.5)
    top = level.max()
    reached_ms = np.argmax(level >= 0.99 * top) * 2.5
    assert 95 <= reached_ms <= 105
    assert level[4] < 0.15 * top  # 10 ms in: still rising


def test_decay_settles_at_the_sustain_level(make):
    voice = make("wave sine\nattack 0\ndecay 0.1\nsustain 0.5\n")
    voice.note_on(69, 127)
    level = envelope(render(voice, 0.5), ms=5)
    assert level[-1] == pytest.approx(0.5 * level.max(), rel=0.02)


def test_release_decays_to_silence_and_frees_the_voice(make):
    voice = make("wave saw\nattack 0\ndecay 0\nsustain 1\nrelease 0.2\n")
    voice.note_on(57, 100)
    held = render(voice, 0.2)
    voice.note_off(57)
    tail = render(voice, 0.5)
    assert np.abs(tail[: RATE // 100]).max() > 0.5 * np.abs(held).max()  # releasing, not cut
    level = envelope(tail, ms=10)
    assert level[10] < level[0] * 0.1  # 100 ms: well down (60 dB over 200 ms)
    assert voice.active_voices() == 0
    assert not tail[round(0.35 * RATE) :].any()  # freed: exact silence


def test_lower_cutoff_leaves_less_high_frequency_energy(make):
    bright = make("wave saw\ncutoff 8000\n" + PLAIN)
    dark = make("wave saw\ncutoff 500\n" + PLAIN)
    for voice in (bright, dark):
        voice.note_on(45, 127)
    assert high_energy(render(dark, 0.5), 2000) < high_energy(render(bright, 0.5), 2000) / 20


def test_filter_envelope_opens_then_closes(make):
    voice = make("wave saw\ncutoff 200\nfilter-env 5\nf-attack 0\nf-decay 0.2\n" + PLAIN)
    voice.note_on(45, 127)
    out = render(voice, 1.0)
    early, late = out[: RATE // 20], out[-RATE // 4 :]
    assert high_energy(early, 1500) > 10 * high_energy(late, 1500)


def test_velocity_changes_level_and_brightness(make):
    text = "wave saw\ncutoff 300\nvelocity-cutoff 3\nvelocity-amp 1\n" + PLAIN
    loud, soft = make(text), make(text)
    loud.note_on(48, 127)
    soft.note_on(48, 40)
    a, b = render(loud, 0.5), render(soft, 0.5)
    assert np.sqrt((a**2).mean()) > 3 * np.sqrt((b**2).mean())
    assert high_energy(a, 1000) > 3 * high_energy(b, 1000)


def test_velocity_amp_zero_ignores_velocity(make):
    text = "wave sine\nvelocity-amp 0\n" + PLAIN
    loud, soft = make(text), make(text)
    loud.note_on(60, 127)
    soft.note_on(60, 20)
    assert np.array_equal(render(loud, 0.2), render(soft, 0.2))


def test_polyphony_limit_steals_the_oldest_voice(make):
    voice = make("wave saw\npolyphony 2\n" + PLAIN)
    for pitch in (60, 64, 67):
        voice.note_on(pitch, 100)
    render(voice, 0.02)  # the stolen voice fades out within a few ms
    assert voice.active_voices() == 2
    assert voice.sounding_pitches() == [64, 67]


def test_stealing_prefers_a_released_voice(make):
    voice = make("wave saw\npolyphony 2\nrelease 1\nattack 0\ndecay 0\nsustain 1\n")
    voice.note_on(60, 100)
    voice.note_on(64, 100)
    render(voice, 0.01)
    voice.note_off(64)  # releasing (for a second), younger than 60
    voice.note_on(67, 100)
    render(voice, 0.02)
    assert voice.sounding_pitches() == [60, 67]


def test_stolen_voice_fades_instead_of_clicking(make):
    voice = make("wave sine\npolyphony 1\n" + PLAIN)
    voice.note_on(69, 127)
    render(voice, 0.1)
    voice.note_on(81, 127)
    out = render(voice, 0.02)
    assert np.abs(np.diff(out)).max() < 0.05  # no jump: the old voice ramps down


def test_cut_silences_within_a_few_ms_but_off_releases(make):
    text = "wave saw\nattack 0\ndecay 0\nsustain 1\nrelease 0.5\n"
    cut, off = make(text), make(text)
    for voice in (cut, off):
        voice.note_on(60, 100)
        render(voice, 0.1)
    cut.note_off(60, cut=True)
    off.note_off(60)
    cut_tail, off_tail = render(cut, 0.05), render(off, 0.05)
    assert not cut_tail[round(0.006 * RATE) :].any()  # 3 ms fade (+ a control period)
    assert cut.active_voices() == 0
    assert np.abs(off_tail[-100:]).max() > 0.05
    assert off.active_voices() == 1


def test_note_off_releases_the_oldest_voice_of_the_pitch(make):
    voice = make("wave saw\nrelease 0.01\nattack 0\ndecay 0\nsustain 1\n")
    voice.note_on(60, 100)
    voice.note_on(60, 100)
    voice.note_off(60)
    render(voice, 0.1)
    assert voice.active_voices() == 1


def test_sustain_pedal_holds_released_notes(make):
    voice = make("wave saw\nattack 0\ndecay 0\nsustain 1\nrelease 0.05\n")
    voice.control_change(64, 127)
    voice.note_on(60, 100)
    render(voice, 0.05)
    voice.note_off(60)
    held = render(voice, 0.3)
    assert voice.active_voices() == 1
    assert np.abs(held[-1000:]).max() > 0.1
    voice.control_change(64, 0)
    render(voice, 0.2)
    assert voice.active_voices() == 0


def test_pitch_bend_up_raises_two_semitones(make):
    voice = make("wave sine\n" + PLAIN)
    voice.note_on(69, 127)
    voice.pitch_bend(8191)
    assert peak_hz(render(voice, 1.0)) == pytest.approx(440.0 * 2 ** (2 / 12), abs=1.0)
    voice.pitch_bend(-8192)
    assert peak_hz(render(voice, 1.0)) == pytest.approx(440.0 * 2 ** (-2 / 12), abs=1.0)


def test_brightness_controllers_open_the_filter(make):
    text = "wave saw\ncutoff 300\n" + PLAIN
    plain, bright, mod = make(text), make(text), make(text)
    bright.control_change(74, 127)
    mod.control_change(1, 127)
    for voice in (plain, bright, mod):
        voice.note_on(48, 100)
    dark = high_energy(render(plain, 0.5), 1000)
    assert high_energy(render(bright, 0.5), 1000) > 5 * dark
    assert high_energy(render(mod, 0.5), 1000) > 5 * dark


def test_all_sound_off_and_all_notes_off(make):
    text = "wave saw\nattack 0\ndecay 0\nsustain 1\nrelease 0.5\n"
    sound_off, notes_off = make(text), make(text)
    for voice in (sound_off, notes_off):
        for pitch in (60, 64, 67):
            voice.note_on(pitch, 100)
        render(voice, 0.05)
    sound_off.control_change(120, 0)
    notes_off.control_change(123, 0)
    render(sound_off, 0.02)
    render(notes_off, 0.02)
    assert sound_off.active_voices() == 0
    assert notes_off.active_voices() == 3  # releasing
    render(notes_off, 1.0)
    assert notes_off.active_voices() == 0


def test_glide_slides_between_notes(make):
    voice = make("wave sine\npolyphony 1\nglide 0.2\n" + PLAIN)
    voice.note_on(57, 127)
    render(voice, 0.3)
    voice.note_on(69, 127)  # legato: the held voice slides up an octave
    start, end = render(voice, 0.05), render(voice, 0.5)[-RATE // 5 :]
    assert voice.active_voices() == 1
    assert peak_hz(end) == pytest.approx(440.0, abs=3.0)
    assert peak_hz(start) < 400.0


@pytest.mark.parametrize("wave", ["saw", "square", "triangle", "sine", "noise"])
def test_renders_are_deterministic(make, wave):
    text = f"wave {wave}\nwave2 noise\nmix 0.3\nresonance 0.5\ncutoff 2000\n" + PLAIN
    a, b = make(text), make(text)
    for voice in (a, b):
        voice.note_on(60, 100)
        voice.note_on(67, 90)
    assert np.array_equal(render(a, 0.5), render(b, 0.5))


def test_split_renders_equal_one_render(make):
    """Control updates follow each voice's age, so where a render is split changes nothing."""
    text = "wave saw\nwave2 square\ndetune 7\ncutoff 400\nfilter-env 3\nf-decay 0.2\n"
    text += "attack 0.01\ndecay 0.2\nsustain 0.5\nrelease 0.1\nglide 0.05\n"
    events = {0: [(60, 100)], 1000: [(64, 90)], 5003: [(67, 127)], 9000: [(-60, 0)]}
    outputs = []
    for sizes in ([RATE], [37] * (RATE // 37) + [RATE % 37], [1, 511, 512, 513] * 21):
        voice = make(text)
        out = np.zeros(RATE, dtype=np.float32)
        cuts = sorted({0, RATE, *events, *np.cumsum(sizes).tolist()})
        cuts = [c for c in cuts if c <= RATE]
        for start, stop in itertools.pairwise(cuts):
            for pitch, velocity in events.get(start, []):
                if pitch < 0:
                    voice.note_off(-pitch)
                else:
                    voice.note_on(pitch, velocity)
            voice.render(out[start:stop])
        outputs.append(out)
    assert outputs[0].any()
    assert np.array_equal(outputs[0], outputs[1])
    assert np.array_equal(outputs[0], outputs[2])


def test_render_adds_into_the_buffer(make):
    voice = make("wave sine\n" + PLAIN)
    voice.note_on(69, 100)
    out = np.full(1000, 0.5, dtype=np.float32)
    voice.render(out)
    alone = make("wave sine\n" + PLAIN)
    alone.note_on(69, 100)
    assert np.allclose(out - 0.5, render(alone, 1000 / RATE), atol=1e-7)


def shipped_synth_presets() -> list[Path]:
    return sorted(p for p in instruments_dir().glob("*.preset") if parse_preset(p).kind == "synth")


def test_the_eight_synth_presets_ship():
    names = {p.stem for p in shipped_synth_presets()}
    assert {"bass", "lead", "pad", "pluck", "organ", "strings", "brass", "bell"} <= names


@pytest.mark.parametrize("path", shipped_synth_presets(), ids=lambda p: p.stem)
def test_shipped_preset_plays_a_loud_chord_cleanly(path):
    voice = synth.load(parse_preset(path), RATE).create()
    for pitch in (48, 52, 55, 60):
        voice.note_on(pitch, 127)
    out = render(voice, 1.5)
    assert np.isfinite(out).all()
    assert np.sqrt((out**2).mean()) > 0.005
    assert np.abs(out).max() < 1.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("wave sawtooth", "wave must be one of"),
        ("cutoff 5", "cutoff 5 is outside"),
        ("polyphony 2.5", "polyphony must be a whole number"),
        ("octave2 3", "octave2 3 is outside"),
        ("resonanse 0.5", "unknown key 'resonanse'"),
    ],
)
def test_bad_values_are_reported_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.preset"
    path.write_text(f"type synth\n# comment\n{line}\n")
    with pytest.raises(SongFormatError, match=message) as caught:
        synth.load(parse_preset(path), RATE)
    assert str(caught.value).startswith(f"{path}:3:")
