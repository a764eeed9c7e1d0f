"""A document saves atomically, knows when it is dirty, and keeps a recovery file until saved."""

from __future__ import annotations

import os

import pytest

from tests.builders import note, one_track_song
from tracker.model.edits import write_note
from tracker.model.errors import TrackerError
from tracker.model.serialize import dumps, load_song, save_song
from tracker.session.document import Document, load_recovery, pending_recovery


def edit(document: Document, row: int = 1) -> None:
    with document.history.edit("note", tracks=[(0, 0)]) as song:
        write_note(song, 0, 0, row, 0, 64)


@pytest.fixture
def song_file(tmp_path):
    path = tmp_path / "tune.song"
    save_song(one_track_song({0: note("C-4")}), path)
    return path


def test_edit_save_and_dirty(song_file):
    document = Document.open(song_file)
    assert not document.dirty
    edit(document)
    assert document.dirty
    assert document.save() == song_file
    assert not document.dirty
    assert load_song(song_file).patterns[0].get(0, 1).notes[0].note == 64


def test_autosave_writes_a_recovery_file_that_save_removes(song_file):
    document = Document.open(song_file)
    assert not document.autosave()  # nothing changed
    edit(document)
    assert document.autosave()
    recovery = document.recovery_path()
    assert recovery == song_file.with_name("tune.song.recovery")
    assert not document.autosave()  # not changed since
    assert pending_recovery(song_file) == recovery
    document.save()
    assert not recovery.exists()
    assert pending_recovery(song_file) is None


def test_recovering_after_a_crash(song_file):
    document = Document.open(song_file)
    edit(document, row=5)
    document.autosave()
    del document  # the crash
    recovery = pending_recovery(song_file)
    assert recovery is not None
    restored = load_recovery(song_file, recovery)
    assert restored.dirty and restored.path == song_file
    assert restored.song.patterns[0].get(0, 5).notes[0].note == 64
    restored.discard_recovery()
    assert pending_recovery(song_file) is None
    # Set aside, not deleted: a wrong answer at the question loses nothing.
    kept = song_file.with_name("tune.song.recovery~")
    assert load_recovery(song_file, kept).song.patterns[0].get(0, 5).notes[0].note == 64


def test_an_older_recovery_file_is_not_offered(song_file):
    recovery = song_file.with_name("tune.song.recovery")
    recovery.write_text(dumps(one_track_song({})))
    os.utime(recovery, ns=(1, 1))
    assert pending_recovery(song_file) is None


def test_untitled_songs_recover_from_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    document = Document(one_track_song({}), None)
    edit(document)
    assert document.autosave()
    assert document.recovery_path() == tmp_path / "state" / "tracker" / "untitled.song.recovery"
    assert pending_recovery(None) == document.recovery_path()
    with pytest.raises(TrackerError):
        document.save()
    saved = document.save(tmp_path / "named.song")
    assert document.path == saved and not document.dirty
    assert pending_recovery(None) is None


def test_a_failed_save_keeps_the_document_dirty_and_the_recovery(tmp_path):
    document = Document(one_track_song({}), tmp_path / "missing-folder" / "x.song")
    edit(document)
    with pytest.raises(TrackerError) as error:
        document.save()
    assert "\n" not in str(error.value)
    assert document.dirty


def test_a_song_the_format_cannot_hold_is_refused_on_one_line(tmp_path):
    song = one_track_song({})
    document = Document(song, tmp_path / "x.song")
    with document.history.edit("rename", song_wide=True):
        song.tracks[0].name = "bad\nname"
    with pytest.raises(TrackerError) as error:
        document.save()
    assert "\n" not in str(error.value) and not (tmp_path / "x.song").exists()
    assert document.dirty
