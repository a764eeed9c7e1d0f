"""The sequencer as a pure function: exact events at exact ticks (no clock, no audio)."""

from __future__ import annotations

from tests.builders import note, one_track_song
from tracker.engine.sequencer import sequence, tempo_changes
from tracker.model.events import (
    ControlChange,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import EffectCell, NoteCell, Pattern, Song, Track, TrackKind, TrackRow


def events(song, order=None):
    return list(sequence(song, order))


def test_notes_offs_and_cut_at_exact_ticks():
    song = one_track_song(
        {0: note("C-4", 0x40), 2: note("OFF"), 4: note("E-4"), 5: note("^^^"), 6: note("G-4", 127)},
        rows=8,
    )
    assert events(song) == [
        TempoChange(0, 120.0),
        NoteOn(0, 0, 60, 0x40),
        NoteOff(48, 0, 60),
        NoteOn(96, 0, 64, 100),
        NoteOff(120, 0, 64, cut=True),
        NoteOn(144, 0, 67, 127),
        NoteOff(192, 0, 67),  # the song's end releases what still sounds
    ]


def test_new_note_in_a_column_releases_the_previous_first():
    song = one_track_song({0: note("C-4"), 1: note("D-4")}, rows=2)
    assert events(song)[1:] == [
        NoteOn(0, 0, 60, 100),
        NoteOff(24, 0, 60),
        NoteOn(24, 0, 62, 100),
        NoteOff(48, 0, 62),
    ]


def test_effects_become_controller_bend_program_and_tempo_events():
    song = one_track_song(
        {},
        rows=4,
        effects={
            0: EffectCell("P", 33),
            1: EffectCell("C", 0x0740, delay=3),
            2: EffectCell("B", 0x3FFF),
            3: EffectCell("T", 92.5),
        },
    )
    assert events(song) == [
        TempoChange(0, 120.0),
        ProgramChange(0, 0, 33),
        ControlChange(27, 0, 7, 0x40),
        PitchBend(48, 0, 8191),
        TempoChange(72, 92.5),
    ]


def test_note_length_and_retrigger():
    song = one_track_song({0: note("C-4")}, rows=4, effects={0: EffectCell("L", 30)})
    assert events(song)[1:] == [NoteOn(0, 0, 60, 100), NoteOff(30, 0, 60)]
    song = one_track_song({0: note("C-4")}, rows=2, effects={0: EffectCell("R", 8)})
    assert events(song)[1:] == [
        NoteOn(0, 0, 60, 100),
        NoteOff(8, 0, 60),
        NoteOn(8, 0, 60, 100),
        NoteOff(16, 0, 60),
        NoteOn(16, 0, 60, 100),
        NoteOff(48, 0, 60),
    ]


def test_note_length_crossing_patterns_and_order_list():
    a, b = Pattern(2), Pattern(4)
    a.set_note(0, 1, 0, note("C-4"))
    a.set_effect(0, 1, 0, EffectCell("L", 40))
    b.set_note(0, 0, 0, note("E-4"))
    song = Song(tracks=[Track("T")], patterns={0: a, 1: b}, order=[0, 1, 0])
    assert events(song)[1:] == [
        NoteOn(24, 0, 60, 100),
        NoteOff(48, 0, 60),  # L40 would end at 64; the next pattern's note comes first
        NoteOn(48, 0, 64, 100),
        NoteOff(168, 0, 64),  # pattern 0 again: E-4 rings until its column's next note
        NoteOn(168, 0, 60, 100),
        NoteOff(208, 0, 60),  # L40 outlives the song's end (at 192): the tail keeps it
    ]


def test_two_columns_and_two_tracks_are_independent_and_sorted():
    pattern = Pattern(2)
    pattern.set_note(0, 0, 0, note("C-4"))
    pattern.set_note(0, 0, 1, note("E-4", delay=5))
    pattern.set_note(1, 0, 0, note("G-4", instrument=2))
    pattern.set_note(1, 1, 0, NoteCell(None, 3))  # an instrument alone changes nothing yet
    song = Song(
        tracks=[Track("A", note_columns=2), Track("B")],
        instruments={2: "lead", 3: "pad"},
        patterns={0: pattern},
        order=[0],
    )
    assert events(song)[1:] == [
        NoteOn(0, 0, 60, 100),
        NoteOn(0, 1, 67, 100, 2),
        NoteOn(5, 0, 64, 100),
        NoteOff(48, 0, 60),
        NoteOff(48, 0, 64),
        NoteOff(48, 1, 67),
    ]


def test_single_pattern_order_and_determinism():
    song = one_track_song({0: note("C-4")}, rows=4)
    song.patterns[1] = Pattern(2)
    song.order = [0, 1]
    assert events(song, [1]) == [TempoChange(0, 120.0)]
    assert events(song) == events(song)


def test_tempo_changes_are_the_sequencers_tempo_events():
    from tests.conftest import CORPUS
    from tracker.midi.import_file import import_midi
    from tracker.model.serialize import load_song
    from tracker.paths import demo_song

    songs = [load_song(demo_song())]
    corpus = sorted(CORPUS.glob("*.mid"))  # none without ../shared: the rest still runs
    songs += [import_midi(path, preset_for=lambda channel, program: "x") for path in corpus]
    song = one_track_song({}, rows=4, effects={1: EffectCell("T", 90.0, delay=5)})
    song.patterns[0].set_effect(0, 1, 1, EffectCell("T", 91.0, delay=5))  # same tick: last wins
    songs.append(song)
    for song in songs:
        expected = [e for e in sequence(song) if isinstance(e, TempoChange)]
        assert list(tempo_changes(song)) == expected


def test_aftertouch_effect_is_a_channel_pressure_event() -> None:
    from tracker.model.events import ChannelPressure
    from tracker.model.serialize import dumps, loads

    song = Song(tracks=[Track("Keys", kind=TrackKind.MIDI, program=5, bank=130)])
    song.patterns[0] = Pattern(4)
    song.patterns[0].set_effect(0, 2, 0, EffectCell("A", 0x55))
    song.order = [0]
    events = [e for e in sequence(song) if isinstance(e, ChannelPressure)]
    assert events == [ChannelPressure(2 * song.ticks_per_line, 0, 0x55)]
    again = loads(dumps(song))
    assert (again.tracks[0].program, again.tracks[0].bank) == (5, 130)
    assert again.patterns[0].get(0, 2).effects[0] == EffectCell("A", 0x55)


class _WatchedRow(TrackRow):
    """A track row that notes when the sequencer reads it."""

    __slots__ = ("read", "row")

    def __init__(self, row: int, read: list[int], cell: NoteCell) -> None:
        super().__init__(notes=[cell])
        self.row, self.read = row, read

    def __getattribute__(self, name: str) -> object:
        if name == "notes":
            object.__getattribute__(self, "read").append(object.__getattribute__(self, "row"))
        return object.__getattribute__(self, name)


def test_a_dense_pattern_is_read_a_row_at_a_time() -> None:
    """The live engine pulls events a block at a time: reading a whole 64-track pattern when
    it begins took ~110 ms in one block, longer than the engine's lead, and starved the
    output at every pattern start. An event comes out once its row and the one after it have
    been read, no later."""
    tracks, rows = 8, 64
    read: list[int] = []
    pattern = Pattern(rows)
    for track in range(tracks):
        for row in range(rows):
            pattern.data.setdefault(track, {})[row] = _WatchedRow(row, read, note("C-4"))
    song = Song(tracks=[Track(f"T{t}") for t in range(tracks)], patterns={0: pattern}, order=[0])
    for event in sequence(song):
        row = event.tick // song.ticks_per_line
        assert max(read, default=0) <= row + 1, f"{event} came after rows up to {max(read)}"
    assert sorted(set(read)) == list(range(rows))


def test_note_offs_at_one_tick_keep_their_order_across_tracks_and_patterns() -> None:
    """Note lengths (L) end notes apart from the rows: those due at one tick come out by the
    pattern their column was first used in, then track, then first use (as reading whole
    patterns track by track gave them, here)."""
    length = EffectCell("L", 24.0)
    first, second = Pattern(2), Pattern(2)
    first.set_note(1, 0, 1, note("E-4"))
    first.set_note(1, 0, 0, note("D-4"))
    first.set_effect(1, 0, 0, length)
    first.set_note(0, 1, 0, note("C-4"))
    first.set_effect(0, 1, 0, length)
    second.set_note(0, 0, 1, note("G-4"))  # track A's column 1: first used here
    second.set_effect(0, 0, 0, length)
    second.set_note(1, 0, 0, note("A-4"))  # track B's column 0: first used in the first pattern
    second.set_effect(1, 0, 0, length)
    song = Song(
        tracks=[Track("A", note_columns=3), Track("B", note_columns=3)],
        patterns={0: first, 1: second},
        order=[0, 1],
    )
    offs = [(e.tick, e.track, e.pitch) for e in sequence(song) if isinstance(e, NoteOff)]
    assert offs == [(24, 1, 62), (24, 1, 64), (48, 0, 60), (72, 1, 69), (72, 0, 67)]


def test_a_swing_under_half_still_gives_events_in_time_order() -> None:
    """Odd rows then start before their unswung place; nothing comes out of order."""
    cells = {row: note("C-4") for row in range(8)}
    cells[2] = note("E-4", delay=20)  # late in its row: after where row 3 now starts
    song = one_track_song(cells, rows=8)
    song.swing = 40.0  # odd rows 5 ticks early
    ticks = [event.tick for event in sequence(song)]
    assert 2 * 24 + 20 > 3 * 24 - 5 and ticks == sorted(ticks) and len(ticks) == 1 + 8 + 8
