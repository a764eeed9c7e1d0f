"""The tracker app: track list, order list, pattern grid / piano roll, transport bar, footer.

The app owns the Document (song, undo history, file, recovery file), the EditState (where the
cursor is) and the Transport (live playback). Views edit through the history and post `Edited`;
the app then hands the transport a new snapshot and refreshes the other views.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header

from tracker.live import collector
from tracker.model import edits
from tracker.model.copying import copy_song
from tracker.model.errors import TrackerError
from tracker.session.document import Document
from tracker.ui.audio_actions import AudioActions
from tracker.ui.dialogs import PathScreen
from tracker.ui.edit_state import EditState
from tracker.ui.file_actions import FileActions
from tracker.ui.help_screen import HelpScreen
from tracker.ui.order_list import OrderList
from tracker.ui.pattern_grid import PatternGrid
from tracker.ui.piano_roll import PianoRoll
from tracker.ui.track_list import TrackList
from tracker.ui.transport_bar import TransportBar, TransportView

if TYPE_CHECKING:
    from tracker.live.remote import RemoteTransport
    from tracker.live.status import TransportStatus
    from tracker.live.transport import Transport

    # In-process (tests) or in a process of its own (the program): the same API.
    Playback = Transport | RemoteTransport

TransportFactory = Callable[[Document], "Playback | None"]
STATUS_HZ = 20
AUDIO_RETRY_SECONDS = 5.0  # between attempts to get a lost device back


class TrackerApp(AudioActions, FileActions, App[None]):
    """The whole program's UI. Build it with `make_app` (cli) or directly in tests."""

    TITLE = "tracker"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", show=True),
        Binding("space", "play_stop", "Play/stop", show=True),
        Binding("f5", "play_song", "Play song from the start"),
        Binding("f6", "play_pattern", "Loop the current pattern"),
        Binding("f7", "play_cursor", "Play from the cursor"),
        Binding("f8", "stop", "Stop (all notes off)"),
        Binding("ctrl+e", "panic", "MIDI panic: end every note on every port"),
        Binding("f2", "view('grid')", "Pattern grid", show=True),
        Binding("f3", "view('roll')", "Piano roll", show=True),
        Binding("f4", "focus_tracks", "Track list"),
        Binding("ctrl+l", "focus_order", "Order list"),
        Binding("ctrl+z", "undo", "Undo", show=True),
        Binding("ctrl+y", "redo", "Redo"),
        Binding("ctrl+s", "save", "Save", show=True),
        Binding("ctrl+w", "save_as", "Save as…"),
        Binding("ctrl+o", "open", "Open…"),
        Binding("ctrl+g", "resize_pattern", "Resize pattern…"),
        Binding("less_than_sign", "bpm(-1)", "Tempo −1 BPM"),
        Binding("greater_than_sign", "bpm(1)", "Tempo +1 BPM"),
        Binding("left_square_bracket", "swing(-1)", "Swing −1 %"),
        Binding("right_square_bracket", "swing(1)", "Swing +1 %"),
        Binding("ctrl+p", "command_palette", "Commands", show=True),
        Binding("ctrl+q", "quit_app", "Quit", show=True, priority=True),
    ]

    def __init__(
        self,
        document: Document,
        *,
        transport_factory: TransportFactory | None = None,
        autosave_seconds: float = 30.0,
        recovery: Path | None = None,
    ) -> None:
        """Args:
        transport_factory: builds the live playback for a document (called in a worker
            thread after the first frame, so start-up never waits for the audio engine);
            None: no playback (tests of editing alone).
        autosave_seconds: how often unsaved edits go to the recovery file (0: never).
        recovery: a recovery file found newer than the song: the app offers it at start.
        """
        super().__init__()
        self.document = document
        self.state = EditState(pattern=document.song.order[0] if document.song.order else 0)
        self.transport: Playback | None = None
        self.transport_factory = transport_factory
        self.autosave_seconds = autosave_seconds
        self.recovery = recovery
        self.transport_ready = asyncio.Event()
        self._status_text = "audio: starting…" if transport_factory else "audio: off"
        self._update_queued = False
        self._pending_changed: frozenset[int] | None = frozenset()
        self._collector = collector.CollectorGuard()
        self._was_playing = False
        self._quitting = False
        self._had_audio = False  # a device played once: losing it is worth retrying
        self._restarting = False
        self._last_restart = 0.0

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="♫")
        yield TransportBar(id="transport")
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield TrackList(self.document, self.state, id="tracks")
                yield OrderList(self.document, self.state, id="order")
            with ContentSwitcher(initial="grid", id="views"):
                yield PatternGrid(self.document, self.state, id="grid")
                yield PianoRoll(self.document, self.state, id="roll")
        yield Footer()

    @property
    def grid(self) -> PatternGrid:
        return self.query_one("#grid", PatternGrid)

    @property
    def roll(self) -> PianoRoll:
        return self.query_one("#roll", PianoRoll)

    def _views(self) -> list[TrackList | OrderList | PatternGrid | PianoRoll]:
        return [
            self.query_one("#tracks", TrackList),
            self.query_one("#order", OrderList),
            self.grid,
            self.roll,
        ]

    def on_mount(self) -> None:
        self.grid.focus()
        self.update_title()
        self._show_status()
        self.set_interval(1 / STATUS_HZ, self._show_status)
        if self.autosave_seconds > 0:
            self.set_interval(self.autosave_seconds, self.autosave_now)
        # After the first frame: the engine's imports (numba) take longer than a frame. A
        # frozen track whose audio is gone is asked about first (the engine would refuse it).
        self.call_after_refresh(self.check_frozen_audio, self._start_transport)
        if self.recovery is not None:
            self.call_after_refresh(self.offer_recovery, self.recovery)

    def _start_transport(self) -> None:
        if self.transport_factory is None:
            self.transport_ready.set()
            return
        self.transport_ready.clear()
        self._status_text = "audio: starting…"
        document = self.document
        # The worker reads a copy made here: the song goes on changing under the UI meanwhile.
        snapshot = Document(copy_song(document.song), document.path)
        snapshot.imported_from = document.imported_from
        self.run_worker(
            lambda: self._build_transport(document, snapshot),
            thread=True,
            exclusive=True,
            group="transport",
        )

    def _build_transport(self, document: Document, snapshot: Document) -> None:
        assert self.transport_factory is not None
        try:
            transport = self.transport_factory(snapshot)
        except Exception as exc:  # any failure of the audio side leaves the editor running
            self.call_from_thread(self._transport_failed, str(exc) or type(exc).__name__)
            return
        try:
            self.call_from_thread(self._transport_built, transport, document)
        except RuntimeError:  # the app ended while the engine was starting
            if transport is not None:
                transport.close()

    def _transport_built(self, transport: Playback | None, document: Document) -> None:
        if self._quitting or document is not self.document:
            # Quit, or another song opened, while the engine was starting: not needed now.
            if transport is not None:
                transport.close()
            return
        self.transport = transport
        self._restarting = False
        self._status_text = "audio: off" if transport is None else ""
        if transport is not None:
            self._update_queued = False
            transport.update(self.document.song, None)  # the edits made while it started
        collector.settle()
        self.transport_ready.set()

    def _watch_audio(self, status: TransportStatus) -> None:
        """A device that stopped (its JACK server killed) cannot come back in its process:
        start a new audio engine, and again every few seconds until the device is back."""
        if status.audio_ok:
            self._had_audio = True
            return
        if self._restarting or self.transport_factory is None:
            return
        due = time.monotonic() - self._last_restart > AUDIO_RETRY_SECONDS
        if status.audio_lost or (self._had_audio and due):
            self._restarting = True
            self._last_restart = time.monotonic()
            if status.audio_lost:
                self.notify(f"{status.audio}: starting the audio engine again", severity="warning")
            transport, self.transport = self.transport, None
            self._status_text = "audio: starting again…"

            def restart() -> None:
                if transport is not None:
                    transport.close()
                self.call_from_thread(self._start_transport)

            self.run_worker(restart, thread=True, group="restart")

    def _transport_failed(self, message: str) -> None:
        self._restarting = False
        self._status_text = f"no audio: {message}"
        self.notify(message, title="Audio", severity="error")
        self.transport_ready.set()

    def _close_transport(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.close()

    # --- status -------------------------------------------------------------------------

    def _show_status(self) -> None:
        # A timer may fire while the app shuts down: its screens may be gone already.
        if not self.screen_stack or not self.screen.is_mounted or not self.query("#order"):
            return
        song, state = self.document.song, self.state
        status = self.transport.status() if self.transport is not None else None
        if status is not None:
            self._watch_audio(status)
        playing = status is not None and status.playing
        if playing and status is not None:
            self._follow(status.order_index, status.pattern, status.row)
        if playing != self._was_playing:
            self._was_playing = playing
            if playing:
                self._collector.playing()
            else:
                # Catch up on garbage once the release tail is surely over.
                self.set_timer(2.0, self._collect_if_stopped)
        view = TransportView(
            playing=playing,
            looping=bool(status and status.looping),
            bpm=status.bpm if playing and status else song.bpm,
            lines_per_beat=song.lines_per_beat,
            swing=song.swing,
            order_index=status.order_index if playing and status else state.order_index,
            order_length=len(song.order),
            pattern=status.pattern if playing and status else state.pattern,
            row=status.row if playing and status else state.row,
            octave=state.octave,
            step=state.step,
            audio=status.audio if status else self._status_text,
            audio_ok=bool(status and status.audio_ok),
            underruns=status.underruns if status else 0,
            voices=status.voices if status else 0,
            midi=status.midi if status else "MIDI: off",
            dirty=self.document.dirty,
            level=status.level if status else 0.0,
        )
        self.query_one(TransportBar).show(view)
        self.grid.show_levels(status.track_levels if status else ())

    def _follow(self, order_index: int, pattern: int, row: int) -> None:
        """Move the views with the playhead (when following)."""
        order = self.query_one("#order", OrderList)
        order.set_playing(order_index)
        if self.state.follow and pattern != self.state.pattern:
            self.state.pattern = pattern
            self.state.order_index = order_index
            self._refresh_editors()
        editor = self._editor()
        editor.set_playhead(pattern, row)

    def _collect_if_stopped(self) -> None:
        if not self._was_playing:
            self._collector.stopped()

    def update_title(self) -> None:
        path = self.document.path
        self.title = self.document.song.title
        self.sub_title = path.name if path is not None else "untitled"

    # --- edits from the views ------------------------------------------------------------

    def song_changed(self, changed: frozenset[int] | None, source: object = None) -> None:
        """After any edit: the other views redraw; the transport hears it from its next row."""
        for view in self._views():
            if view is not source and view.display:
                view.refresh_song()
        self._show_status()
        self._queue_transport_update(changed)

    def _queue_transport_update(self, changed: frozenset[int] | None) -> None:
        """Hand the edit to the transport after the screen has been drawn: its snapshot and
        re-sequencing cost milliseconds the key press should not wait for. Edits made before
        then go over in one update."""
        first = not self._update_queued
        if first:
            self._pending_changed = frozenset()
        if changed is None or self._pending_changed is None:
            self._pending_changed = None
        else:
            self._pending_changed = self._pending_changed | changed
        self._update_queued = True
        if first:
            self.call_after_refresh(self._flush_transport_update)

    def _flush_transport_update(self) -> None:
        if not self._update_queued:
            return
        self._update_queued = False
        if self.transport is None:
            return
        try:
            self.transport.update(self.document.song, self._pending_changed)
        except TrackerError as exc:
            self.notify(str(exc), title="Playback", severity="error")

    def on_pattern_grid_edited(self, message: PatternGrid.Edited) -> None:
        self.song_changed(message.changed, self.grid)

    def on_piano_roll_edited(self, message: PianoRoll.Edited) -> None:
        self.song_changed(message.changed, self.roll)

    def on_track_list_edited(self, message: TrackList.Edited) -> None:
        self.song_changed(message.changed, self.query_one("#tracks"))

    def on_order_list_edited(self, message: OrderList.Edited) -> None:
        self.song_changed(message.changed, self.query_one("#order"))

    def on_pattern_grid_note_entered(self, message: PatternGrid.NoteEntered) -> None:
        """Hear the note just typed, as trackers do."""
        if self.transport is not None:
            velocity = message.velocity if message.velocity is not None else 100
            self.transport.audition(message.track, message.pitch, velocity, message.instrument)

    def on_pattern_grid_cursor_moved(self, message: PatternGrid.CursorMoved) -> None:
        tracks = self.query_one("#tracks", TrackList)
        if tracks.cursor_row != self.state.track:
            tracks.move_cursor(row=self.state.track, animate=False)
        self._show_status()

    def on_pattern_grid_entry_changed(self, message: PatternGrid.EntryChanged) -> None:
        self._show_status()

    def _editor(self) -> PatternGrid | PianoRoll:
        """The editor on screen: the grid or the piano roll."""
        return self.roll if self.roll.display else self.grid

    def _refresh_editors(self) -> None:
        # Only the editor on screen: the other one redraws when it is shown (action_view).
        self._editor().refresh_song()

    def on_track_list_track_chosen(self, message: TrackList.TrackChosen) -> None:
        self._refresh_editors()

    def on_track_list_edit_requested(self, message: TrackList.EditRequested) -> None:
        self.action_view("grid")

    def on_order_list_position_chosen(self, message: OrderList.PositionChosen) -> None:
        self.state.row = 0
        self._refresh_editors()

    def on_order_list_open_requested(self, message: OrderList.OpenRequested) -> None:
        self.action_view("grid")

    # --- actions --------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[tuple[str, Iterable[Binding | tuple[str, ...]]]]:
        return [
            ("Everywhere", self.BINDINGS),
            ("Pattern grid (F2)", PatternGrid.BINDINGS),
            ("Piano roll (F3)", PianoRoll.BINDINGS),
            ("Track list (F4)", TrackList.BINDINGS),
            ("Order list (ctrl+l)", OrderList.BINDINGS),
        ]

    def action_view(self, name: str) -> None:
        self.grid.set_playhead(None, None)
        self.roll.set_playhead(None, None)
        self.query_one("#views", ContentSwitcher).current = name
        self._refresh_editors()
        self.query_one(f"#{name}").focus()

    def action_focus_tracks(self) -> None:
        self.query_one("#tracks").focus()

    def action_focus_order(self) -> None:
        self.query_one("#order").focus()

    def _play(self, order_index: int, row: int, loop: bool = False) -> None:
        if self.transport is None:
            self.notify(self._status_text or "no playback", severity="warning")
            return
        self._flush_transport_update()  # edits not handed over yet go first
        try:
            self.transport.play(order_index, row, loop=loop)
        except TrackerError as exc:
            self.notify(str(exc), title="Playback", severity="error")
        self._show_status()

    def action_play_stop(self) -> None:
        if self.transport is not None and self.transport.playing:
            self.action_stop()
        else:
            self._play(self.state.order_index, 0)

    def action_play_song(self) -> None:
        self._play(0, 0)

    def action_play_pattern(self) -> None:
        self._play(self.state.order_index, 0, loop=True)

    def action_play_cursor(self) -> None:
        self._play(self.state.order_index, self.state.row)

    def action_stop(self) -> None:
        if self.transport is not None:
            self.transport.stop()
        self.query_one("#order", OrderList).set_playing(None)
        self.grid.set_playhead(None, None)
        self.roll.set_playhead(None, None)
        self._show_status()

    def action_panic(self) -> None:
        """Hanging notes on a synth: note-offs, all notes off and all sound off, now."""
        panic = getattr(self.transport, "panic", None)
        if panic is not None:
            panic()
        self.notify("MIDI panic: every note ended")

    def action_undo(self) -> None:
        label = self.document.history.undo()
        if label is None:
            self.notify("nothing to undo")
            return
        self._after_history(f"undid {label}")

    def action_redo(self) -> None:
        label = self.document.history.redo()
        if label is None:
            self.notify("nothing to redo")
            return
        self._after_history(f"redid {label}")

    def _after_history(self, message: str) -> None:
        song = self.document.song
        if self.state.pattern not in song.patterns and song.order:
            self.state.order_index = min(self.state.order_index, len(song.order) - 1)
            self.state.pattern = song.order[self.state.order_index]
        self.song_changed(self.document.history.last_changed)
        self.notify(message, timeout=1.5)

    def _song_wide(self, label: str, change: Callable[..., None], *args: object) -> None:
        with self.document.history.edit(label, song_wide=True) as song:
            change(song, *args)
        self.song_changed(None)

    def action_bpm(self, delta: float) -> None:
        self._song_wide("tempo", edits.set_tempo, self.document.song.bpm + delta)

    def action_swing(self, delta: float) -> None:
        self._song_wide("swing", edits.set_swing, self.document.song.swing + delta)

    def action_resize_pattern(self) -> None:
        length = self.document.song.patterns[self.state.pattern].length

        def resize(answer: str | None) -> None:
            if answer is None:
                return
            try:
                self.grid.resize(int(answer, 0))
            except ValueError as exc:
                self.notify(f"cannot resize: {exc}", severity="error")

        self.push_screen(PathScreen("Rows in this pattern (1–512):", str(length)), resize)

    def replace_document(self, document: Document) -> None:
        """Edit another song: every view switches to it, and so does playback (a transport of
        its own, which finds the presets beside the new song)."""
        self.action_stop()
        self.document = document
        song = document.song
        self.state.order_index = 0
        self.state.pattern = song.order[0] if song.order else min(song.patterns, default=0)
        self.state.track = 0
        self.state.row = 0
        for view in self._views():
            view.document = document
        self.update_title()
        self.song_changed(None)
        if self.transport_factory is not None:
            self._close_transport()
        self.check_frozen_audio(self._start_transport)
        collector.settle()

    # --- quitting ---------------------------------------------------------------------------

    def action_quit_app(self) -> None:
        self.unless_unsaved(self._close_and_exit)

    def _close_and_exit(self) -> None:
        self._quitting = True
        self._close_transport()
        self.exit()

    def on_unmount(self) -> None:
        # However the app ends (quit, an exception in a handler), playback stops with it.
        self._quitting = True
        self._close_transport()

    # --- command palette ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tracker.ui.palette import palette_commands

        yield from palette_commands(self)
