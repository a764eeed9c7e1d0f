"""`tracker import` (MIDI file → song) and `tracker export` (song → type 1 MIDI file)."""

from __future__ import annotations

import argparse
import sys

from tracker.commands.songs import open_song, refuse_overwrite
from tracker.model.errors import TrackerError


def run_import(args: argparse.Namespace) -> int:
    from tracker.midi.import_file import import_midi_report
    from tracker.model.serialize import save_song

    refuse_overwrite(args.output, args.midi, "MIDI file")
    if args.output.exists() and not args.force:
        raise TrackerError(f"{args.output}: already exists (use --force to replace it)")
    song, report = import_midi_report(args.midi)
    try:
        save_song(song, args.output)
    except ValueError as exc:  # the import made something the song format cannot hold
        raise TrackerError(f"{args.midi}: cannot be saved as a song: {exc}") from None
    for warning in report.warnings():
        print(f"tracker: {args.midi}: {warning}", file=sys.stderr)
    notes = sum(
        1
        for pattern in song.patterns.values()
        for rows in pattern.data.values()
        for row in rows.values()
        for cell in row.notes
        if cell is not None and cell.note is not None and cell.note >= 0
    )
    print(
        f"imported {args.midi} → {args.output}: {len(song.tracks)} tracks, {notes} notes,"
        f" {len(song.patterns)} patterns",
        file=sys.stderr,
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from tracker.midi.export_file import export_midi

    song, path = open_song(args.song)
    refuse_overwrite(args.output, path, "song")
    export_midi(song, args.output)
    print(f"exported {path} → {args.output}", file=sys.stderr)
    return 0
