"""Text waveforms of a track's audio (its clips, or its frozen render) for the grid and the
track list.

A track's audio is reduced once to peaks per HOP frames on the arrangement's time line
(clips summed where they are placed); a row of a pattern then shows the loudest peak of the
frames it spans, as a bar centred in the track's column, on a dB scale so quiet parts still
show. Reductions are cached by file and modification time, so a re-freeze is picked up.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from tracker.dsp.audio_clips import load_clip
from tracker.engine.timeline import arrangement_frames
from tracker.model.errors import TrackerError
from tracker.model.song import Song
from tracker.paths import inside, instruments_dir

RATE = 48000
HOP = 256  # frames a peak covers: 5.3 ms at 48 kHz, finer than any row
FLOOR_DB = -48.0  # shown as empty
SPARK = " ▁▂▃▄▅▆▇█"


def level(peak: float) -> float:
    """A peak (0..1+) as 0..1 on a dB scale from FLOOR_DB to 0 dBFS."""
    if peak <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 20.0 * math.log10(peak) / FLOOR_DB))


def bar(value: float, width: int) -> str:
    """`value` (0..1) as a bar of blocks centred in `width` characters: a waveform drawn down
    the rows, as wide as it is loud."""
    if value <= 0.0:
        return "·".center(width)
    return ("█" * max(1, round(value * width))).center(width)


def sparkline(levels: list[float]) -> str:
    return "".join(SPARK[min(len(SPARK) - 1, round(v * (len(SPARK) - 1)))] for v in levels)


class Waveforms:
    """Peaks of the audio tracks of one song folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._files: dict[str, tuple[float, np.ndarray]] = {}  # path → (mtime, peaks per HOP)

    def file_peaks(self, relative: str) -> np.ndarray | None:
        """Peaks per HOP frames of one file (None: no folder, or unreadable)."""
        if self.folder is None:
            return None
        try:
            path = inside(self.folder, relative, also=[instruments_dir()], what="audio file")
            mtime = path.stat().st_mtime
        except (OSError, TrackerError):
            return None
        cached = self._files.get(relative)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            data = load_clip(path, RATE)
        except TrackerError:
            return None
        frames = len(data) // HOP * HOP
        mono = np.abs(data).max(axis=1)
        peaks = mono[:frames].reshape(-1, HOP).max(axis=1) if frames else np.zeros(0)
        if frames < len(mono):
            peaks = np.append(peaks, mono[frames:].max())
        self._files[relative] = (mtime, peaks)
        return peaks

    def track_peaks(self, song: Song, index: int) -> np.ndarray | None:
        """The track's peaks per HOP on the arrangement (its clips where they are placed)."""
        clips = song.tracks[index].audio_clips()
        if not clips:
            return None
        frame_of = arrangement_frames(song, RATE)
        parts = []
        for clip in clips:
            peaks = self.file_peaks(clip.path)
            if peaks is not None:
                parts.append((frame_of(clip.tick) // HOP, peaks))
        if not parts:
            return None
        total = np.zeros(max(start + len(p) for start, p in parts))
        for start, peaks in parts:
            np.maximum(
                total[start : start + len(peaks)], peaks, out=total[start : start + len(peaks)]
            )
        return total

    def row_levels(self, song: Song, index: int, pattern: int) -> list[float] | None:
        """The level (0..1) of each row of `pattern` where it first stands in the order list,
        or None when the track has no audio to show."""
        peaks = self.track_peaks(song, index)
        if peaks is None or pattern not in song.patterns:
            return None
        start = 0
        for pid in song.order:
            if pid == pattern:
                break
            start += song.pattern_ticks(pid)
        else:
            return None
        frame_of = arrangement_frames(song, RATE)
        tpl = song.ticks_per_line
        levels = []
        for row in range(song.patterns[pattern].length):
            first = frame_of(start + row * tpl) // HOP
            last = max(first + 1, frame_of(start + (row + 1) * tpl) // HOP)
            chunk = peaks[first:last]
            levels.append(level(float(chunk.max())) if len(chunk) else 0.0)
        return levels

    def overview(self, song: Song, index: int, width: int) -> str | None:
        """The whole track's audio in `width` characters, or None without audio."""
        peaks = self.track_peaks(song, index)
        if peaks is None or not len(peaks):
            return None
        edges = np.linspace(0, len(peaks), width + 1).astype(int)
        return sparkline(
            [level(float(peaks[a:b].max())) if b > a else 0.0 for a, b in itertools.pairwise(edges)]
        )
