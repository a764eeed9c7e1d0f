"""MIDI file export: the sequencer's events as a type 1 file, and export → import round trips."""

from __future__ import annotations

import tempfile
from collections import defaultdict, deque
from pathlib import Path

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import note, one_track_song
from tracker.engine.sequencer import sequence
from tracker.midi.export_file import export_midi, midi_file
from tracker.midi.import_file import import_midi
from tracker.model.errors import TrackerError
from tracker.model.events import NoteOff, NoteOn
from tracker.model.song import EffectCell, Pattern, Song, Track

Note = tuple[int, int, int, int, int]  # (channel 1..16, pitch, velocity, start tick, end tick)


def presets(channel: int, program: int) -> str:
    return "drums" if channel == 10 else f"gm{program}"


def sequenced_notes(song: Song) -> list[Note]:
    """The notes the tracker plays, paired per (channel, pitch) first in, first out."""
    sounding: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    notes = []
    for event in sequence(song):
        if isinstance(event, NoteOn | NoteOff):
            key = (song.tracks[event.track].channel, event.pitch)
            if isinstance(event, NoteOn):
                sounding[key].append((event.tick, event.velocity))
            elif sounding[key]:
                start, velocity = sounding[key].popleft()
                notes.append((*key, velocity, start, event.tick))
    return sorted(notes)


def file_notes(path: Path) -> list[Note]:
    """The notes a MIDI file plays, in ticks, paired like mido plays them."""
    midi = mido.MidiFile(path)
    sounding: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    notes = []
    tick = 0
    for message in mido.merge_tracks(midi.tracks):
        tick += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel + 1, message.note)
        if message.type == "note_on" and message.velocity:
            sounding[key].append((tick, message.velocity))
        elif sounding[key]:
            start, velocity = sounding[key].popleft()
            notes.append((*key, velocity, start, tick))
    return sorted(notes)


def absolute(track) -> list[tuple[int, object]]:
    tick, out = 0, []
    for message in track:
        tick += message.time
        out.append((tick, message))
    return out


def busy_song() -> Song:
    """Two tracks, two patterns: chords, delays, OFF, cut, note lengths, retrigger, swing."""
    a, b = Pattern(8), Pattern(4)
    a.set_note(0, 0, 0, note("C-4", 0x50))
    a.set_note(0, 0, 1, note("E-4", 0x60, delay=5))
    a.set_note(0, 0, 2, note("G-4", 0x70))
    a.set_note(0, 2, 0, note("OFF", delay=3))
    a.set_note(0, 3, 1, note("^^^"))
    a.set_note(0, 5, 0, note("D-4"))  # rings into pattern 1
    a.set_effect(0, 1, 0, EffectCell("C", 0x0740, delay=2))
    a.set_effect(0, 4, 0, EffectCell("T", 92.5))
    a.set_note(1, 1, 0, note("C-2", 0x7F, delay=23))
    a.set_note(1, 4, 0, note("A-2", 0x30))
    a.set_effect(1, 4, 0, EffectCell("L", 10))
    a.set_note(1, 6, 0, note("B-2"))
    a.set_effect(1, 6, 0, EffectCell("R", 8))
    b.set_note(0, 2, 0, note("F-4", delay=1))
    b.set_note(1, 0, 0, note("C-3"))
    b.set_effect(1, 0, 0, EffectCell("B", 0x3000))
    b.set_effect(1, 1, 0, EffectCell("P", 12))
    return Song(
        title="Busy",
        bpm=128.0,
        swing=60.0,
        time_signature=(7, 8),
        instruments={1: "keys", 2: "bass"},
        tracks=[
            Track("Keys", instrument=1, channel=3, note_columns=3),
            Track("Bass", instrument=2, channel=10, mute=True),
        ],
        patterns={0: a, 1: b},
        order=[0, 1, 0],
    )


def test_export_writes_a_conductor_and_one_track_per_song_track(tmp_path):
    song = busy_song()
    export_midi(song, tmp_path / "busy.mid")
    midi = mido.MidiFile(tmp_path / "busy.mid")
    assert (midi.type, midi.ticks_per_beat, len(midi.tracks)) == (1, 96, 3)
    conductor = [(t, m) for t, m in absolute(midi.tracks[0]) if m.type != "end_of_track"]
    assert [(t, m.type) for t, m in conductor] == [
        (0, "track_name"),
        (0, "time_signature"),
        (0, "set_tempo"),
        (96, "set_tempo"),  # T92.5 on row 4
        (384, "set_tempo"),  # pattern 0 again (at 288), row 4
    ]
    assert conductor[0][1].name == "Busy"
    assert (conductor[1][1].numerator, conductor[1][1].denominator) == (7, 8)
    assert conductor[2][1].tempo == mido.bpm2tempo(128.0)
    assert conductor[3][1].tempo == mido.bpm2tempo(92.5)
    assert [t.name for t in midi.tracks] == ["Busy", "Keys", "Bass"]
    channels = {m.channel for m in midi.tracks[2] if not m.is_meta}
    assert channels == {9}  # the muted track is exported, on channel 10
    for track in midi.tracks:  # every track lasts as long as the song: 20 rows of 24 ticks
        assert (absolute(track)[-1][0], track[-1].type) == (480, "end_of_track")


def test_exported_notes_are_the_sequencer_notes(tmp_path):
    song = busy_song()
    export_midi(song, tmp_path / "busy.mid")
    assert file_notes(tmp_path / "busy.mid") == sequenced_notes(song)
    offs = [m for m in mido.MidiFile(tmp_path / "busy.mid").tracks[1] if m.type == "note_off"]
    assert offs and {m.velocity for m in offs} == {0x40}


def test_effects_become_controller_bend_and_program_messages():
    midi = midi_file(busy_song())
    # Swing 60% moves odd rows 5 ticks later (a fifth of a 24-tick row, rounded).
    keys = [(t, m) for t, m in absolute(midi.tracks[1]) if m.type == "control_change"]
    assert [(t, m.channel, m.control, m.value) for t, m in keys] == [
        (24 + 5 + 2, 2, 7, 0x40),
        (288 + 24 + 5 + 2, 2, 7, 0x40),
    ]
    bass = [(t, m.type) for t, m in absolute(midi.tracks[2])]
    assert (192, "pitchwheel") in bass and (192 + 24 + 5, "program_change") in bass
    bend = next(m for m in midi.tracks[2] if m.type == "pitchwheel")
    program = next(m for m in midi.tracks[2] if m.type == "program_change")
    assert (bend.pitch, program.program) == (0x3000 - 8192, 12)


def test_one_tempo_at_the_start_is_written_once(tmp_path):
    song = one_track_song({0: note("C-4")}, rows=4, bpm=90.0, effects={0: EffectCell("T", 90.0)})
    tempos = [m for m in midi_file(song).tracks[0] if m.type == "set_tempo"]
    assert [m.tempo for m in tempos] == [mido.bpm2tempo(90.0)]


def test_export_then_import_keeps_every_note(tmp_path):
    song = busy_song()
    export_midi(song, tmp_path / "busy.mid")
    again = import_midi(tmp_path / "busy.mid", presets)
    assert (again.ticks_per_beat, again.title, again.time_signature) == (96, "Busy", (7, 8))
    assert sequenced_notes(again) == sequenced_notes(song)
    assert [t.channel for t in again.tracks][:1] == [3]
    export_midi(again, tmp_path / "again.mid")
    assert file_notes(tmp_path / "again.mid") == file_notes(tmp_path / "busy.mid")


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "song.mid"
    target.write_bytes(b"old contents")

    def broken_save(self, filename=None, file=None):
        Path(filename).write_bytes(b"MThd half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(TrackerError, match="No space left on device") as caught:
        export_midi(busy_song(), target)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]


def test_export_into_a_missing_folder_is_a_tracker_error(tmp_path):
    with pytest.raises(TrackerError, match=r"cannot write .*song\.mid: No such file"):
        export_midi(busy_song(), tmp_path / "nope" / "song.mid")


# --- random files: import → export keeps every note to the tick --------------------------------

NOTE_STRATEGY = st.tuples(
    st.integers(0, 2).map(lambda c: 9 if c == 2 else c),  # channel, drums included
    st.integers(60, 62),  # few pitches, so same-pitch overlaps are common
    st.integers(1, 127),  # velocity
    st.integers(0, 2000),  # start tick
    st.integers(0, 700),  # duration, zero included
    st.integers(0, 2),  # MIDI track
)


def write_random(path: Path, ppq: int, notes, tempos) -> None:
    tracks: list[list[tuple[int, object]]] = [[], [], []]
    for channel, pitch, velocity, start, duration, track in notes:
        on = mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)
        off = mido.Message("note_off", channel=channel, note=pitch)
        tracks[track] += [(start, on), (start + duration, off)]
    tracks[0] += [(tick, mido.MetaMessage("set_tempo", tempo=tempo)) for tick, tempo in tempos]
    midi = mido.MidiFile(type=1, ticks_per_beat=ppq)
    for events in tracks:
        track, last = mido.MidiTrack(), 0
        for tick, message in sorted(events, key=lambda e: e[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(path)


def tempo_map(path: Path) -> dict[int, int]:
    """tick → microseconds per beat, the last of several at one tick winning."""
    found = {0: 500000}
    tick = 0
    for message in mido.merge_tracks(mido.MidiFile(path).tracks):
        tick += message.time
        if message.type == "set_tempo":
            found[tick] = message.tempo
    return found


def test_same_pitch_notes_on_one_tick_keep_their_file_order(tmp_path):
    # The first C-4 is short (an `L` row), the second long: the long one must not land on an
    # earlier track or column, or on export the first note-off would end the wrong note.
    notes = [(0, 50, 1, 0, 900, 0), (0, 60, 10, 10, 40, 0), (0, 60, 20, 10, 590, 0)]
    write_random(tmp_path / "in.mid", 480, notes, [])
    song = import_midi(tmp_path / "in.mid", presets)
    assert [t.name for t in song.tracks] == ["Ch 1", "Ch 1 lane 2", "Ch 1 lane 3"]
    export_midi(song, tmp_path / "out.mid")
    assert (
        file_notes(tmp_path / "out.mid")
        == file_notes(tmp_path / "in.mid")
        == [
            (1, 50, 1, 0, 900),
            (1, 60, 10, 10, 50),
            (1, 60, 20, 10, 600),
        ]
    )


@settings(max_examples=150, deadline=None)
@given(
    ppq=st.sampled_from([24, 96, 120, 480, 1024]),
    notes=st.lists(NOTE_STRATEGY, max_size=40),
    tempos=st.lists(st.tuples(st.integers(0, 2000), st.integers(200000, 1500000)), max_size=6),
)
def test_random_files_keep_every_note_to_the_tick(ppq, notes, tempos):
    with tempfile.TemporaryDirectory() as folder:
        original, copy = Path(folder) / "in.mid", Path(folder) / "out.mid"
        write_random(original, ppq, notes, tempos)
        song = import_midi(original, presets)
        export_midi(song, copy)
        # A zero-length note cannot be sequenced (its off would come first): it gains a tick.
        expected = sorted((c, p, v, s, max(e, s + 1)) for c, p, v, s, e in file_notes(original))
        assert file_notes(copy) == expected
        assert tempo_map(copy) == tempo_map(original)
