"""Opening songs for the commands: song files, or MIDI files imported on the fly."""

from __future__ import annotations

from pathlib import Path

from tracker.model.errors import TrackerError
from tracker.model.song import Song
from tracker.paths import MIDI_SUFFIXES, demo_song, song_folder

__all__ = ["instrument_dirs", "open_song", "refuse_overwrite", "song_folder"]


def open_song(path: Path | None) -> tuple[Song, Path]:
    """Load a song file or a MIDI file (None: the shipped demo); return it with its path."""
    path = demo_song() if path is None else path
    if path.suffix.lower() in MIDI_SUFFIXES:
        from tracker.midi.import_file import import_midi

        return import_midi(path), path
    from tracker.model.serialize import load_song

    return load_song(path), path


def instrument_dirs(song_path: Path) -> list[Path]:
    """Where a song's own presets live: an instruments/ folder beside it, then its folder."""
    folder = song_path.resolve().parent
    return [folder / "instruments", folder]


def refuse_overwrite(output: Path, source: Path, what: str) -> None:
    """A command never writes its output over its own input."""
    if output.resolve() == source.resolve():
        raise TrackerError(f"{output}: refusing to write the output over the {what}")
