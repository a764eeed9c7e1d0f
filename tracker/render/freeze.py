"""Freeze and resample: renders that become a song's audio, written beside the song.

Both go through the one offline renderer, so a frozen track plays exactly the samples its
instrument made, and a resample of the master is the bounce. Files are 32-bit float WAV at
the song's playing rate: no rounding, so the null tests hold to the last bit of a float.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import soundfile as sf

from tracker.model.freezing import check_freezable, freeze_path, resample_path
from tracker.model.song import Song
from tracker.paths import inside
from tracker.render.offline import OfflineRender, Progress, RenderJob, render_to_wav

RATE = 48000  # what the live engine plays at
BITS = "32f"


def freeze_track(
    song: Song,
    index: int,
    folder: Path,
    search_dirs: Sequence[Path] = (),
    progress: Progress | None = None,
) -> str:
    """Render track `index` pre-fader into the song's audio folder; return its relative path.

    Raises:
        TrackerError: the track cannot be frozen offline, or the render failed (nothing is
            left half-written).
    """
    check_freezable(song, index)
    relative = freeze_path(song, index, exists_in(folder))
    job = RenderJob(song, rate=RATE, track=index, search_dirs=search_dirs, song_dir=folder)
    _write(job, audio_target(folder, relative), progress)
    return relative


def freeze_tracks(
    song: Song,
    indices: Sequence[int],
    folder: Path,
    search_dirs: Sequence[Path] = (),
    progress: Progress | None = None,
) -> list[str]:
    """Freeze several tracks in one pass (the song is sequenced once, each track rendered
    alone as `freeze_track` would); return their relative paths, in the order given."""
    for index in indices:
        check_freezable(song, index)
    if len(indices) == 1:
        return [freeze_track(song, indices[0], folder, search_dirs, progress)]
    order = sorted(set(indices))  # the stems come in track order
    job = RenderJob(song, rate=RATE, prefader=order, search_dirs=search_dirs, song_dir=folder)
    render = OfflineRender(job, with_stems=True)
    exists = exists_in(folder)
    relative: dict[int, str] = {}
    for index in order:  # each one new, none the same as another's
        relative[index] = freeze_path(song, index, lambda r: exists(r) or r in relative.values())
    stems = {index: audio_target(folder, path) for index, path in relative.items()}
    render_to_wav(render, None, BITS, stems_to=stems, progress=progress)
    return [relative[index] for index in indices]


def resample(
    song: Song,
    name: str,
    folder: Path,
    source: int | None = None,
    search_dirs: Sequence[Path] = (),
    progress: Progress | None = None,
) -> str:
    """Render what reaches the master (or track `source`'s output, after its effects, fader
    and whatever plays or sends into it) into the audio folder; return its relative path."""
    relative = resample_path(song, name, exists_in(folder))
    job = RenderJob(song, rate=RATE, search_dirs=search_dirs, song_dir=folder, tap=source)
    _write(job, audio_target(folder, relative), progress)
    return relative


def exists_in(folder: Path) -> Callable[[str], bool]:
    return lambda relative: (folder / relative).exists()


def readable_in(folder: Path) -> Callable[[str], bool]:
    """Whether a song's audio file loads (what flatten asks before it drops the notes)."""

    def readable(relative: str) -> bool:
        try:
            sf.info(str(folder / relative))
        except (sf.LibsndfileError, RuntimeError, OSError):
            return False
        return True

    return readable


def audio_target(folder: Path, relative: str) -> Path:
    """Where a new render of the song goes: `folder / relative`, made sure to stay inside the
    song's folder (an `audio` symlinked elsewhere would put it where the song cannot play it).
    """
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    inside(folder, relative.rsplit("/", 1)[0], what="audio folder")
    return target


def _write(job: RenderJob, target: Path, progress: Progress | None) -> None:
    render = OfflineRender(job)
    render_to_wav(render, target, BITS, progress=progress)
