"""Where the shipped data lives: the demo songs and the instrument presets with their samples.

From a source checkout (or an editable install) they are the repository's patterns/ and
instruments/; a wheel carries copies under tracker/_data/.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

MIDI_SUFFIXES = (".mid", ".midi", ".smf")  # files opened by importing them


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def instruments_dir() -> Path:
    """The folder of shipped instrument presets (`*.preset`) and their WAV samples."""
    return _data_dir("instruments")


def patterns_dir() -> Path:
    """The folder of shipped songs."""
    return _data_dir("patterns")


def demo_song() -> Path:
    """The song `tracker render` plays when it is given none."""
    return patterns_dir() / "demo.song"


def song_folder(song_path: Path) -> Path:
    """Where a song's audio clips' paths start: its own folder."""
    return song_path.resolve().parent
