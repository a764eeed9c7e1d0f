"""The block renderer: sample accuracy, block-size invariance, track selection, gain and pan
laws, stems, program changes. Synth presets only, written into tmp_path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tracker.dsp import gm, synth
from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.mixer import BlockRenderer
from tracker.dsp.presets import parse_preset
from tracker.model.errors import TrackerError
from tracker.model.events import (
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import EffectCell, Pattern, Song, Track, TrackKind

RATE = 44100
PRESETS = {
    # attack 0 and a square: the first samples of a note are non-zero
    "testsquare": "wave square\nattack 0\ndecay 0\nsustain 1\nrelease 0.05\ncutoff 8000\n",
    "testsaw": "wave saw\nattack 0.002\ndecay 0.1\nsustain 0.6\nrelease 0.1\ncutoff 3000\n",
    "testsine": "wave sine\nattack 0\ndecay 0\nsustain 1\nrelease 0.02\n",
    # found before the shipped lead: what GM programs 80-87 play in these tests
    "lead": "wave triangle\nattack 0\ndecay 0\nsustain 1\nrelease 0.02\n",
}


@pytest.fixture
def presets(tmp_path: Path) -> Path:
    for name, text in PRESETS.items():
        (tmp_path / f"{name}.preset").write_text(f"type synth\n{text}")
    return tmp_path


@pytest.fixture
def library(presets: Path) -> InstrumentLibrary:
    return InstrumentLibrary(RATE, [presets])


def song_of(*tracks: Track, instruments: dict[int, str] | None = None) -> Song:
    return Song(
        instruments=instruments or {1: "testsquare", 2: "testsaw", 3: "testsine"},
        tracks=list(tracks),
        patterns={0: Pattern(16)},
        order=[0],
    )


def render(
    renderer: BlockRenderer,
    events: list[tuple[int, Event]],
    frames: int,
    block: int = 8192,
    with_stems: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Render `frames` in blocks of `block`; events carry absolute frames."""
    out = np.zeros((frames, 2), dtype=np.float32)
    stems = [np.zeros((frames, 2), dtype=np.float32) for _ in renderer.tracks]
    events = sorted(events, key=lambda e: e[0])
    for start in range(0, frames, block):
        stop = min(start + block, frames)
        inside = [(frame - start, event) for frame, event in events if start <= frame < stop]
        renderer.render(
            out[start:stop], inside, [s[start:stop] for s in stems] if with_stems else None
        )
    return out, stems


def alone(library: InstrumentLibrary, name: str, notes: list[tuple[int, int]], frames: int):
    """What one instance of a preset renders for note-ons at (frame, pitch), mono."""
    instrument = library.create(name)
    out = np.zeros(frames, dtype=np.float32)
    position = 0
    for frame, pitch in [*sorted(notes), (frames, -1)]:
        instrument.render(out[position:frame])
        position = frame
        if pitch >= 0:
            instrument.note_on(pitch, 100)
    return out


def test_a_note_starts_at_exactly_its_frame(library):
    song = song_of(Track("A", instrument=1))
    starts = {}
    for k in (0, 1, 37, 500):
        renderer = BlockRenderer(song, RATE, library, max_block=1024)
        out, _ = render(renderer, [(k, NoteOn(0, 0, 60, 100))], 1024, block=1024)
        assert not out[:k].any()
        assert out[k : k + 4].any()
        starts[k] = out
    for k, out in starts.items():
        assert np.array_equal(out[k:], starts[0][: 1024 - k])


def test_output_is_the_same_whatever_the_block_size(library):
    song = song_of(
        Track("A", instrument=1, pan=-0.3),
        Track("B", instrument=2, volume_db=-3.0),
        Track("C", instrument=3, pan=0.5),
    )
    events: list[tuple[int, Event]] = [
        (0, NoteOn(0, 0, 48, 100)),
        (100, NoteOn(0, 1, 60, 90)),
        (101, NoteOn(0, 1, 64, 90)),
        (4410, NoteOn(0, 2, 72, 127)),
        (9000, ControlChange(0, 1, 74, 90)),
        (12000, PitchBend(0, 2, 3000)),
        (20000, ControlChange(0, 0, 7, 80)),
        (20000, ControlChange(0, 0, 10, 20)),
        (25000, ControlChange(0, 2, 7, 90)),  # a later track's gain changes mid-block
        (26000, ControlChange(0, 1, 10, 100)),
        (22050, NoteOff(0, 0, 48)),
        (30000, NoteOff(0, 1, 60, cut=True)),
        (30001, NoteOn(0, 0, 50, 70, instrument=3)),
        (44100, NoteOff(0, 1, 64)),
        (50000, ControlChange(0, 2, 64, 127)),
        (50001, NoteOff(0, 2, 72)),
        (60000, NoteOff(0, 0, 50)),
        (61000, ProgramChange(0, 2, 81)),
        (61000, NoteOn(0, 2, 76, 100)),
        (70000, ControlChange(0, 2, 64, 0)),
        (80000, NoteOff(0, 2, 76)),
        (70000, TempoChange(0, 130.0)),
    ]
    mixes = []
    for block in (64, 333, 8192):
        renderer = BlockRenderer(song, RATE, library, max_block=8192)
        out, stems = render(renderer, events, 2 * RATE, block=block, with_stems=True)
        mixes.append((out, stems))
    reference, reference_stems = mixes[0]
    assert reference.any()
    for out, stems in mixes[1:]:
        assert np.array_equal(out, reference)
        for stem, expected in zip(stems, reference_stems, strict=True):
            assert np.array_equal(stem, expected)


def test_stems_sum_to_the_mix(library):
    song = song_of(
        Track("A", instrument=1, pan=-0.5, volume_db=-2.0),
        Track("B", instrument=2, pan=0.7),
        Track("C", instrument=3, volume_db=3.0),
    )
    events = [(0, NoteOn(0, t, 48 + 7 * t, 100)) for t in range(3)]
    events.append((5000, ControlChange(0, 1, 10, 10)))
    renderer = BlockRenderer(song, RATE, library, max_block=4096)
    out, stems = render(renderer, events, 20000, block=4096, with_stems=True)
    assert all(stem.any() for stem in stems)
    assert np.allclose(sum(stems), out, atol=1e-6)


def test_mute_solo_and_track_selection(library):
    tracks = [Track(f"T{i}", instrument=i + 1) for i in range(3)]
    events = [(0, NoteOn(0, t, 48 + 5 * t, 100)) for t in range(3)]
    frames = 4096

    def tracks_heard(song: Song, **kwargs) -> list[int]:
        renderer = BlockRenderer(song, RATE, library, max_block=frames, **kwargs)
        _, stems = render(renderer, events, frames, block=frames, with_stems=True)
        heard = [t for t, stem in zip(renderer.tracks, stems, strict=True) if stem.any()]
        out, _ = render(BlockRenderer(song, RATE, library, **kwargs), events, frames)
        assert out.any() == bool(heard)
        return heard

    assert tracks_heard(song_of(*tracks)) == [0, 1, 2]
    tracks[1].mute = True
    assert tracks_heard(song_of(*tracks)) == [0, 2]
    tracks[2].solo = True
    assert tracks_heard(song_of(*tracks)) == [2]
    assert tracks_heard(song_of(*tracks), tracks=[1]) == [1]  # explicit: even a muted track
    tracks[0].kind = TrackKind.MIDI
    renderer = BlockRenderer(song_of(*tracks), RATE, library, tracks=[0, 1])
    assert renderer.tracks == [1]  # MIDI tracks make no sound here


def mono_note(library: InstrumentLibrary, frames: int = 8192) -> np.ndarray:
    return alone(library, "testsine", [(0, 69)], frames)


def test_fader_and_pan_laws(library):
    frames = 8192
    mono = mono_note(library, frames)
    for volume_db, pan in [(0.0, 0.0), (-6.0, 0.0), (0.0, 1.0), (3.0, -0.5), (0.0, 0.25)]:
        song = song_of(Track("A", instrument=3, volume_db=volume_db, pan=pan))
        renderer = BlockRenderer(song, RATE, library, max_block=frames)
        out, _ = render(renderer, [(0, NoteOn(0, 0, 69, 100))], frames)
        gain = 10 ** (volume_db / 20)
        left = gain * math.cos(max(pan, 0.0) * math.pi / 2)
        right = gain * math.cos(max(-pan, 0.0) * math.pi / 2)
        assert np.allclose(out[:, 0], mono * left, atol=1e-6)
        assert np.allclose(out[:, 1], mono * right, atol=1e-6)


@pytest.mark.parametrize("value", [0, 32, 64, 100, 127])
def test_channel_volume_and_pan_controllers(library, value):
    frames = 8192
    mono = mono_note(library, frames)
    song = song_of(Track("A", instrument=3))
    events: list[tuple[int, Event]] = [
        (0, ControlChange(0, 0, 7, value)),
        (0, ControlChange(0, 0, 10, value)),
        (0, NoteOn(0, 0, 69, 100)),
    ]
    out, _ = render(BlockRenderer(song, RATE, library, max_block=frames), events, frames)
    volume = (value / 127) ** 2
    angle = (min(max((value - 64) / 63, -1.0), 1.0) + 1) * math.pi / 4
    assert np.allclose(out[:, 0], mono * volume * math.sqrt(2) * math.cos(angle), atol=1e-6)
    assert np.allclose(out[:, 1], mono * volume * math.sqrt(2) * math.sin(angle), atol=1e-6)


def test_controller_gain_changes_at_its_frame(library):
    frames = 4096
    song = song_of(Track("A", instrument=3))
    events: list[tuple[int, Event]] = [
        (0, NoteOn(0, 0, 69, 100)),
        (1000, ControlChange(0, 0, 7, 0)),
    ]
    out, _ = render(BlockRenderer(song, RATE, library, max_block=frames), events, frames)
    assert out[900:1000].any()
    assert not out[1000:].any()


def test_prefader_ignores_the_track_fader_and_pan(library):
    frames = 8192
    mono = mono_note(library, frames)
    song = song_of(Track("A", instrument=3, volume_db=-12.0, pan=0.8))
    renderer = BlockRenderer(song, RATE, library, max_block=frames, prefader=True)
    out, _ = render(renderer, [(0, NoteOn(0, 0, 69, 100))], frames)
    assert np.array_equal(out[:, 0], mono)
    assert np.array_equal(out[:, 1], mono)


def test_program_change_switches_the_preset(library):
    frames = 8192
    song = song_of(Track("A", instrument=3))
    song.patterns[0].set_effect(0, 4, 0, EffectCell("P", 81))
    events: list[tuple[int, Event]] = [
        (0, ProgramChange(0, 0, 81)),  # GM synth lead → our "lead" (a triangle here)
        (0, NoteOn(0, 0, 69, 100)),
    ]
    out, _ = render(BlockRenderer(song, RATE, library, max_block=frames), events, frames)
    assert np.array_equal(out[:, 0], alone(library, "lead", [(0, 69)], frames))
    assert not np.array_equal(out[:, 0], mono_note(library, frames))


def test_note_instrument_overrides_and_note_off_finds_its_instance(library):
    frames = 3 * 8192
    song = song_of(Track("A", instrument=1))
    renderer = BlockRenderer(song, RATE, library, max_block=8192)
    events: list[tuple[int, Event]] = [
        (0, NoteOn(0, 0, 69, 100, instrument=3)),
        (4000, NoteOff(0, 0, 69)),  # no instrument: still reaches the sine that plays it
    ]
    out, _ = render(renderer, events, frames)
    expected = alone(library, "testsine", [(0, 69)], 4000)
    assert np.array_equal(out[:4000, 0], expected)
    assert renderer.active_voices() == 0
    assert not out[8192:].any()


def test_other_tracks_events_and_tempo_changes_are_ignored(library):
    frames = 4096
    song = song_of(Track("A", instrument=1), Track("B", instrument=2))
    renderer = BlockRenderer(song, RATE, library, max_block=frames, tracks=[0])
    events: list[tuple[int, Event]] = [(0, TempoChange(0, 100.0)), (0, NoteOn(0, 1, 60, 100))]
    out, _ = render(renderer, events, frames)
    assert not out.any()
    assert renderer.active_voices() == 0


def test_bad_presets_fail_before_any_audio(library):
    with pytest.raises(TrackerError, match="unknown instrument preset 'nosuch'"):
        BlockRenderer(song_of(Track("A", instrument=1), instruments={1: "nosuch"}), RATE, library)
    with pytest.raises(TrackerError, match="instrument 7 is not defined"):
        BlockRenderer(song_of(Track("A", instrument=7)), RATE, library)


def test_library_lists_and_caches_presets(library, presets):
    names = library.available()
    assert {"testsquare", "testsine", "bass", "pad"} <= set(names)
    assert library.factory("testsine") is library.factory("testsine")
    with pytest.raises(TrackerError, match=r"available: .*testsaw"):
        library.factory("../testsaw")
    # a search dir shadows the shipped preset of the same name
    lead = parse_preset(library.path("lead"))
    assert lead.path.parent == presets
    assert isinstance(library.factory("lead"), synth.SynthFactory)


def test_general_midi_families_map_to_presets():
    expected = {
        0: "keys", 7: "keys", 8: "bell", 16: "organ", 24: "pluck", 32: "bass", 39: "bass",
        40: "strings", 48: "pad", 56: "brass", 64: "lead", 72: "lead", 80: "lead", 88: "pad",
        96: "pad", 104: "pluck", 112: "pluck", 120: "pad", 127: "pad",
    }  # fmt: skip
    for program, preset in expected.items():
        assert gm.preset_for_program(program) == preset
        assert gm.preset_for_track(1, program) == preset
        assert gm.preset_for_track(gm.DRUM_CHANNEL, program) == "drums"
    shipped = InstrumentLibrary(RATE).available()
    assert set(gm.FAMILIES) | {gm.DRUMS} <= set(shipped)
