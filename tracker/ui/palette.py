"""The command palette (ctrl+p): every action of the app, the views and the files, by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from tracker.model.copying import copy_song
from tracker.model.errors import TrackerError
from tracker.ui.file_actions import suggested_path
from tracker.ui.track_list import TrackList

if TYPE_CHECKING:
    from tracker.ui.app import TrackerApp


def palette_commands(app: TrackerApp) -> Iterator[SystemCommand]:
    grid, roll = app.grid, app.roll

    yield SystemCommand(
        "Play song", "from the first position of the order list (F5)", app.action_play_song
    )
    yield SystemCommand(
        "Play / stop", "play from the current pattern, or stop (space)", app.action_play_stop
    )
    yield SystemCommand(
        "Loop pattern", "play the current pattern over and over (F6)", app.action_play_pattern
    )
    yield SystemCommand("Play from cursor", "from the cursor's row (F7)", app.action_play_cursor)
    yield SystemCommand("Stop", "stop and release every note (F8)", app.action_stop)
    yield SystemCommand(
        "MIDI panic", "end every note on every MIDI port now (ctrl+e)", app.action_panic
    )
    yield SystemCommand("Undo", "undo the last edit (ctrl+z)", app.action_undo)
    yield SystemCommand("Redo", "redo what was undone (ctrl+y)", app.action_redo)
    yield SystemCommand("Save", "save the song (ctrl+s)", app.action_save)
    yield SystemCommand("Save as…", "save under another name (ctrl+w)", app.action_save_as)
    yield SystemCommand("Open…", "open a song or a MIDI file (ctrl+o)", app.action_open)
    yield SystemCommand(
        "Render to WAV…", "render the song offline to a WAV file", lambda: _render(app)
    )
    yield SystemCommand("Import MIDI…", "open a MIDI file as a new song", app.action_open)
    yield SystemCommand(
        "Export MIDI…", "write the song as a type 1 MIDI file", lambda: _export(app)
    )
    yield SystemCommand(
        "New pattern", "an empty pattern after this position (ctrl+n)", grid.new_pattern
    )
    yield SystemCommand(
        "Clone pattern",
        "a copy of this pattern after this position (ctrl+d)",
        grid.clone_pattern,
    )
    yield SystemCommand(
        "Resize pattern…", "change the number of rows (ctrl+g)", app.action_resize_pattern
    )
    yield SystemCommand(
        "Transpose +1", "the selection, a semitone up (ctrl+up)", lambda: grid.transpose(1)
    )
    yield SystemCommand(
        "Transpose −1",
        "the selection, a semitone down (ctrl+down)",
        lambda: grid.transpose(-1),
    )
    yield SystemCommand("Transpose +12", "the selection, an octave up", lambda: grid.transpose(12))
    yield SystemCommand(
        "Transpose −12", "the selection, an octave down", lambda: grid.transpose(-12)
    )
    yield SystemCommand(
        "Velocity ramp", "interpolate velocities across the selection (ctrl+r)", grid.ramp
    )
    yield SystemCommand("Copy", "the selection (ctrl+c)", grid.copy)
    yield SystemCommand("Cut", "the selection (ctrl+x)", grid.cut)
    yield SystemCommand("Paste", "at the cursor (ctrl+v)", grid.paste)
    yield SystemCommand("Mute track", "toggle mute of the current track (ctrl+k)", grid.toggle_mute)
    yield SystemCommand("Solo track", "toggle solo of the current track (ctrl+f)", grid.toggle_solo)
    yield SystemCommand(
        "Duplicate track",
        "a copy of the current track after it, notes and all (d in the track list)",
        lambda: app.query_one("#tracks", TrackList).action_duplicate(),
    )
    yield SystemCommand(
        "Freeze track",
        "render the current track to audio it then plays; notes kept, locked (f in the track list)",
        lambda: app.audio_action("freeze", app.state.track),
    )
    yield SystemCommand(
        "Unfreeze track",
        "play the current track's instrument again (f in the track list)",
        lambda: app.audio_action("unfreeze", app.state.track),
    )
    yield SystemCommand(
        "Flatten track",
        "turn the frozen current track into an audio track (F in the track list)",
        lambda: app.audio_action("flatten", app.state.track),
    )
    yield SystemCommand(
        "Resample master",
        "record what reaches the master into a new audio track (R in the track list)",
        lambda: app.audio_action("resample", None),
    )
    yield SystemCommand(
        "Resample track",
        "record the current track's output into a new audio track (r in the track list)",
        lambda: app.audio_action("resample", app.state.track),
    )
    yield SystemCommand(
        "Quantize…", "the piano roll's selection (q in the piano roll)", roll.action_quantize
    )
    yield SystemCommand(
        "Follow playback",
        "toggle whether the views follow the playhead",
        lambda: _toggle_follow(app),
    )
    yield SystemCommand("Keys", "every key of every view (?)", app.action_help)
    yield SystemCommand(
        "Quit", "asks first when there are unsaved changes (ctrl+q)", app.action_quit_app
    )


def _toggle_follow(app: TrackerApp) -> None:
    app.state.follow = not app.state.follow
    app.notify("following playback" if app.state.follow else "not following playback")


def _render(app: TrackerApp) -> None:
    def start(out: Path) -> None:
        song = copy_song(app.document.song)  # the render reads a copy: editing goes on meanwhile
        app.notify(f"rendering {out}…", timeout=2)

        def work() -> None:
            from tracker.commands.songs import instrument_dirs, song_folder
            from tracker.render.offline import OfflineRender, RenderJob, render_to_wav

            dirs = instrument_dirs(app.document.path) if app.document.path else []
            try:
                folder = song_folder(app.document.path) if app.document.path else None
                render = OfflineRender(RenderJob(song, search_dirs=dirs, song_dir=folder))
                result = render_to_wav(render, out)
            except (TrackerError, OSError, MemoryError) as exc:
                app.call_from_thread(app.notify, str(exc), title="Not rendered", severity="error")
                return
            seconds = result.frames / render.job.rate
            app.call_from_thread(app.notify, f"rendered {out} ({seconds:.1f} s)")

        app.run_worker(work, thread=True, group="render")

    app.ask_path(
        "Render the song to WAV file:", suggested_path(app.document, ".wav"), start, protect=True
    )


def _export(app: TrackerApp) -> None:
    def start(out: Path) -> None:
        from tracker.midi.export_file import export_midi

        try:
            export_midi(app.document.song, out)
        except TrackerError as exc:
            app.notify(str(exc), title="Not exported", severity="error")
            return
        app.notify(f"exported {out}")

    app.ask_path(
        "Export the song as a MIDI file:", suggested_path(app.document, ".mid"), start, protect=True
    )
