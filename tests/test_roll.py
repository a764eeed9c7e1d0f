"""The piano roll reads and writes notes as spans; the sequencer must play exactly those spans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import note, one_track_song
from tracker.engine.sequencer import sequence
from tracker.model.events import NoteOff, NoteOn
from tracker.model.roll import (
    RollNote,
    add_roll_note,
    cc_values,
    delete_roll_note,
    move_roll_note,
    resize_roll_note,
    roll_notes,
    set_cc,
    set_roll_velocity,
)
from tracker.model.serialize import dumps, loads
from tracker.model.song import EffectCell

TPL = 24


def played(song) -> list[tuple[int, int, int, int]]:
    """(start, end, pitch, velocity) of every note the sequencer plays, sorted."""
    open_notes: dict[int, list[tuple[int, int]]] = {}
    spans = []
    for event in sequence(song):
        if isinstance(event, NoteOn):
            open_notes.setdefault(event.pitch, []).append((event.tick, event.velocity))
        elif isinstance(event, NoteOff):
            start, velocity = open_notes[event.pitch].pop(0)
            spans.append((start, event.tick, event.pitch, velocity))
    return sorted(spans)


def starts_and_ends(spans):
    """What the synth hears, whichever way same-pitch overlapping notes pair their note-offs."""
    return sorted((s, p, v) for s, _, p, v in spans), sorted((e, p) for _, e, p, _ in spans)


def shown(song) -> list[tuple[int, int, int, int]]:
    return sorted((n.start, n.end, n.pitch, n.velocity) for n in roll_notes(song, 0, 0))


def test_reading_notes_offs_cuts_and_length_effects():
    song = one_track_song(
        {0: note("C-4"), 2: note("OFF", delay=12), 4: note("D-4", velocity=50), 6: note("^^^")},
        effects={8: EffectCell("L", 30)},
    )
    song.patterns[0].set_note(0, 8, 0, note("E-4"))
    song.patterns[0].set_note(0, 8, 1, note("G-4", delay=5))
    assert roll_notes(song, 0, 0) == [
        RollNote(0, 60, 60, 100, 0),
        RollNote(96, 48, 62, 50, 0),
        RollNote(192, 30, 64, 100, 0),
        RollNote(197, 30, 67, 100, 1),
    ]
    assert shown(song) == played(song)


def test_add_writes_a_note_and_its_off():
    song = one_track_song({})
    added = add_roll_note(song, 0, 0, 30, 40, 60, velocity=90)
    assert added == RollNote(30, 40, 60, 90, 0)
    off = song.patterns[0].get(0, 2).notes[0]
    assert (off.note, off.delay) == (-1, 22)
    assert played(song) == [(30, 70, 60, 90)]
    assert shown(loads(dumps(song))) == shown(song)


def test_overlapping_notes_take_new_columns_and_a_chord_shares_none():
    song = one_track_song({})
    add_roll_note(song, 0, 0, 0, 48, 60)
    second = add_roll_note(song, 0, 0, 24, 48, 64)
    third = add_roll_note(song, 0, 0, 48, 24, 67)  # column 0 is free again from tick 48
    assert (second.column, third.column) == (1, 0)
    assert song.tracks[0].note_columns == 2
    assert shown(song) == played(song)


def test_adjacent_notes_share_a_column():
    song = one_track_song({})
    add_roll_note(song, 0, 0, 0, 24, 60)
    later = add_roll_note(song, 0, 0, 24, 24, 62)  # replaces the first note's OFF
    assert later.column == 0
    assert played(song) == [(0, 24, 60, 100), (24, 48, 62, 100)]


def test_a_note_shorter_than_a_row_ends_at_the_next_row():
    song = one_track_song({})
    assert add_roll_note(song, 0, 0, 5, 3, 60).end == 24


def test_notes_end_at_the_pattern_end_without_an_off():
    song = one_track_song({})
    assert add_roll_note(song, 0, 0, 15 * TPL, 500, 60).end == 16 * TPL
    assert len(song.patterns[0].data[0]) == 1


def test_move_keeps_length_column_and_the_neighbours():
    song = one_track_song({})
    first = add_roll_note(song, 0, 0, 0, 24, 60)
    second = add_roll_note(song, 0, 0, 24, 24, 62)
    moved = move_roll_note(song, 0, 0, second, 48, 2)
    assert moved == RollNote(72, 24, 64, 100, 0)
    assert played(song) == [(0, 24, 60, 100), (72, 96, 64, 100)]
    assert move_roll_note(song, 0, 0, first, -100, 200) == RollNote(0, 24, 127, 100, 0)


def test_delete_resize_and_velocity():
    song = one_track_song({})
    first = add_roll_note(song, 0, 0, 0, 24, 60)
    second = add_roll_note(song, 0, 0, 24, 24, 62)
    delete_roll_note(song, 0, 0, second)
    assert played(song) == [(0, 24, 60, 100)]  # the first note keeps its end
    longer = resize_roll_note(song, 0, 0, first, 72)
    assert longer.end == 72
    louder = set_roll_velocity(song, 0, 0, longer, 120)
    assert played(song) == [(0, 72, 60, 120)] and louder.velocity == 120
    delete_roll_note(song, 0, 0, louder)
    assert song.patterns[0].data == {}
    with pytest.raises(ValueError):
        delete_roll_note(song, 0, 0, louder)


def test_a_failed_write_changes_nothing():
    song = one_track_song({})
    for column in range(16):
        add_roll_note(song, 0, 0, 0, 24 * 16, 40 + column)
    before = dumps(song)
    with pytest.raises(ValueError):
        add_roll_note(song, 0, 0, 24, 24, 90)
    assert dumps(song) == before


def test_control_changes():
    song = one_track_song({}, effects={0: EffectCell("L", 10)})
    set_cc(song, 0, 0, 0, 7, 100)
    set_cc(song, 0, 0, 3, 7, 20)
    set_cc(song, 0, 0, 3, 7, 30)
    set_cc(song, 0, 0, 3, 1, 5)
    assert cc_values(song, 0, 0, 7) == {0: 100, 3: 30}
    assert song.patterns[0].get(0, 0).effects == [EffectCell("L", 10), EffectCell("C", 0x0764)]
    set_cc(song, 0, 0, 0, 7, None)
    assert cc_values(song, 0, 0, 7) == {3: 30}
    assert cc_values(song, 0, 0, 1) == {3: 5}


operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "move", "resize", "delete", "velocity"]),
        st.integers(0, 16 * TPL - 1),
        st.integers(1, 100),
        st.integers(40, 80),
        st.integers(-30, 30),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_random_edits_keep_the_roll_and_the_sequencer_in_agreement(ops):
    song = one_track_song({})
    for op, tick, length, pitch, delta in ops:
        notes = roll_notes(song, 0, 0)
        others = set(notes)
        try:
            if op == "add" or not notes:
                touched = add_roll_note(song, 0, 0, tick, length, pitch)
            else:
                target = notes[tick % len(notes)]
                others.discard(target)
                if op == "move":
                    touched = move_roll_note(song, 0, 0, target, delta, delta % 5)
                elif op == "resize":
                    touched = resize_roll_note(song, 0, 0, target, length)
                elif op == "velocity":
                    touched = set_roll_velocity(song, 0, 0, target, pitch)
                else:
                    delete_roll_note(song, 0, 0, target)
                    touched = None
        except ValueError:
            continue  # no free column: allowed, and nothing changed (checked below anyway)
        now = roll_notes(song, 0, 0)
        if touched is not None:
            assert touched in now
        # Every other note keeps its span, except one a moved note now starts inside of on the
        # same row (its OFF then has no cell of its own) — only ever longer, never shorter.
        for other in others:
            key = (other.start, other.column, other.pitch)
            match = [n for n in now if (n.start, n.column, n.pitch) == key]
            assert len(match) == 1
            assert match[0].end >= other.end
        assert starts_and_ends(shown(song)) == starts_and_ends(played(song))
        assert shown(loads(dumps(song))) == shown(song)
