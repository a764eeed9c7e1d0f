"""Standard MIDI File import (type 0 and 1) into a Song, keeping every tick.

The work is done in steps, one module each:
- `import_reader`: open the file and choose the song grid (one song tick per file tick);
- `import_scan`: collect its messages in song ticks and pair notes per (track, channel);
- `import_lanes`: place each voice's notes into note columns, and extra tracks (lanes) if needed;
- `import_effects`: fit controllers, note lengths and song-wide tempos into the effect columns;
- `import_tracks`: lay out the patterns and add one track per voice and lane;
- `import_report`: what had to change, for the command line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import mido

from tracker.midi.import_effects import Effect, tempo_effects
from tracker.midi.import_reader import Grid, choose_grid, read_midi_file
from tracker.midi.import_report import ImportReport
from tracker.midi.import_scan import Scan, clean_name, scan_midi
from tracker.midi.import_tracks import PresetLookup, build_tracks, empty_patterns, song_voices
from tracker.model.errors import SongFormatError
from tracker.model.serialize_common import MAX_BEATS_PER_BAR, MAX_FILE_BYTES, min_row_chars
from tracker.model.song import MAX_BPM, MIN_BPM, Song

__all__ = ["ImportReport", "PresetLookup", "import_midi", "import_midi_report"]

DEFAULT_BPM = 120.0


def import_midi_report(
    path: str | Path, preset_for: PresetLookup | None = None
) -> tuple[Song, ImportReport]:
    """Read a type 0 or type 1 MIDI file into a new Song, and report what had to change.

    Args:
        path: the .mid file.
        preset_for: (channel 1..16, program) → preset name; default `tracker.dsp.gm`.

    Raises:
        SongFormatError: the file cannot be read, is type 2 or SMPTE-timed, or is absurd.
    """
    path = Path(path)
    report = ImportReport()
    midi = read_midi_file(path)
    grid = choose_grid(midi.ticks_per_beat, report)
    scan = scan_midi(midi, grid, report)
    changes = _tempo_changes(scan, report)
    bpm = changes[0][1] if changes and changes[0][0] == 0 else DEFAULT_BPM
    tempos = tempo_effects(changes, bpm)
    voices = song_voices(scan)
    song_end = _song_end(scan, [*tempos, *(e for v in voices for e in v.effects)], grid)
    song = Song(
        title=scan.names.get(0) or clean_name(path.stem) or "Untitled",
        bpm=bpm,
        lines_per_beat=grid.lines_per_beat,
        ticks_per_line=grid.ticks_per_line,
        swing=50.0,
        time_signature=_time_signature(scan),
        patterns=empty_patterns(song_end, grid, path),
    )
    lookup = preset_for or _default_presets()
    build_tracks(song, scan, voices, tempos, song_end, midi.type, lookup, path, report)
    rows = sum(pattern.length for pattern in song.patterns.values())
    if rows * min_row_chars(song.tracks) > MAX_FILE_BYTES:
        # The same bound the song reader applies: the import must be a song that can be saved.
        size = f"{len(song.tracks)} tracks, {rows} rows"
        raise SongFormatError(path, f"the song would take more than 64 MiB written out ({size})")
    song.order = list(range(len(song.patterns)))
    return song, report


def import_midi(path: str | Path, preset_for: PresetLookup | None = None) -> Song:
    """Read a type 0 or type 1 MIDI file into a new Song (see import_midi_report)."""
    return import_midi_report(path, preset_for)[0]


def _default_presets() -> PresetLookup:
    # Imported here: midi/ must not pull in the synth engine just to be imported.
    from tracker.dsp.gm import preset_for_track

    return preset_for_track


def _tempo_changes(scan: Scan, report: ImportReport) -> list[tuple[int, float]]:
    """(tick, BPM) in playback order; of several at one tick the last wins, as in playback."""
    by_tick: dict[int, float] = {}
    for tick, _, _, tempo in sorted(scan.tempos):
        bpm = mido.tempo2bpm(tempo) if tempo > 0 else math.inf
        if not MIN_BPM <= bpm <= MAX_BPM:
            report.clamped_tempos += 1
            bpm = min(max(bpm, MIN_BPM), MAX_BPM)
        by_tick[tick] = bpm
    return sorted(by_tick.items())


def _time_signature(scan: Scan) -> tuple[int, int]:
    if scan.time_signature is None:
        return (4, 4)
    numerator, denominator = scan.time_signature[3:]
    if not 1 <= numerator <= MAX_BEATS_PER_BAR or denominator > 64:
        return (4, 4)  # nonsense in the file; the grid does not depend on it
    return (numerator, denominator)


def _song_end(scan: Scan, effects: Iterable[Effect], grid: Grid) -> int:
    """The song's end tick: past every event, at least the file's end, on a whole beat."""
    tpl = grid.ticks_per_line
    end = max(scan.track_ends, default=0)
    for voice in scan.voices.values():
        for note in voice.notes:
            end = max(end, note.end, (note.start // tpl + 1) * tpl)
    for effect in effects:
        end = max(end, (effect.tick // tpl + 1) * tpl)
    beats = max(1, -(-end // grid.ppq))
    return beats * grid.ppq
