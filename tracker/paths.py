"""Where the shipped data lives: the demo songs and the instrument presets with their samples.

From a source checkout (or an editable install) they are the repository's patterns/ and
instruments/; a wheel carries copies under tracker/_data/.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tracker.model.errors import TrackerError

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


def inside(folder: Path, relative: str, *, also: Sequence[Path] = (), what: str = "file") -> Path:
    """The real path of `folder / relative`, provided it stays inside `folder` (or one of
    `also`) once every symlink is followed.

    A song file is data that may come from anyone, and so may the folder it came in: a symlink
    there (`audio -> /etc`, `take.wav -> ~/.ssh/id_rsa`) must not turn one of its relative
    paths into a way to read, or copy, files elsewhere. Paths the musician types are not
    checked: this is for the paths a song or a preset names.

    Raises:
        TrackerError: one line naming the file and where it leads.
    """
    path = folder / relative
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        raise TrackerError(f"{path}: {what} is a symlink that leads nowhere; refused") from None
    if any(real.is_relative_to(root.resolve()) for root in (folder, *also)):
        return real
    # repr: a symlink's target may hold any character, a line break included.
    raise TrackerError(f"{path}: {what} leads outside its folder (to {str(real)!r}); refused")
