"""The drum kit: the shipped GM kit plays our samples; chokes, velocity, cuts, preset errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tracker.dsp import drumkit
from tracker.dsp.presets import parse_preset
from tracker.model.errors import SongFormatError
from tracker.paths import instruments_dir

RATE = 48000


@pytest.fixture(scope="module")
def factory() -> drumkit.DrumKitFactory:
    return drumkit.load(parse_preset(instruments_dir() / "drums.preset"), RATE)


def wav(name: str) -> np.ndarray:
    audio, rate = soundfile.read(
        str(instruments_dir() / "samples" / f"{name}.wav"), dtype="float32"
    )
    assert rate == RATE
    return audio


def render(kit: drumkit.DrumKit, frames: int) -> np.ndarray:
    out = np.zeros(frames, np.float32)
    kit.render(out)
    return out


def test_note_36_plays_the_kick(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(36, 127)
    kick = wav("kick")
    out = render(kit, len(kick) + 1000)
    assert np.corrcoef(out[: len(kick)], kick)[0, 1] > 0.9999
    # At its own pitch and full velocity it is the WAV times the kit's gain (-4 dB), no more.
    np.testing.assert_allclose(out[: len(kick)], kick * 10 ** (-4 / 20), atol=1e-6)
    assert not out[len(kick) :].any()
    assert kit.active_voices() == 0


def test_reused_sample_differs_only_in_gain(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(36, 100)
    bass_drum_1 = render(kit, 30000)
    kit.note_on(35, 100)
    np.testing.assert_allclose(render(kit, 30000), bass_drum_1 * 10 ** (-2 / 20), rtol=1e-5)


def test_general_midi_map_is_covered(factory: drumkit.DrumKitFactory) -> None:
    mapped = {n for n in range(128) if factory.sample_of[n] >= 0}
    assert mapped == set(range(35, 60)) - {58}
    kit = factory.create()
    for note in sorted(mapped):
        kit.note_on(note, 100)
        assert np.abs(render(kit, 2400)).max() > 0.01, note
        kit.control_change(120, 0)
        render(kit, 1000)


@pytest.mark.parametrize("note", [58, 0, 60, 127])
def test_unmapped_note_is_silent(factory: drumkit.DrumKitFactory, note: int) -> None:
    kit = factory.create()
    kit.note_on(note, 127)
    assert not render(kit, 4800).any()
    assert kit.active_voices() == 0


def test_velocity_scales_level(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(38, 127)
    loud = render(kit, 9600)
    kit.control_change(120, 0)
    render(kit, 1000)
    kit.note_on(38, 40)
    np.testing.assert_allclose(render(kit, 9600), loud * 40 / 127, rtol=1e-5, atol=1e-7)


def test_closed_hat_chokes_the_open_hat(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(46, 127)
    render(kit, 4800)
    kit.note_on(42, 127)
    with_choke = render(kit, 24000)
    alone = factory.create()
    alone.note_on(42, 127)
    closed_only = render(alone, 24000)
    # Within the 10 ms choke fade the open hat is gone; what is left is the closed hat alone.
    np.testing.assert_allclose(with_choke[480:], closed_only[480:], atol=1e-7)
    assert np.abs(with_choke[:480] - closed_only[:480]).max() > 0.01  # faded, not cut dead
    assert kit.active_voices() == 0


def test_open_hat_rings_without_a_choke(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(46, 127)
    render(kit, 4800)
    kit.note_on(38, 127)  # the snare is in no choke group
    render(kit, 12000)
    assert kit.active_voices() == 2


def test_note_off_is_ignored_and_cut_silences(factory: drumkit.DrumKitFactory) -> None:
    kit = factory.create()
    kit.note_on(49, 100)
    render(kit, 1000)
    kit.note_off(49)
    kit.pitch_bend(8191)  # ignored as well: the kit plays at the samples' own pitch
    kept = render(kit, 1000)
    reference = factory.create()
    reference.note_on(49, 100)
    np.testing.assert_array_equal(kept, render(reference, 2000)[1000:])
    kit.note_off(49, cut=True)
    render(kit, 200)
    assert kit.active_voices() == 0


def test_polyphony_steals_the_oldest(tmp_path: Path) -> None:
    soundfile.write(str(tmp_path / "a.wav"), np.full(4800, 0.25, np.float32), RATE, "FLOAT")
    soundfile.write(str(tmp_path / "b.wav"), np.full(4800, 0.5, np.float32), RATE, "FLOAT")
    preset = tmp_path / "kit.preset"
    preset.write_text("type drumkit\npolyphony 1\nkey 36 a.wav\nkey 38 b.wav\n")
    kit = drumkit.load(parse_preset(preset), RATE).create()
    kit.note_on(36, 127)
    render(kit, 100)
    kit.note_on(38, 127)
    out = render(kit, 400)
    assert out[0] == pytest.approx(0.5 + 0.25, abs=0.01)  # the stolen voice fades out
    assert out[300] == pytest.approx(0.5)


def test_split_invariance(factory: drumkit.DrumKitFactory) -> None:
    def play(chunk: int) -> np.ndarray:
        kit = factory.create()
        out = np.zeros(96000, np.float32)
        hits = {0: (36, 42), 12000: (46,), 24000: (38, 44), 36000: (36, 49), 60000: (51,)}
        for start, end in zip(range(0, 96000, 12000), range(12000, 96001, 12000), strict=True):
            for note in hits.get(start, ()):
                kit.note_on(note, 110)
            for frame in range(start, end, chunk):
                kit.render(out[frame : min(frame + chunk, end)])
        return out

    whole = play(12000)
    assert np.array_equal(whole, play(37))
    assert np.array_equal(whole, play(1))


# --- errors ------------------------------------------------------------------------------------


def load_error(tmp_path: Path, body: str) -> str:
    soundfile.write(str(tmp_path / "x.wav"), np.zeros(100, np.float32), RATE, "FLOAT")
    preset = tmp_path / "bad.preset"
    preset.write_text("type drumkit\n" + body)
    with pytest.raises(SongFormatError) as info:
        drumkit.load(parse_preset(preset), RATE)
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "needs at least one `key"),
        ("key 36\n", "expected key NOTE PATH"),
        ("key 36 x.wav choke\n", "expected key NOTE PATH"),
        ("key 36 x.wav mute 1\n", "not 'mute'"),
        ("key 300 x.wav\n", "outside 0..127"),
        ("key 36 x.wav gain loud\n", "gain loud is outside"),
        ("key 36 x.wav\nkey 36 x.wav\n", "bad.preset:3: key 36 is already mapped at line 2"),
        ("key 36 missing.wav\n", "bad.preset:2: sample missing.wav: no such file"),
        ("key 36 ../x.wav\n", "bad.preset:2: sample path '../x.wav' must stay inside"),
        ("key 36 x.wav\npolyphony 0\n", "polyphony 0 is outside 1..64"),
        ("key 36 x.wav\nloop forward\n", "unknown key 'loop' for a drumkit preset"),
    ],
)
def test_preset_errors(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in load_error(tmp_path, body)


def test_corrupt_wav(tmp_path: Path) -> None:
    (tmp_path / "junk.wav").write_bytes(bytes(range(256)) * 4)
    assert "bad.preset:2: sample junk.wav: cannot read audio" in load_error(
        tmp_path, "key 36 junk.wav\n"
    )


def test_note_names_and_named_choke_groups(tmp_path: Path) -> None:
    soundfile.write(str(tmp_path / "a.wav"), np.full(4800, 0.25, np.float32), RATE, "FLOAT")
    preset = tmp_path / "kit.preset"
    preset.write_text("type drumkit\nkey C-2 a.wav choke x\nkey D-2 a.wav choke x gain -6\n")
    factory = drumkit.load(parse_preset(preset), RATE)
    assert factory.sample_of[36] == factory.sample_of[38] == 0  # one WAV, read once
    assert len(factory.bank.offsets) == 1
    assert factory.group_of[36] == factory.group_of[38] > 0
