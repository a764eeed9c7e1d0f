"""`tracker [SONG]`: open the terminal app on a song (none: a copy of the demo)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.commands.songs import instrument_dirs, song_folder
from tracker.model.errors import TrackerError
from tracker.paths import demo_song

if TYPE_CHECKING:
    from tracker.live.midi_out import MidiSetup
    from tracker.live.remote import RemoteTransport
    from tracker.live.transport import Transport
    from tracker.model.song import Song
    from tracker.session.document import Document


def open_document(path: Path | None) -> Document:
    """The document to edit: the song file, a new song when the file does not exist yet, or
    (no path) an untitled copy of the demo."""
    from tracker.model.serialize import load_song
    from tracker.model.templates import new_song
    from tracker.session.document import Document

    if path is None:
        return Document(load_song(demo_song()), None)
    if not path.exists():
        if path.suffix.lower() != ".song":
            raise TrackerError(
                f"{path}: no such song file (a new song needs a name ending in .song;"
                " commands: render, bounce, import, export, info, play, record, ports"
                " — see tracker --help)"
            )
        return Document(new_song(path.stem), path)
    return Document.open(path)


def run_app(args: argparse.Namespace) -> int:
    document = open_document(args.song)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TrackerError(
            "the app needs a terminal (without one: tracker render, tracker info; see"
            " tracker --help)"
        )
    from tracker.session.document import pending_recovery
    from tracker.ui.app import TrackerApp

    recovery = pending_recovery(document.path)
    device = args.audio_device
    if device is not None:
        # Asked for by name: a wrong name is bad input, said before the app starts.
        from tracker.audio.output import AudioUnavailable, find_output_device

        # No PortAudio or no devices at all is not the user's mistake: the app runs silent
        # and its transport bar says why.
        with contextlib.suppress(AudioUnavailable):
            find_output_device(device)

    # TRACKER_ENGINE=inprocess runs the engine in the app's own process: for comparison in
    # bench/ui.py and for debugging; the default keeps it in a process of its own.
    in_process = os.environ.get("TRACKER_ENGINE") == "inprocess"

    def transport_factory(doc: Document) -> RemoteTransport | Transport:
        # The engine and the audio callback in a process of their own: the UI's garbage
        # collections and GIL never delay them (docs/DESIGN.md, under-runs measured).
        source = doc.path or doc.imported_from or demo_song()
        dirs = instrument_dirs(source)
        midi = _midi_setup(doc.song, args.midi_api)
        if in_process:
            from tracker.live.transport import Transport

            return Transport(
                doc.song,
                device=device,
                search_dirs=dirs,
                song_dir=song_folder(source),
                midi=midi,
                midi_required=False,
            )
        # Not transport.py: importing it would load numba into the UI's process for nothing.
        from tracker.live.remote import RemoteTransport

        return RemoteTransport(
            doc.song, device=device, search_dirs=dirs, song_dir=song_folder(source), midi=midi
        )

    app = TrackerApp(
        document,
        transport_factory=transport_factory,
        autosave_seconds=args.autosave,
        recovery=recovery,
    )
    try:
        app.run()
    finally:
        # An exception that ended the app: whatever was not saved goes to the recovery file.
        if app.return_code not in (0, None) and app.document.dirty:
            with contextlib.suppress(TrackerError):
                app.document.autosave()
    if app.return_code:
        raise TrackerError("the app stopped on an error (unsaved edits are in the recovery file)")
    return 0


def _midi_setup(song: Song, api: str | None) -> MidiSetup | None:
    """MIDI for the song's MIDI tracks that name a port; None when there are none. The
    MIDI tracks of the song as opened: tracks given a port later play from the next open."""
    from tracker.live.midi_out import MidiSetup, song_routes
    from tracker.midi.ports import MidiUnavailable, resolve_api

    routes = song_routes(song)
    if not routes:
        return None
    try:
        return MidiSetup(resolve_api(api), routes)
    except MidiUnavailable:
        return None
