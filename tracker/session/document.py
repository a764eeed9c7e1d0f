"""A song being edited, with its file: saving, dirtiness, and a recovery file against crashes.

The model stays free of I/O; this is where an edited song meets the disk. Saves and autosaves
are atomic (a crash leaves the old file or the new one), and the recovery file is removed only
once the song itself has been saved.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from tracker.atomic import atomic_path, remove_stale_temps, write_bytes_atomic
from tracker.model.errors import TrackerError
from tracker.model.history import History
from tracker.model.serialize import dumps, load_song, save_song
from tracker.model.song import Song
from tracker.paths import MIDI_SUFFIXES, inside, song_folder

RECOVERY_SUFFIX = ".recovery"
UNTITLED_RECOVERY = "untitled.song" + RECOVERY_SUFFIX


class Document:
    """A song being edited: its file, its undo history, its saved state, its recovery file."""

    def __init__(self, song: Song, path: Path | None) -> None:
        """Args:
        song: the song to edit (the document edits this object in place).
        path: its song file; None for an untitled song.
        """
        self.song = song
        self.history = History(song)
        self.path = path
        self.imported_from: Path | None = None  # the MIDI file an untitled song came from
        self._saved_revision: int | None = self.history.revision
        self._written_revision = self.history.revision  # last save or autosave

    @property
    def dirty(self) -> bool:
        """Edited since the last save (or never saved to its file)."""
        return self.history.revision != self._saved_revision

    def save(self, path: Path | None = None) -> Path:
        """Write the song atomically to `path` (default: its own file) and make it the document's.

        Raises:
            TrackerError: no file name yet, the song breaks a rule of the format, or the file
                cannot be written; the document stays dirty and the recovery file stays.
        """
        target = path if path is not None else self.path
        if target is None:
            raise TrackerError("this song has no file name yet: save it under a name")
        target = Path(target)
        if target.suffix.lower() in MIDI_SUFFIXES:
            raise TrackerError(f"{target}: songs are saved as .song files, not MIDI files")
        old_recovery = self.recovery_path()
        if self.folder is not None:
            _bring_audio(self.song, self.folder, song_folder(target))
        try:
            save_song(self.song, target)
        except ValueError as exc:
            raise TrackerError(f"cannot save {target}: {exc}") from None
        self.path = target
        self._saved_revision = self._written_revision = self.history.revision
        self.imported_from = None
        for recovery in {old_recovery, self.recovery_path()}:
            _remove(recovery)
        return target

    @property
    def folder(self) -> Path | None:
        """The song's folder, where its audio lives (None until it has a file)."""
        return song_folder(self.path) if self.path is not None else None

    def recovery_path(self) -> Path:
        """Where the autosave goes: beside the song, or in the state folder when untitled."""
        return recovery_path_for(self.path)

    def autosave(self) -> bool:
        """Write the recovery file if the song changed since the last save or autosave.

        Returns:
            True if it was written.

        Raises:
            TrackerError: the recovery file cannot be written (one line, fit for a status bar).
        """
        revision = self.history.revision
        if revision == self._written_revision or not self.dirty:
            return False
        recovery = self.recovery_path()
        try:
            text = dumps(self.song)
        except ValueError as exc:
            raise TrackerError(f"cannot autosave: {exc}") from None
        try:
            recovery.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackerError(f"cannot autosave to {recovery}: {exc.strerror or exc}") from None
        write_bytes_atomic(recovery, text.encode("utf-8"))
        self._written_revision = revision
        return True

    def discard_recovery(self) -> None:
        """Set the recovery file aside (the musician chose not to recover it): renamed to
        `….recovery~`, so it is no longer offered but a wrong answer loses nothing."""
        recovery = self.recovery_path()
        with contextlib.suppress(OSError):
            recovery.replace(recovery.with_name(recovery.name + "~"))

    @classmethod
    def open(cls, path: Path) -> Document:
        """Open a song file, or import a MIDI file as an untitled song.

        An imported song gets no path: saving it next to the MIDI file could overwrite a song
        of the same name, so the app asks where to save it (`imported_from` names the source).

        Raises:
            TrackerError: the file cannot be read (SongFormatError, one line).
        """
        path = Path(path)
        if path.suffix.lower() in MIDI_SUFFIXES:
            from tracker.midi.import_file import import_midi

            document = cls(import_midi(path), None)
            document.imported_from = path
            document._saved_revision = None  # never saved as a song: dirty from the start
            return document
        document = cls(load_song(path), path)
        remove_stale_temps(path)  # a save or autosave killed last time left these
        return document


def recovery_path_for(path: Path | None) -> Path:
    """`<song file>.recovery` beside the song; for an untitled song, the user's state folder."""
    if path is not None:
        path = Path(path)
        return path.with_name(path.name + RECOVERY_SUFFIX)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tracker" / UNTITLED_RECOVERY


def pending_recovery(path: Path | None) -> Path | None:
    """The recovery file of `path` (None: the untitled one) if it exists and is newer than the
    song, or the song is gone; else None."""
    recovery = recovery_path_for(path)
    try:
        saved_at = recovery.stat().st_mtime_ns
    except OSError:
        return None
    if path is None:
        return recovery
    try:
        song_at = Path(path).stat().st_mtime_ns
    except OSError:
        return recovery
    return recovery if saved_at > song_at else None


def load_recovery(path: Path | None, recovery: Path) -> Document:
    """A document holding the recovered song, under the real song's path, dirty (not saved).

    Raises:
        TrackerError: the recovery file cannot be read.
    """
    document = Document(load_song(recovery), path)
    document._saved_revision = None
    return document


def _remove(path: Path) -> None:
    # A recovery file that cannot be removed only means an offer to recover on next start.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _bring_audio(song: Song, source: Path, target: Path) -> None:
    """Saving into another folder copies the song's audio (clips, frozen renders) there, at the
    same relative paths, so the saved song plays: a file already there is left as it is.

    Raises:
        TrackerError: a file cannot be copied (the song is then not saved).
    """
    if source == target:
        return
    for relative in sorted({c.path for t in song.tracks for c in t.audio_clips()}):
        try:
            # Neither read through a symlink out of the song's folder (that would copy, say,
            # ~/.ssh/id_rsa beside the new song) nor write through one out of the new folder.
            # Such a clip is not copied: playing it is refused anyway, with a message.
            origin = inside(source, relative, what="audio file")
            copy = inside(target, relative, what="audio file")
        except TrackerError:
            continue
        if copy.exists() or not origin.is_file():
            continue
        try:
            copy.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(copy) as tmp:
                shutil.copyfile(origin, tmp)
        except OSError as exc:
            raise TrackerError(
                f"cannot copy {relative} to {target}: {exc.strerror or exc}; not saved"
            ) from None
        except TrackerError as exc:  # atomic_path's own words: "cannot write <copy>: why"
            raise TrackerError(f"{exc}; not saved") from None
