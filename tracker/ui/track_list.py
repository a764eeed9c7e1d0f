"""The track list: each track's name, kind, sound source, mute/solo, volume, pan and state."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tracker.model import edits
from tracker.model.song import Song, Track, TrackKind
from tracker.session.document import Document
from tracker.ui.edit_state import EditState
from tracker.ui.waveform import Waveforms

COLUMNS = ("#", "Track", "Kind", "Source", "M", "S", "Vol", "Pan", "State")


def source_of(song: Song, track: Track) -> str:
    """What the track sounds through: its preset, its MIDI port and channel, or its audio."""
    if track.kind is TrackKind.MIDI:
        return f"{track.port or '?'}:{track.channel}"
    if track.kind is TrackKind.AUDIO:
        return "audio"
    if track.instrument is None:
        return f"GM ch{track.channel}"
    return song.instruments.get(track.instrument, f"#{track.instrument:02X}?")


def pan_text(pan: float) -> str:
    if abs(pan) < 0.005:
        return "C"
    return f"{'L' if pan < 0 else 'R'}{round(abs(pan) * 100)}"


def state_text(song: Song, index: int) -> str:
    if index not in song.audible_tracks():
        return "silent"
    return "frozen" if song.tracks[index].frozen is not None else "on"


WAVE_WIDTH = 8  # characters of a track's audio overview in the Source column


class TrackList(DataTable):
    """Keyboard: up/down choose the track the grid and piano roll edit; m/s mute and solo;
    +/- volume; left/right pan; f freeze or unfreeze, F flatten, r resample the track, R the
    master. Frozen tracks are greyed; audio tracks show their waveform."""

    BINDINGS = [
        Binding("m", "mute", "Mute", show=True),
        Binding("s", "solo", "Solo", show=True),
        Binding("plus,equals_sign", "volume(1)", "Volume +1 dB", show=True),
        Binding("minus", "volume(-1)", "Volume −1 dB", show=True),
        Binding("left", "pan(-0.1)", "Pan left", show=False, priority=True),
        Binding("right", "pan(0.1)", "Pan right", show=False, priority=True),
        Binding("enter", "edit_track", "Edit in grid", show=True),
        Binding("f", "freeze", "Freeze / unfreeze", show=True),
        Binding("F", "flatten", "Flatten (frozen → audio)", show=True),
        Binding("r", "resample_track", "Resample the track", show=False),
        Binding("R", "resample_master", "Resample the master", show=False),
        Binding("d", "duplicate", "Duplicate track", show=False),
    ]

    class TrackChosen(Message):
        """The cursor moved to another track (state.track is already set)."""

    class Edited(Message):
        """A track setting changed (undoable)."""

        def __init__(self, changed: frozenset[int] | None) -> None:
            super().__init__()
            self.changed = changed

    class EditRequested(Message):
        """Enter: edit the chosen track in the pattern grid."""

    class AudioRequested(Message):
        """A key asked for audio work on track `track`: "freeze", "unfreeze", "flatten", or
        "resample" (track None: the master). The app does it (renders in a worker)."""

        def __init__(self, action: str, track: int | None) -> None:
            super().__init__()
            self.action = action
            self.track = track

    def __init__(self, document: Document, state: EditState, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.document = document
        self.state = state
        self._shown: list[tuple[object, ...]] = []
        self._waveforms = Waveforms(None)

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)
        self.refresh_song()

    def refresh_song(self) -> None:
        """Redraw from the song (after an edit, undo or redo); keep the cursor on state.track."""
        song = self.document.song
        folder = self.document.folder
        if self._waveforms.folder != folder:
            self._waveforms = Waveforms(folder)
        rows = [self._row(song, index) for index in range(len(song.tracks))]
        # Rebuilding a DataTable costs milliseconds: only when a track setting changed, not on
        # every note typed in the grid.
        if rows != self._shown:
            self._shown = rows
            self.clear()
            self.add_rows(rows)
        if song.tracks:
            self.state.track = min(self.state.track, len(song.tracks) - 1)
            if self.cursor_row != self.state.track:
                self.move_cursor(row=self.state.track, animate=False)

    def _row(self, song: Song, index: int) -> tuple[object, ...]:
        track = song.tracks[index]
        source = source_of(song, track)
        wave = self._waveforms.overview(song, index, WAVE_WIDTH)
        if wave is not None:  # what it plays is that audio
            source = wave
        cells = (
            f"{index + 1:02d}",
            track.name,
            track.kind.value[:5],
            source,
            "M" if track.mute else "·",
            "S" if track.solo else "·",
            f"{track.volume_db:+.1f}",
            pan_text(track.pan),
            state_text(song, index),
        )
        if track.frozen is None:
            return cells
        # Greyed: its notes and instrument are locked while its audio plays.
        return tuple(Text(cell, style="dim") for cell in cells)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row != self.state.track and 0 <= event.cursor_row < len(
            self.document.song.tracks
        ):
            self.state.track = event.cursor_row
            self.post_message(self.TrackChosen())

    def _change(self, label: str, **fields: object) -> None:
        index = self.state.track
        if not 0 <= index < len(self.document.song.tracks):
            return
        with self.document.history.edit(label, song_wide=True) as song:
            edits.set_track(song, index, **fields)
        self.refresh_song()
        self.post_message(self.Edited(None))

    def _current(self) -> Track | None:
        tracks = self.document.song.tracks
        return tracks[self.state.track] if 0 <= self.state.track < len(tracks) else None

    def action_mute(self) -> None:
        track = self._current()
        if track is None:
            return
        self._change("mute" if not track.mute else "unmute", mute=not track.mute)

    def action_solo(self) -> None:
        track = self._current()
        if track is None:
            return
        self._change("solo" if not track.solo else "unsolo", solo=not track.solo)

    def action_volume(self, delta: float) -> None:
        track = self._current()
        if track is None:
            return
        volume = max(edits.MIN_VOLUME_DB, min(edits.MAX_VOLUME_DB, track.volume_db + delta))
        self._change("volume", volume_db=volume)

    def action_pan(self, delta: float) -> None:
        track = self._current()
        if track is None:
            return
        self._change("pan", pan=round(max(-1.0, min(1.0, track.pan + delta)), 2))

    def action_edit_track(self) -> None:
        self.post_message(self.EditRequested())

    def action_duplicate(self) -> None:
        if self._current() is None:
            return
        with self.document.history.edit("duplicate track", song_wide=True) as song:
            self.state.track = edits.duplicate_track(song, self.state.track)
        self.refresh_song()
        self.post_message(self.Edited(None))

    def action_freeze(self) -> None:
        track = self._current()
        if track is not None:
            action = "freeze" if track.frozen is None else "unfreeze"
            self.post_message(self.AudioRequested(action, self.state.track))

    def action_flatten(self) -> None:
        if self._current() is not None:
            self.post_message(self.AudioRequested("flatten", self.state.track))

    def action_resample_track(self) -> None:
        if self._current() is not None:
            self.post_message(self.AudioRequested("resample", self.state.track))

    def action_resample_master(self) -> None:
        self.post_message(self.AudioRequested("resample", None))
