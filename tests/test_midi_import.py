"""MIDI file import: exact ticks on the tracker grid, columns, lanes, effects and bad files.

Every file is made with mido in tmp_path, so each test states exactly what the file holds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import mido
import pytest

from tracker.midi.export_file import export_midi
from tracker.midi.import_file import ImportReport, import_midi, import_midi_report
from tracker.model.errors import SongFormatError
from tracker.model.song import OFF, EffectCell, NoteCell, Song

Timed = tuple[int, object]  # (absolute tick, mido message)


def presets(channel: int, program: int) -> str:
    """A stand-in for tracker.dsp.gm: what matters here is which (channel, program) is asked."""
    return "drums" if channel == 10 else f"gm{program}"


def on(tick: int, pitch: int, velocity: int = 100, channel: int = 0) -> Timed:
    return tick, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(tick: int, pitch: int, channel: int = 0) -> Timed:
    return tick, mido.Message("note_off", note=pitch, velocity=64, channel=channel)


def meta(tick: int, kind: str, **fields: object) -> Timed:
    return tick, mido.MetaMessage(kind, **fields)


def msg(tick: int, kind: str, **fields: object) -> Timed:
    return tick, mido.Message(kind, **fields)


def write_midi(path: Path, *tracks: Iterable[Timed], ppq: int = 480, kind: int = 1) -> Path:
    """Write tracks of (absolute tick, message); messages at one tick keep their order."""
    midi = mido.MidiFile(type=kind, ticks_per_beat=ppq)
    for events in tracks:
        track = mido.MidiTrack()
        last = 0
        for tick, message in sorted(events, key=lambda e: e[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


def load(path: Path) -> tuple[Song, ImportReport]:
    return import_midi_report(path, presets)


def notes_of(song: Song, track: int = 0) -> dict[tuple[int, int], NoteCell]:
    """(global row, column) → note cell, across patterns."""
    found = {}
    start = 0
    for pattern_id in song.order:
        pattern = song.patterns[pattern_id]
        for row, data in pattern.data.get(track, {}).items():
            for column, cell in enumerate(data.notes):
                if cell is not None:
                    found[(start + row, column)] = cell
        start += pattern.length
    return found


def effects_of(song: Song, track: int = 0) -> dict[tuple[int, int], EffectCell]:
    found = {}
    start = 0
    for pattern_id in song.order:
        pattern = song.patterns[pattern_id]
        for row, data in pattern.data.get(track, {}).items():
            for column, cell in enumerate(data.effects):
                if cell is not None:
                    found[(start + row, column)] = cell
        start += pattern.length
    return found


def test_a_note_keeps_its_tick_velocity_pitch_and_channel(tmp_path):
    path = write_midi(tmp_path / "one.mid", [on(130, 61, 99, channel=2), off(500, 61, channel=2)])
    song, report = load(path)
    assert (song.lines_per_beat, song.ticks_per_line, song.ticks_per_beat) == (4, 120, 480)
    assert report.warnings() == []
    assert [(t.name, t.channel, t.kind.value) for t in song.tracks] == [("Ch 3", 3, "instrument")]
    assert notes_of(song) == {
        (1, 0): NoteCell(61, None, 99, 10),  # tick 130 = row 1 + 10
        (4, 0): NoteCell(OFF, None, None, 20),  # tick 500 = row 4 + 20
    }


@pytest.mark.parametrize(
    ("ppq", "lpb", "tpl"),
    [(96, 4, 24), (480, 4, 120), (1024, 4, 256), (1920, 8, 240), (3840, 16, 240), (25, 1, 25)],
)
def test_the_grid_divides_the_file_ticks_per_beat(tmp_path, ppq, lpb, tpl):
    path = write_midi(tmp_path / "g.mid", [on(ppq + 1, 60), off(3 * ppq, 60)], ppq=ppq)
    song, report = load(path)
    assert (song.lines_per_beat, song.ticks_per_line) == (lpb, tpl)
    assert not report.rescaled
    start = ppq + 1
    assert notes_of(song)[(start // tpl, 0)].delay == (start % tpl or None)


def test_a_ticks_per_beat_that_fits_no_grid_is_rescaled_to_960(tmp_path):
    path = write_midi(tmp_path / "prime.mid", [on(4000, 60), off(7919, 60)], ppq=7919)
    song, report = load(path)
    assert (song.lines_per_beat, song.ticks_per_line) == (4, 240)
    assert report.rescaled and "rescaled to 960" in report.warnings()[0]
    # 4000 × 960 / 7919 = 484.9 → 485 = row 2 + 5; one beat is tick 960, the song's end.
    assert notes_of(song) == {(2, 0): NoteCell(60, None, 100, 5)}
    assert song.length_ticks() == 960


def test_chord_notes_take_one_column_each(tmp_path):
    path = write_midi(
        tmp_path / "chord.mid",
        [on(0, 60), on(0, 64, 90), on(0, 67, 80), off(480, 60), off(600, 64), off(720, 67)],
    )
    song, _ = load(path)
    assert song.tracks[0].note_columns == 3
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 100, None),
        (0, 1): NoteCell(64, None, 90, None),
        (0, 2): NoteCell(67, None, 80, None),
        (4, 0): NoteCell(OFF),
        (5, 1): NoteCell(OFF),
        (6, 2): NoteCell(OFF),
    }


def test_overlapping_notes_of_one_pitch_pair_first_in_first_out(tmp_path):
    path = write_midi(
        tmp_path / "o.mid", [on(0, 60, 50), on(100, 60, 70), off(300, 60), off(500, 60)]
    )
    song, _ = load(path)
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 50, None),
        (0, 1): NoteCell(60, None, 70, 100),
        (2, 0): NoteCell(OFF, delay=60),  # the first note-off ends the first note
        (4, 1): NoteCell(OFF, delay=20),
    }


def test_an_off_and_a_new_note_in_one_row_use_two_columns(tmp_path):
    path = write_midi(tmp_path / "r.mid", [on(0, 60), off(130, 60), on(140, 62), off(400, 62)])
    song, _ = load(path)
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 100, None),
        (1, 0): NoteCell(OFF, delay=10),
        (1, 1): NoteCell(62, None, 100, 20),
        (3, 1): NoteCell(OFF, delay=40),
    }


def test_a_note_starting_where_the_last_ended_releases_it_without_an_off(tmp_path):
    path = write_midi(tmp_path / "l.mid", [on(0, 60), off(130, 60), on(130, 62), off(400, 62)])
    song, _ = load(path)
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 100, None),
        (1, 0): NoteCell(62, None, 100, 10),
        (3, 0): NoteCell(OFF, delay=40),
    }


def test_a_note_inside_one_row_gets_the_row_note_length(tmp_path):
    path = write_midi(tmp_path / "s.mid", [on(10, 60), off(50, 60), on(130, 62), off(170, 62)])
    song, _ = load(path)
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 100, 10),
        (1, 0): NoteCell(62, None, 100, 10),
    }
    assert effects_of(song) == {(0, 0): EffectCell("L", 40), (1, 0): EffectCell("L", 40)}


def test_notes_of_other_lengths_on_a_note_length_row_go_to_a_lane(tmp_path):
    keys = [meta(0, "track_name", name="Keys"), on(0, 60), off(40, 60), on(5, 64), off(600, 64)]
    # Two short drum hits on one row, 20 and 30 ticks long: one `L` cannot serve both.
    drums = [on(0, 36, channel=1), off(20, 36, channel=1), on(1, 38, channel=1)]
    drums.append(off(31, 38, channel=1))
    path = write_midi(tmp_path / "lane.mid", keys, drums)
    song, report = load(path)
    names = [t.name for t in song.tracks]
    assert names == ["Keys", "Keys lane 2", "Ch 2", "Ch 2 lane 2"]
    assert report.lane_tracks == 2 and "2 extra track" in report.warnings()[0]
    assert [t.channel for t in song.tracks] == [1, 1, 2, 2]
    assert notes_of(song, 0) == {(0, 0): NoteCell(60, None, 100, None)}
    assert effects_of(song, 0) == {(0, 0): EffectCell("L", 40)}
    assert notes_of(song, 1) == {(0, 0): NoteCell(64, None, 100, 5), (5, 0): NoteCell(OFF)}
    assert effects_of(song, 3) == {(0, 0): EffectCell("L", 30)}


def test_lanes_hear_their_channels_pedal_and_export_sends_it_once(tmp_path):
    keys = [msg(0, "control_change", control=64, value=127), on(0, 60), off(40, 60)]
    keys += [on(5, 64), off(600, 64), msg(700, "control_change", control=64, value=0)]
    song, _ = load(write_midi(tmp_path / "pedal.mid", keys))
    assert len(song.tracks) == 2  # the short note on row 0 needs a lane
    for track in (0, 1):
        pedal = [e for e in effects_of(song, track).values() if e.command == "C"]
        assert pedal == [EffectCell("C", 64 * 256 + 127), EffectCell("C", 64 * 256, 100)]
    export_midi(song, tmp_path / "out.mid")
    exported = mido.MidiFile(tmp_path / "out.mid")
    controls = [m for m in mido.merge_tracks(exported.tracks) if m.type == "control_change"]
    assert [(m.control, m.value) for m in controls] == [(64, 127), (64, 0)]


def test_a_seventeenth_simultaneous_note_goes_to_a_lane(tmp_path):
    events = [on(0, 40 + i) for i in range(17)] + [off(480, 40 + i) for i in range(17)]
    song, report = load(write_midi(tmp_path / "wide.mid", events))
    assert [t.note_columns for t in song.tracks] == [16, 1]
    assert report.lane_tracks == 1


def test_zero_length_and_unterminated_notes(tmp_path):
    path = write_midi(
        tmp_path / "z.mid", [on(0, 60), off(0, 60), on(240, 62), meta(600, "end_of_track")]
    )
    song, report = load(path)
    assert (report.lengthened_notes, report.unterminated_notes) == (1, 1)
    assert notes_of(song) == {
        (0, 0): NoteCell(60, None, 100, None),
        (2, 0): NoteCell(62, None, 100, None),
        (5, 0): NoteCell(OFF),  # the end of the track, tick 600
    }
    assert effects_of(song) == {(0, 0): EffectCell("L", 1)}


def test_tempo_changes_become_tempo_effects_on_the_first_track(tmp_path):
    conductor = [
        meta(0, "track_name", name="My Song"),
        meta(0, "time_signature", numerator=3, denominator=4),
        meta(0, "set_tempo", tempo=500000),
        meta(250, "set_tempo", tempo=400000),
        meta(1000, "set_tempo", tempo=461538),
    ]
    path = write_midi(tmp_path / "t.mid", conductor, [on(0, 60), off(1440, 60)])
    song, _ = load(path)
    assert (song.title, song.bpm, song.time_signature) == ("My Song", 120.0, (3, 4))
    assert effects_of(song) == {
        (0, 0): EffectCell("T", 120.0),  # restated so a loop to the start resets the tempo
        (2, 0): EffectCell("T", 150.0, 10),
        (8, 0): EffectCell("T", mido.tempo2bpm(461538), 40),
    }


def test_tempos_crowding_a_row_spill_into_the_next_track(tmp_path):
    tempos = [meta(10 * i, "set_tempo", tempo=400000 + i) for i in range(1, 10)]
    keys, bass = [on(0, 60), off(480, 60)], [on(0, 40, channel=1), off(480, 40, channel=1)]
    path = write_midi(tmp_path / "rit.mid", tempos, keys, bass)
    song, report = load(path)
    first, second = effects_of(song, 0), effects_of(song, 1)
    assert len(first) == 8 and len(second) == 2 and report.dropped_effects == 0
    spilled = [*first.values(), *second.values()]
    assert sorted(e.delay or 0 for e in spilled) == [0, *range(10, 100, 10)]
    assert {e.command for e in spilled} == {"T"}


def test_tempos_that_fit_no_track_are_an_error(tmp_path):
    tempos = [meta(10 * i, "set_tempo", tempo=400000 + i) for i in range(1, 10)]
    with pytest.raises(SongFormatError, match="too many tempo changes on row 0"):
        load(write_midi(tmp_path / "rit.mid", [*tempos, on(0, 60), off(480, 60)]))


def test_absurd_tempos_are_clamped_and_reported(tmp_path):
    path = write_midi(tmp_path / "fast.mid", [meta(0, "set_tempo", tempo=50000), on(0, 60)])
    song, report = load(path)
    assert song.bpm == 999.0 and report.clamped_tempos == 1
    assert "clamped 1 tempo" in report.warnings()[-1]


def test_a_file_without_tempo_or_name_plays_at_120_and_takes_its_stem(tmp_path):
    song, _ = load(write_midi(tmp_path / "plain tune.mid", [on(0, 60), off(480, 60)]))
    assert (song.title, song.bpm, song.time_signature) == ("plain tune", 120.0, (4, 4))
    assert effects_of(song) == {}


def test_controllers_bends_and_programs_become_effects(tmp_path):
    path = write_midi(
        tmp_path / "fx.mid",
        [
            msg(0, "program_change", program=33),
            msg(0, "control_change", control=7, value=100),
            msg(130, "pitchwheel", pitch=-8192),
            msg(260, "pitchwheel", pitch=8191),
            msg(265, "control_change", control=64, value=127),
            msg(480, "pitchwheel", pitch=0),
            msg(480, "aftertouch", value=3),
        ],
    )
    song, report = load(path)
    assert song.tracks[0].effect_columns == 2
    assert effects_of(song) == {
        (0, 0): EffectCell("P", 33),
        (0, 1): EffectCell("C", 0x0764),
        (1, 0): EffectCell("B", 0, 10),
        (2, 0): EffectCell("B", 16383, 20),
        (2, 1): EffectCell("C", 64 * 256 + 127, 25),
        (4, 0): EffectCell("B", 8192),
    }
    assert report.skipped_messages == 1
    assert song.instruments == {1: "gm33"} and song.tracks[0].instrument == 1


def test_a_crowded_row_keeps_programs_and_last_values_and_counts_the_rest(tmp_path):
    bends = [msg(i * 10, "pitchwheel", pitch=i * 100) for i in range(10)]
    path = write_midi(
        tmp_path / "dense.mid",
        [*bends, msg(50, "program_change", program=5), on(0, 60), off(480, 60)],
    )
    song, report = load(path)
    row0 = [effects_of(song)[(0, c)] for c in range(8)]
    assert song.tracks[0].effect_columns == 8
    assert report.dropped_effects == 3 and "dropped 3" in report.warnings()[0]
    assert EffectCell("P", 5, 50) in row0
    assert row0[-1] == EffectCell("B", 8192 + 900, 90)  # the value the row leaves behind
    assert [e.delay or 0 for e in row0] == sorted(e.delay or 0 for e in row0)


def test_type_0_gives_one_track_per_channel(tmp_path):
    events = [
        meta(0, "track_name", name="Whole Song"),
        msg(0, "program_change", program=40, channel=3),
        on(0, 36, channel=9),
        on(0, 60, channel=3),
        off(100, 36, channel=9),
        off(480, 60, channel=3),
    ]
    song, _ = load(write_midi(tmp_path / "t0.mid", events, kind=0))
    assert song.title == "Whole Song"
    assert [(t.name, t.channel, t.instrument) for t in song.tracks] == [
        ("Ch 4", 4, 1),
        ("Ch 10", 10, 2),
    ]
    assert song.instruments == {1: "gm40", 2: "drums"}
    assert notes_of(song, 1) == {(0, 0): NoteCell(36, None, 100, None)}


def test_type_1_names_tracks_and_splits_channels(tmp_path):
    path = write_midi(
        tmp_path / "names.mid",
        [meta(0, "track_name", name="Title")],
        [meta(0, "track_name", name="Piano"), on(0, 60), on(0, 48, channel=1)],
        [meta(0, "track_name", name="Piano"), on(0, 72)],
        [msg(0, "program_change", program=1, channel=4)],
    )
    song, _ = load(path)
    names = [t.name for t in song.tracks]
    assert names == ["Piano ch 1", "Piano ch 2", "Piano", "Ch 5"]
    assert song.title == "Title"
    # Channel 1 has no program change anywhere: program 0; the others share no preset.
    assert song.instruments == {1: "gm0", 2: "gm1"}
    assert [t.instrument for t in song.tracks] == [1, 1, 1, 2]


def test_duplicate_track_names_are_made_unique(tmp_path):
    path = write_midi(tmp_path / "dup.mid", [on(0, 60)], [on(0, 62)])
    song, _ = load(path)
    assert [t.name for t in song.tracks] == ["Ch 1", "Ch 1 (2)"]


def test_patterns_hold_16_beats_and_notes_ring_across_them(tmp_path):
    # One pattern is 64 rows = 7680 ticks; the note starts in pattern 0 and ends in pattern 1.
    events = [on(7600, 60), off(7700, 60), on(9000, 64), meta(9300, "end_of_track")]
    song, _ = load(write_midi(tmp_path / "long.mid", events))
    assert song.order == [0, 1]
    # The song ends on the whole beat after the file's end (9300): tick 9600, row 80.
    assert [song.patterns[p].length for p in song.order] == [64, 16]
    assert song.patterns[0].get(0, 63).notes[0] == NoteCell(60, None, 100, 40)
    assert song.patterns[1].get(0, 0).notes[0] == NoteCell(OFF, delay=20)
    # The unterminated note ends at the end of its track.
    assert notes_of(song)[(75, 0)].note == 64
    assert notes_of(song)[(77, 0)] == NoteCell(OFF, delay=60)


def test_a_note_ending_at_the_song_end_needs_no_off(tmp_path):
    song, _ = load(write_midi(tmp_path / "e.mid", [on(0, 60), off(960, 60)]))
    assert song.length_ticks() == 960  # not a beat longer just to hold an OFF cell
    assert notes_of(song) == {(0, 0): NoteCell(60, None, 100, None)}


def test_the_default_preset_lookup_is_tracker_dsp_gm(tmp_path):
    gm = pytest.importorskip("tracker.dsp.gm")
    song = import_midi(write_midi(tmp_path / "d.mid", [on(0, 36, channel=9)]))
    assert song.instruments == {1: gm.preset_for_track(10, 0)} == {1: "drums"}


# --- malformed files ---------------------------------------------------------------------------


def header(kind: int = 0, tracks: int = 1, division: int = 480) -> bytes:
    return b"MThd" + struct.pack(">LhhH", 6, kind, tracks, division)


def chunk(data: bytes) -> bytes:
    return b"MTrk" + struct.pack(">L", len(data)) + data


END = b"\x00\xff\x2f\x00"
NOTE = b"\x00\x90\x3c\x40"

BAD_FILES = {
    "garbage": b"this is not a MIDI file at all, just words",
    "empty": b"",
    "truncated header": header()[:10],
    "truncated track chunk": header() + b"MTrk" + struct.pack(">L", 100) + b"\x00\x90\x3c",
    "track chunk missing": header(1, 3) + chunk(END),
    "truncated set_tempo": header() + chunk(b"\x00\xff\x51\x02\x07\xa1" + END),
    "bad running status": header() + chunk(b"\x00\x3c\x40" + END),
    "data byte over 127": header() + chunk(b"\x00\x90\x3c\xc0" + END),
    "undefined status byte": header() + chunk(b"\x00\xf4" + END),
    "bad key signature": header() + chunk(b"\x00\xff\x59\x02\x20\x00" + END),
    "no MTrk": header() + b"XTrk" + struct.pack(">L", 4) + END,
    "type 2": header(2) + chunk(NOTE + END),
    "SMPTE time": header(1, 1, 0xE728) + chunk(NOTE + END),
    "zero ticks per beat": header(1, 1, 0) + chunk(NOTE + END),
    "257 tracks": header(1, 257) + chunk(NOTE + END) * 257,
    "nine hours of silence": header(0, 1, 1) + chunk(NOTE + b"\xff\xff\xff\x7f\xff\x2f\x00"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_raise_one_line_song_format_errors(tmp_path, name):
    path = tmp_path / f"{name}.mid"
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(SongFormatError) as caught:
        import_midi(path, presets)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert caught.value.path == str(path)


def test_bad_file_messages_say_what_is_wrong(tmp_path):
    def reason(name: str) -> str:
        path = tmp_path / f"{name}.mid"
        path.write_bytes(BAD_FILES[name])
        with pytest.raises(SongFormatError) as caught:
            import_midi(path, presets)
        return caught.value.reason

    assert reason("type 2") == "type 2 MIDI files are not supported"
    assert "SMPTE" in reason("SMPTE time")
    assert "truncated" in reason("truncated track chunk")
    assert "running status" in reason("bad running status")
    assert "257 tracks" in reason("257 tracks")
    assert "patterns" in reason("nine hours of silence")


def test_missing_files_folders_and_huge_files_are_refused(tmp_path):
    huge = tmp_path / "huge.mid"
    with huge.open("wb") as f:
        f.truncate((64 << 20) + 1)  # sparse: costs no disk
    for path, words in [
        (tmp_path / "nope.mid", "No such file"),
        (tmp_path, "directory"),
        (huge, "64 MiB"),
    ]:
        with pytest.raises(SongFormatError) as caught:
            import_midi(path, presets)
        assert words in str(caught.value) and str(path) in str(caught.value)
