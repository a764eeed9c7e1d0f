"""Undo and redo restore exactly what the musician saw, in the same song object."""

from __future__ import annotations

import pytest

from tests.builders import note, one_track_song
from tracker.model.edits import new_pattern, order_insert, set_tempo, write_note
from tracker.model.history import History
from tracker.model.serialize import dumps


def test_undo_and_redo_a_note_edit_in_place():
    song = one_track_song({0: note("C-4")})
    history = History(song)
    before = dumps(song)
    with history.edit("note", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 4, 1, 64)
    after = dumps(song)
    assert song.tracks[0].note_columns == 2

    assert history.undo() == "note"
    assert history.song is song
    assert dumps(song) == before
    assert song.tracks[0].note_columns == 1
    assert history.last_changed == frozenset({0})

    assert history.redo() == "note"
    assert dumps(song) == after
    assert history.revision == 3
    assert history.undo() == "note" and history.undo() is None


def test_an_edit_that_changes_nothing_records_no_step():
    song = one_track_song({0: note("C-4")})
    history = History(song)
    with history.edit("same note", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 0, 0, 60)
    assert not history.can_undo
    assert history.revision == 0


def test_an_exception_inside_an_edit_restores_the_song():
    song = one_track_song({0: note("C-4")})
    history = History(song)
    before = dumps(song)
    with pytest.raises(ValueError), history.edit("bad", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 1, 0, 62)
        write_note(edited, 0, 0, 2, 0, 999)
    assert dumps(song) == before
    assert not history.can_undo


def test_song_wide_edits_undo_new_patterns_order_and_tempo():
    song = one_track_song({0: note("C-4")})
    history = History(song)
    pattern_object = song.patterns[0]
    before = dumps(song)
    with history.edit("new pattern", song_wide=True) as edited:
        pid = new_pattern(edited, 32)
        order_insert(edited, 1, pid)
        set_tempo(edited, 140)
    assert history.last_changed is None
    history.undo()
    assert dumps(song) == before
    assert song.patterns[0] is pattern_object  # views holding it stay valid
    history.redo()
    assert song.order == [0, 1] and song.bpm == 140


def test_a_new_edit_clears_redo():
    song = one_track_song({})
    history = History(song)
    with history.edit("a", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 0, 0, 60)
    history.undo()
    with history.edit("b", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 1, 0, 62)
    assert not history.can_redo


def test_nested_edits_are_one_step():
    song = one_track_song({})
    history = History(song)
    before = dumps(song)
    with history.edit("outer", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 0, 0, 60)
        with history.edit("inner", song_wide=True):
            set_tempo(edited, 90)
    assert history.undo() == "outer"
    assert dumps(song) == before


def test_unknown_scope_is_refused():
    history = History(one_track_song({}))
    with pytest.raises(ValueError):
        history.edit("x", tracks=[(7, 0)])
    with pytest.raises(ValueError):
        history.edit("x", tracks=[(0, 3)])


def test_retyping_a_note_of_a_loaded_song_records_no_step():
    from tracker.model.serialize import loads

    song = loads(dumps(one_track_song({0: note("C-4")})))
    history = History(song)
    with history.edit("same", tracks=[(0, 0)]) as edited:
        write_note(edited, 0, 0, 0, 0, 60)
    assert not history.can_undo
