"""Bad input files reach the user as one TrackerError line naming the file, never a traceback.

A fast subset of bench/fuzz.py: mutated valid files through the four loaders (song files, MIDI
import, instrument presets with their samples, audio clips and samples), then one regression
test per crash the fuzzer found.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import note, one_track_song
from tracker.commands.songs import open_song
from tracker.dsp import sampler
from tracker.dsp.audio_clips import load_clip
from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.presets import parse_preset
from tracker.midi.import_file import import_midi
from tracker.model.errors import SongFormatError, TrackerError
from tracker.model.serialize import dumps, load_song, loads
from tracker.model.song import EffectSpec

REPO = Path(__file__).resolve().parents[1]
RATE = 48000
LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_user_error(exc: BaseException, *names: str) -> None:
    """The product rule: a TrackerError, one short line, naming the file."""
    assert isinstance(exc, TrackerError), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    assert not LINE_BREAKING.search(message), repr(message)
    for name in names:
        assert name in message, (name, message)
    assert len(message) < 600 + sum(len(n) for n in names), message


def wav(data: np.ndarray, rate: int = RATE, fmt: str = "WAV", subtype: str = "FLOAT") -> bytes:
    out = io.BytesIO()
    sf.write(out, data, rate, format=fmt, subtype=subtype)
    return out.getvalue()


# --- seeds ---------------------------------------------------------------------------------


def song_seeds() -> list[bytes]:
    song = one_track_song({0: note("C-4", 0x64), 4: note("OFF"), 6: note("^^^")}, rows=8)
    song.tracks[0].effects.append(EffectSpec("delay", {"time": 375.0, "mode": "ping"}))
    demo = load_song(REPO / "patterns" / "demo.song")
    first = min(demo.patterns)
    demo.patterns, demo.order, demo.loop = {first: demo.patterns[first]}, [first], None
    return [dumps(song).encode(), dumps(demo).encode()]


def midi_seeds() -> list[bytes]:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name="Lead"),
                mido.MetaMessage("set_tempo", tempo=500000),
                mido.MetaMessage("time_signature", numerator=3, denominator=4),
                mido.Message("program_change", program=5),
                mido.Message("note_on", note=60, velocity=100),
                mido.Message("control_change", control=64, value=127, time=10),
                mido.Message("pitchwheel", pitch=1000),
                mido.Message("note_off", note=60, time=96),
                mido.Message("note_on", channel=9, note=36, velocity=90),
                mido.MetaMessage("set_tempo", tempo=400000, time=48),
            ]
        )
    )
    out = io.BytesIO()
    midi.save(file=out)
    return [out.getvalue()]


def preset_seeds() -> list[bytes]:
    shipped = [
        re.sub(rb"(?m)^#.*\n|  +#.*$", b"", (REPO / "instruments" / f"{name}.preset").read_bytes())
        for name in ("bass", "drums")
    ]  # comments out: mutations there change nothing
    layers = (
        b"type sampler\nloop forward\nloop-end 900\nsample samples/a.wav root C-4 velocity 1-63\n"
        b"sample samples/a.wav root 72 velocity 64-127 loop 0 500\nrelease 0.1\n"
    )
    return [*shipped, layers]


def audio_seeds() -> list[bytes]:
    noise = (np.random.default_rng(0).random((300, 2)) - 0.5).astype(np.float32)
    return [
        wav(noise),
        wav(noise[:, :1], 44100, subtype="PCM_16"),
        wav(noise, 22050, "FLAC", "PCM_24"),
        wav(noise[:50], 96000, "AIFF", "PCM_16"),
    ]


SEEDS = {
    "song": song_seeds(),
    "midi": midi_seeds(),
    "preset": preset_seeds(),
    "audio": audio_seeds(),
}
NUMBERS = [b"0", b"-1", b"127", b"128", b"65536", b"2147483648", b"1e309", b"nan", b"9" * 5000]
INSERTS = [b"\x00", b"\r\n", b"\r", b'"', b"\\", b"\xff", "\u2028".encode(), "²".encode(), b"\t"]


@st.composite
def mutated(draw: st.DrawFn, target: str) -> bytes:
    """A seed of `target` with a few bit flips, inserts, deletes, truncations, chunk copies and
    number changes, at positions spread evenly over the file."""
    data = bytearray(draw(st.sampled_from(SEEDS[target])))
    rng = draw(st.randoms(use_true_random=False))
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(data))
        kind = rng.choice(["flip", "insert", "delete", "truncate", "copy", "number", "number"])
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            data[at:at] = rng.choice([*INSERTS, bytes([rng.randrange(256)])])
        elif kind == "delete":
            del data[at : at + rng.randint(1, 64)]
        elif kind == "truncate":
            del data[at:]
        elif kind == "copy":
            data[at:at] = data[at : at + rng.randint(1, 256)] * rng.randint(1, 20)
        elif kind == "number":
            numbers = list(re.finditer(rb"[0-9]+", data))
            if numbers:
                start, end = rng.choice(numbers).span()
                data[start:end] = rng.choice(NUMBERS)
    return bytes(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preset folder with the samples the seed presets name, short ones."""
    place = tmp_path_factory.mktemp("fuzz")
    (place / "samples").mkdir()
    noise = (np.random.default_rng(1).random(2000) - 0.5).astype(np.float32)
    for name in ["a.wav", *re.findall(r"samples/(\w+\.wav)", SEEDS["preset"][1].decode())]:
        sf.write(place / "samples" / name, noise, RATE, subtype="FLOAT")
    return place


def play(factory_name: str, folder: Path) -> None:
    instrument = InstrumentLibrary(RATE, [folder]).create(factory_name)
    out = np.zeros(256, np.float32)
    instrument.note_on(60, 100)
    instrument.render(out)
    assert np.isfinite(out).all()


# --- the four loaders under mutation ---------------------------------------------------------


@FUZZ
@given(data=mutated("song"))
def test_song_files(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.song"
    path.write_bytes(data)
    try:
        song, _ = open_song(path)
    except Exception as exc:
        assert_user_error(exc, str(path))
        return
    text = dumps(song)  # what loads must save, and read back the same
    assert dumps(loads(text)) == text


@FUZZ
@given(data=mutated("midi"))
def test_midi_import(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.mid"
    path.write_bytes(data)
    try:
        song, _ = open_song(path)
    except Exception as exc:
        assert_user_error(exc, str(path))
        return
    dumps(song)  # `tracker import` saves it


@FUZZ
@given(data=mutated("preset"))
def test_presets_with_their_samples(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.preset"
    path.write_bytes(data)
    try:
        play("fuzz", folder)
    except Exception as exc:
        assert_user_error(exc, str(path))


@FUZZ
@given(data=mutated("audio"), via=st.sampled_from(["clip", "sampler", "drumkit"]))
def test_audio_clips_and_samples(folder: Path, data: bytes, via: str) -> None:
    path = folder / "clip.wav"
    path.write_bytes(data)
    if via == "clip":
        try:
            audio = load_clip(path, RATE)
        except Exception as exc:
            assert_user_error(exc, str(path))
            return
        assert audio.dtype == np.float32 and audio.shape[1:] == (2,)
        assert np.isfinite(audio).all()
        return
    preset = folder / "clip.preset"
    line = "sample clip.wav root C-4" if via == "sampler" else "key 36 clip.wav"
    preset.write_text(f"type {via}\n{line}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would print above the one line
        try:
            play("clip", folder)
        except Exception as exc:
            assert_user_error(exc, str(preset), "clip.wav")


# --- regressions: what the fuzzer found ------------------------------------------------------


def preset_error(folder: Path, text: str, name: str = "bad") -> str:
    path = folder / f"{name}.preset"
    path.write_text(text)
    with pytest.raises(TrackerError) as info:
        InstrumentLibrary(RATE, [folder]).create(name)
    assert_user_error(info.value, str(path))
    return str(info.value)


@pytest.mark.parametrize("name", ["take.raw", "take.RAW"])
def test_a_raw_clip_is_an_error_not_a_type_error(tmp_path: Path, name: str) -> None:
    # soundfile takes a .raw name for headerless audio and raised TypeError (no samplerate).
    (tmp_path / name).write_bytes(wav(np.zeros((10, 2), np.float32)))
    with pytest.raises(TrackerError, match="has no header") as info:
        load_clip(tmp_path / name, RATE)
    assert_user_error(info.value, name)


@pytest.mark.parametrize("kind", ["sampler", "drumkit"])
def test_a_raw_sample_is_an_error_not_a_type_error(tmp_path: Path, kind: str) -> None:
    (tmp_path / "s.raw").write_bytes(wav(np.zeros(10, np.float32)))
    line = "sample s.raw root 60" if kind == "sampler" else "key 36 s.raw"
    assert "s.raw: cannot read audio" in preset_error(tmp_path, f"type {kind}\n{line}\n")


def test_a_clip_name_too_long_for_the_system_is_an_error(tmp_path: Path) -> None:
    # Path.is_file() lets ENAMETOOLONG through as OSError.
    name = "x" * 300 + ".wav"
    with pytest.raises(TrackerError) as info:
        load_clip(tmp_path / name, RATE)
    assert_user_error(info.value, name)


def test_a_sample_name_too_long_for_the_system_is_an_error(tmp_path: Path) -> None:
    message = preset_error(tmp_path, f"type sampler\nsample {'x' * 300}.wav root 60\n")
    assert "bad.preset:2: sample 'xxxx" in message and "cannot read audio" in message


def test_opposite_infinities_in_a_stereo_sample_warn_nothing(tmp_path: Path) -> None:
    # Mixing inf and -inf to mono made NaN with a RuntimeWarning printed above the error.
    audio = np.zeros((100, 2), np.float32)
    audio[5] = (np.inf, -np.inf)
    (tmp_path / "s.wav").write_bytes(wav(audio))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "non-finite" in preset_error(tmp_path, "type sampler\nsample s.wav root 60\n")


def test_samples_far_beyond_full_scale_are_refused(tmp_path: Path) -> None:
    # Finite, but three voices of 1.7e38 summed to infinity in the float32 output.
    audio = np.full((1, 6), 1.7e38, np.float32)
    (tmp_path / "loud.wav").write_bytes(wav(audio, fmt="WAVEX"))
    message = preset_error(tmp_path, "type sampler\nsample loud.wav root 60\n")
    assert "beyond +60 dB" in message
    with pytest.raises(TrackerError, match=r"loud\.wav: holds samples beyond \+60 dB"):
        load_clip(tmp_path / "loud.wav", RATE)


def test_loud_but_real_float_audio_still_loads(tmp_path: Path) -> None:
    (tmp_path / "hot.wav").write_bytes(wav(np.full((10, 2), 40.0, np.float32)))  # +32 dBFS
    assert load_clip(tmp_path / "hot.wav", RATE).max() == 40.0


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("type synth\n" + "wave" + "9" * 300 + " saw\n", "unknown key 'wave999"),
        ("type synth\nattack " + "9" * 300 + "\n", "attack '999"),
        ("type synth\ngain x" + "9" * 300 + "\n", "gain: 'x999"),
        ("type sampler\nsample samples/\x1f.wav root 60\n", "sample 'samples/\\x1f.wav': no such"),
        ("type sampler\nsample samples/a.wav root 60 velocity 1-" + "9" * 300 + "\n", "not '1-99"),
        ("type sampler\nsample samples/a.wav root 60 " + "x" * 300 + " 1\n", "at 'xxx"),
        ("type sampler\nsample samples/a.wav root " + "9" * 300 + "\n", "note '999"),
        ("type drumkit\nkey 36 samples/a.wav gain -" + "9" * 300 + "\n", "gain '-999"),
        ("type drumkit\nkey 36 samples/a.wav gain \x1b[2J\n", "gain '\\x1b[2J'"),
    ],
    ids=["key", "number", "word", "control", "velocity", "option", "root", "drum", "escape"],
)
def test_preset_messages_quote_and_cut_what_the_file_says(
    tmp_path: Path, body: str, shown: str
) -> None:
    (tmp_path / "samples").mkdir()
    sf.write(tmp_path / "samples" / "a.wav", np.zeros(100, np.float32), RATE)
    message = preset_error(tmp_path, body)
    assert shown in message
    assert len(message) < len(str(tmp_path)) + 200


@pytest.mark.parametrize(
    "line",
    [
        "sample s.wav root 60 loop 0 " + "1" * 100_000,  # int() refuses over 4300 digits
        "sample s.wav root 60 velocity 1-" + "1" * 100_000,
        "sample s.wav root " + "6" * 100_000,
        "loop-end " + "1" * 5000,
    ],
    ids=["loop", "velocity", "root", "loop-end"],
)
def test_huge_whole_numbers_in_a_preset_are_errors(tmp_path: Path, line: str) -> None:
    sf.write(tmp_path / "s.wav", np.zeros(100, np.float32), RATE)
    preset_error(tmp_path, f"type sampler\nsample s.wav root 60\n{line}\n")


def test_a_preset_line_of_a_megabyte_is_refused(tmp_path: Path) -> None:
    # shlex reads one long word in quadratic time: a 930 kB line took 11 s before this limit.
    message = preset_error(tmp_path, "type synth\nname " + "x" * 900_000 + "\n")
    assert "bad.preset:2: line is longer than 4096 characters" in message


def test_thousands_of_zones_choose_as_before() -> None:
    # choose_samples went through 16384 (velocity, pitch) cells in Python for every zone.
    def reference(zones: list[sampler.Zone]) -> np.ndarray:
        table = np.zeros((128, 128), np.int64)
        for velocity in range(128):
            distance = [max(z.low - velocity, velocity - z.high, 0) for z in zones]
            layer = [i for i, d in enumerate(distance) if d == min(distance)]
            for pitch in range(128):
                table[velocity, pitch] = min(
                    layer, key=lambda i: (abs(zones[i].root - pitch), -zones[i].root, i)
                )
        return table

    rng = np.random.default_rng(3)
    for _ in range(20):
        zones = []
        for _ in range(int(rng.integers(1, 8))):
            low = int(rng.integers(0, 128))
            zones.append(sampler.Zone(int(rng.integers(0, 128)), low, int(rng.integers(low, 128))))
        assert (sampler.choose_samples(zones) == reference(zones)).all()
    many = [sampler.Zone(int(r), 1, 127) for r in rng.integers(0, 128, 5000)]
    assert sampler.choose_samples(many).max() < 5000


def test_zones_naming_one_long_sample_many_times_are_refused(tmp_path: Path) -> None:
    # Each zone keeps its own copy: 1500 lines naming one 91300-frame WAV asked for 550 MB.
    sf.write(tmp_path / "long.wav", np.zeros(91_300, np.float32), RATE, subtype="PCM_16")
    lines = "sample long.wav root 60\n" * 1500
    message = preset_error(tmp_path, f"type sampler\n{lines}")
    assert "samples come to more than" in message


def test_a_song_effect_number_the_writer_refuses_is_a_read_error(tmp_path: Path) -> None:
    # `ceiling=1e40` loaded, then saving the song raised RuleError (a ValueError traceback).
    song = one_track_song({0: note("C-4")})
    text = dumps(song).replace('track "T"\n', 'track "T"\n  effect limiter ceiling=1e40\n')
    path = tmp_path / "big.song"
    path.write_text(text)
    with pytest.raises(SongFormatError, match=r"big\.song:\d+:\d+: ceiling 1e\+40 is outside"):
        load_song(path)


def midi_bytes(*messages: mido.Message | mido.MetaMessage, tracks: int = 1) -> bytes:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    for _ in range(tracks):
        midi.tracks.append(mido.MidiTrack(messages))
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def test_a_midi_time_signature_the_format_cannot_hold_becomes_4_4(tmp_path: Path) -> None:
    # 92/4 imported as is, and the song could not be saved (beats over 64).
    path = tmp_path / "odd.mid"
    path.write_bytes(
        midi_bytes(
            mido.MetaMessage("time_signature", numerator=92, denominator=4),
            mido.Message("note_on", note=60, velocity=100),
        )
    )
    song = import_midi(path)
    assert song.time_signature == (4, 4)
    dumps(song)


def test_a_huge_midi_meta_length_is_cut_short_in_the_message(tmp_path: Path) -> None:
    # mido puts the 200-digit length in its message.
    header = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x01\x00\x01\x00\x60"
    body = b"\x00\xff\x01" + b"\xff" * 90 + b"\x7f" + b"\x00\xff\x2f\x00"
    path = tmp_path / "long.mid"
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + body)
    with pytest.raises(SongFormatError) as info:
        import_midi(path)
    assert_user_error(info.value, str(path))
    assert len(str(info.value)) < len(str(path)) + 200


def test_a_midi_delta_time_of_hundreds_of_digits_is_one_short_line(tmp_path: Path) -> None:
    header = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x01\x00\x01\x00\x60"
    body = b"\xff" * 90 + b"\x7f\x90\x3c\x40" + b"\x00\xff\x2f\x00"  # a 630-bit delta time
    path = tmp_path / "late.mid"
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + body)
    with pytest.raises(SongFormatError, match="over a million patterns") as info:
        import_midi(path)
    assert_user_error(info.value, str(path))


def test_a_midi_file_whose_song_could_not_be_saved_is_refused(tmp_path: Path) -> None:
    # 200 tracks reaching pattern 4000: a 500-byte file became a song of gigabytes written out,
    # which took minutes to save and then failed with RuleError.
    last = 96 * 16 * 4000 - 1
    path = tmp_path / "wide.mid"
    path.write_bytes(
        midi_bytes(
            mido.Message("note_on", note=60, velocity=100),
            mido.Message("note_off", note=60, time=last),
            tracks=200,
        )
    )
    with pytest.raises(SongFormatError, match="more than 64 MiB written out") as info:
        import_midi(path)
    assert_user_error(info.value, str(path))


def test_preset_files_still_parse_as_before() -> None:
    for path in sorted((REPO / "instruments").glob("*.preset")):
        assert parse_preset(path).kind in ("synth", "sampler", "drumkit")
