"""`tracker [SONG]`: open the terminal app on a song (none: a copy of the demo)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracker.commands.songs import instrument_dirs
from tracker.model.errors import TrackerError
from tracker.paths import demo_song


def open_document(path: Path | None):  # type: ignore[no-untyped-def]
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
                " commands: render, bounce, import, export, info — see tracker --help)"
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
    search_dirs = instrument_dirs(document.path or demo_song())
    device = args.audio_device

    def transport_factory(doc):  # type: ignore[no-untyped-def]
        from tracker.live.transport import Transport

        return Transport(doc.song, device=device, search_dirs=search_dirs)

    app = TrackerApp(
        document,
        transport_factory=transport_factory,
        autosave_seconds=args.autosave,
        recovery=recovery,
    )
    app.run()
    return 0
