"""MIDI import: opening the file, and the song grid that keeps every one of its ticks.

The grid is chosen so one song tick is one file tick: lines_per_beat divides the file's ticks per
beat (ppq) and an event lands on row `tick // ticks_per_line` with the remainder as its delay. A
ppq that fits no grid (every choice leaves more than 256 ticks per line, e.g. a large prime) is
rescaled to 960 ppq, rounding each tick: events then move by at most half a tick (0.26 ms at
120 BPM).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido

from tracker.midi.import_report import ImportReport
from tracker.model.errors import SongFormatError
from tracker.model.song import MAX_TICKS_PER_LINE

MAX_FILE_BYTES = 64 << 20
MAX_REASON_CHARS = 120
LINES_PER_BEAT_CHOICES = (4, 8, 2, 6, 3, 12, 16, 1)
RESCALED_LINES_PER_BEAT = 4
RESCALED_TICKS_PER_LINE = 240  # 960 ppq


@dataclass(frozen=True, slots=True)
class Grid:
    lines_per_beat: int
    ticks_per_line: int
    source_ppq: int

    @property
    def ppq(self) -> int:
        return self.lines_per_beat * self.ticks_per_line

    def tick(self, file_tick: int) -> int:
        """The song tick of a file tick."""
        if self.source_ppq == self.ppq:
            return file_tick
        # Integer round-half-up from the absolute tick, so rounding never accumulates.
        return (2 * file_tick * self.ppq + self.source_ppq) // (2 * self.source_ppq)


def read_midi_file(path: Path) -> Any:
    """Parse the file with mido, turning every failure into one SongFormatError."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SongFormatError(path, error.strerror or str(error)) from error
    if size > MAX_FILE_BYTES:
        raise SongFormatError(path, f"file is {size >> 20} MiB; MIDI files over 64 MiB are refused")
    try:
        midi = mido.MidiFile(path)
    except Exception as error:  # mido raises OSError, EOFError, ValueError, IndexError, …
        raise SongFormatError(path, _reason(error)) from error
    if midi.type == 2:
        raise SongFormatError(path, "type 2 MIDI files are not supported")
    if midi.ticks_per_beat <= 0:
        raise SongFormatError(
            path, f"ticks per beat is {midi.ticks_per_beat}: SMPTE time is not supported"
        )
    return midi


def _reason(error: Exception) -> str:
    if isinstance(error, EOFError):
        return "not a MIDI file, or truncated: the data ends inside a chunk"
    if isinstance(error, OSError) and error.errno is not None:
        return error.strerror or str(error)  # the file itself: missing, a folder, unreadable
    text = " ".join(str(error).split()) or type(error).__name__
    if len(text) > MAX_REASON_CHARS:  # mido puts whole values in its messages, of any length
        text = text[:MAX_REASON_CHARS] + "…"
    return f"corrupt MIDI file: {text}"


def choose_grid(ppq: int, report: ImportReport) -> Grid:
    """The first lines-per-beat choice that divides `ppq` finely enough, else the 960 ppq grid."""
    report.source_ppq = ppq
    for lpb in LINES_PER_BEAT_CHOICES:
        if ppq % lpb == 0 and ppq // lpb <= MAX_TICKS_PER_LINE:
            return Grid(lpb, ppq // lpb, ppq)
    report.rescaled = True
    return Grid(RESCALED_LINES_PER_BEAT, RESCALED_TICKS_PER_LINE, ppq)
