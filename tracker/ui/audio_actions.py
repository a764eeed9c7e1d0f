"""Freeze, unfreeze, flatten and resample in the app: renders run in a worker thread on a copy
of the song, and what they change in the song is one undoable step.

The audio files go into `audio/` beside the song, so the song must have been saved once. An
undo of a freeze leaves its file on disk (a redo plays it again); files are never deleted by
an edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tracker.model import freezing
from tracker.model.copying import copy_song
from tracker.model.errors import TrackerError
from tracker.model.song import Song
from tracker.ui.track_list import TrackList

if TYPE_CHECKING:
    from tracker.ui.app import TrackerApp


class AudioActions:
    """Mixed into TrackerApp."""

    def check_frozen_audio(self: TrackerApp, then: Callable[[], object]) -> None:  # type: ignore[misc]
        """Offer to unfreeze the tracks whose frozen audio file is missing (their notes are
        still there), then run `then`."""
        song, folder = self.document.song, self.document.folder
        missing = [
            index
            for index, track in enumerate(song.tracks)
            if track.frozen is not None
            and (folder is None or not (folder / track.frozen).is_file())
        ]
        if not missing:
            then()
            return
        names = ", ".join(f"{song.tracks[i].name} ({song.tracks[i].frozen})" for i in missing)

        def answered(choice: str) -> None:
            if choice == "unfreeze":
                self._audio_edit("unfreeze missing audio", lambda s: _unfreeze(s, missing))
            then()

        self.confirm(
            f"Frozen audio is missing: {names}. Their notes are kept: unfreeze them to play "
            "the notes again?",
            [("unfreeze", "Unfreeze"), ("keep", "Keep frozen")],
            answered,
        )

    def on_track_list_audio_requested(self, message: TrackList.AudioRequested) -> None:
        self.audio_action(message.action, message.track)

    def audio_action(self: TrackerApp, action: str, track: int | None) -> None:  # type: ignore[misc]
        """Do `action` on song track `track` (None, for resample: the master)."""
        song = self.document.song
        if track is not None and not 0 <= track < len(song.tracks):
            return
        try:
            if action == "unfreeze":
                self._audio_edit("unfreeze", lambda s: freezing.unfreeze(s, track))
            elif action == "flatten":
                readable = self._audio_readable()
                self._audio_edit("flatten", lambda s: freezing.flatten(s, track, readable))
            elif action == "freeze":
                freezing.check_freezable(song, track)
                self._render_audio(action, track)
            else:
                self._render_audio(action, track)
        except TrackerError as exc:
            self.bell()
            self.notify(str(exc), title=action.capitalize(), severity="warning")

    def _audio_readable(self: TrackerApp) -> Callable[[str], bool]:  # type: ignore[misc]
        from tracker.render.freeze import readable_in

        folder = self.document.folder
        return (lambda relative: False) if folder is None else readable_in(folder)

    def _audio_edit(self: TrackerApp, label: str, change: Callable[[Song], object]) -> None:  # type: ignore[misc]
        with self.document.history.edit(label, song_wide=True) as song:
            change(song)
        self.song_changed(None)
        self.query_one("#tracks", TrackList).refresh_song()

    def _render_audio(self: TrackerApp, action: str, track: int | None) -> None:  # type: ignore[misc]
        path = self.document.path
        if path is None:
            raise TrackerError("save the song first: its audio is written beside it")
        from tracker.commands.songs import instrument_dirs, song_folder

        song = copy_song(self.document.song)  # the render reads a copy: editing goes on
        folder, dirs = song_folder(path), instrument_dirs(path)
        name = song.tracks[track].name if track is not None else None
        what = repr(name) if name is not None else "the master"
        self.notify(f"{action} {what}…", timeout=2)

        def work() -> None:
            from tracker.render.freeze import freeze_track, resample

            try:
                if action == "freeze":
                    assert track is not None
                    relative = freeze_track(song, track, folder, dirs)
                    change = _freeze_change(track, name, relative, _notes(song, track))
                else:
                    new = freezing.unique_track_name(song, "Resample")
                    relative = resample(song, new, folder, track, dirs)
                    change = _resample_change(new, relative)
            except (TrackerError, OSError, MemoryError) as exc:
                # A worker's exception would end the app: say it, as any failed command does.
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
                self.call_from_thread(
                    self.notify, f"{where}{reason}", title=f"Not {action}d", severity="error"
                )
                return
            self.call_from_thread(self._finish_audio, action, what, change)

        self.run_worker(work, thread=True, group="audio", exclusive=False)

    def _finish_audio(  # type: ignore[misc]
        self: TrackerApp, action: str, what: str, change: Callable[[Song], object]
    ) -> None:
        try:
            self._audio_edit(action, change)
        except TrackerError as exc:
            self.notify(str(exc), title=f"Not {action}d", severity="error")
            return
        done = {"freeze": "froze", "resample": "resampled"}[action]
        self.notify(f"{done} {what}", timeout=3)


def _unfreeze(song: Song, tracks: list[int]) -> None:
    for index in tracks:
        freezing.unfreeze(song, index)


def _notes(song: Song, track: int) -> object:
    """What a track's render is made of: its instrument and every row it has."""
    t = song.tracks[track]
    rows = {pid: pattern.data.get(track) for pid, pattern in song.patterns.items()}
    return (t.kind, t.instrument, repr(t.effects), repr(rows), tuple(song.order), song.bpm)


def _freeze_change(
    track: int, name: str | None, relative: str, rendered: object
) -> Callable[[Song], object]:
    def change(song: Song) -> None:
        # The track may have moved, gone or been edited while the render ran.
        if (
            track >= len(song.tracks)
            or song.tracks[track].name != name
            or _notes(song, track) != rendered
        ):
            raise TrackerError(f"track {name!r} changed while it was frozen: freeze it again")
        freezing.freeze(song, track, relative)

    return change


def _resample_change(name: str, relative: str) -> Callable[[Song], object]:
    def change(song: Song) -> None:
        freezing.add_resample(song, freezing.unique_track_name(song, name), relative)

    return change
