"""Standard MIDI File import (type 0 and 1) into a Song, keeping every tick.

The song's grid is chosen so one song tick is one file tick: lines_per_beat divides the file's
ticks per beat (ppq) and an event lands on row `tick // ticks_per_line` with the remainder as its
delay. A ppq that fits no grid (every choice leaves more than 256 ticks per line, e.g. a large
prime) is rescaled to 960 ppq, rounding each tick: events then move by at most half a tick
(0.26 ms at 120 BPM).

A tracker column holds one event per row, so three things need care:
- overlapping notes, or an OFF and a new note in one row, spread over several note columns;
- a note that starts and ends within one row has no room for its own OFF cell, so it is written
  with the row's `L` (note length) effect instead. `L` applies to every note starting on that row
  of the track, so a note of another length starting on the same row moves to an extra track on
  the same channel (a "lane", named "<track> lane 2"), as does a 17th simultaneous note;
- effects share up to 8 effect columns per row; tempo changes are song-wide, so when the first
  track's row is full they go to the next track's row.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import mido

from tracker.model.errors import SongFormatError
from tracker.model.song import (
    MAX_BPM,
    MAX_TICKS_PER_LINE,
    MIN_BPM,
    OFF,
    EffectCell,
    NoteCell,
    Pattern,
    Song,
    Track,
    TrackKind,
)

PresetLookup = Callable[[int, int], str]  # (channel 1..16, program 0..127) → preset name

MAX_FILE_BYTES = 64 << 20
MAX_TRACKS = 256
MAX_NOTE_COLUMNS = 16
MAX_EFFECT_COLUMNS = 8
MAX_PATTERNS = 4096  # 65536 beats: nine hours at 120 BPM
MAX_NAME_CHARS = 64
BEATS_PER_PATTERN = 16
LINES_PER_BEAT_CHOICES = (4, 8, 2, 6, 3, 12, 16, 1)
RESCALED_LINES_PER_BEAT = 4
RESCALED_TICKS_PER_LINE = 240  # 960 ppq
DEFAULT_BPM = 120.0
PITCH_BEND_CENTRE = 8192

_CHANNEL_TYPES = frozenset(
    {"note_on", "note_off", "control_change", "pitchwheel", "program_change"}
)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")

# Effect kinds, to find the last value of each controller in a crowded row.
_KIND_BEND = 128
_KIND_PROGRAM = 129
_KIND_TEMPO = 130
_KIND_LENGTH = 131


@dataclass(slots=True)
class ImportReport:
    """What the import had to change; the CLI shows `warnings()`. Timing is otherwise exact."""

    source_ppq: int = 0
    rescaled: bool = False  # ticks rounded to the 960 ppq grid
    dropped_effects: int = 0  # controller/bend values (programs last) beyond 8 effects on a row
    lane_tracks: int = 0  # extra tracks for notes that could not share a row
    lengthened_notes: int = 0  # zero-length notes, which a tracker cannot hold, made 1 tick long
    unterminated_notes: int = 0  # ended at the end of their MIDI track
    stray_note_offs: int = 0  # note-offs with no note sounding
    clamped_tempos: int = 0  # tempos outside MIN_BPM..MAX_BPM
    skipped_messages: int = 0  # aftertouch, poly pressure, sysex

    def warnings(self) -> list[str]:
        """One line per lossy or surprising change, for the command line."""
        lines: list[str] = []
        if self.rescaled:
            lines.append(
                f"{self.source_ppq} ticks per beat fits no tracker grid: rescaled to 960, "
                "events moved by at most half a tick"
            )
        if self.dropped_effects:
            lines.append(
                f"dropped {self.dropped_effects} controller/bend value(s) "
                f"(more than {MAX_EFFECT_COLUMNS} effects on one row)"
            )
        if self.lane_tracks:
            lines.append(f"added {self.lane_tracks} extra track(s) for notes sharing a row")
        if self.unterminated_notes:
            lines.append(
                f"{self.unterminated_notes} note(s) never released: ended with their track"
            )
        if self.lengthened_notes:
            lines.append(f"lengthened {self.lengthened_notes} zero-length note(s) to one tick")
        if self.clamped_tempos:
            lines.append(f"clamped {self.clamped_tempos} tempo(s) to {MIN_BPM:g}..{MAX_BPM:g} BPM")
        if self.skipped_messages:
            lines.append(f"skipped {self.skipped_messages} aftertouch/sysex message(s)")
        return lines


@dataclass(frozen=True, slots=True)
class _Grid:
    lines_per_beat: int
    ticks_per_line: int
    source_ppq: int

    @property
    def ppq(self) -> int:
        return self.lines_per_beat * self.ticks_per_line

    def tick(self, file_tick: int) -> int:
        if self.source_ppq == self.ppq:
            return file_tick
        # Integer round-half-up from the absolute tick, so rounding never accumulates.
        return (2 * file_tick * self.ppq + self.source_ppq) // (2 * self.source_ppq)


class _Effect(NamedTuple):
    tick: int
    seq: int  # file order, to keep same-tick values of one controller in order
    kind: int  # controller number, or one of the _KIND_ constants
    command: str
    value: float


@dataclass(slots=True)
class _Note:
    start: int
    end: int
    pitch: int
    velocity: int
    seq: int


@dataclass(slots=True)
class _Voice:
    """One (MIDI track, channel) pair: one song track, plus lanes if its notes need them."""

    midi_track: int
    channel: int  # 1..16
    notes: list[_Note] = field(default_factory=list)
    effects: list[_Effect] = field(default_factory=list)
    program: int | None = None


@dataclass(slots=True)
class _Scan:
    """Everything the import needs from the file, in song ticks."""

    voices: dict[tuple[int, int], _Voice] = field(default_factory=dict)
    notes: list[tuple[int, int, int, int, int, int, int]] = field(default_factory=list)
    tempos: list[tuple[int, int, int, int]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    track_ends: list[int] = field(default_factory=list)
    time_signature: tuple[int, int, int, int, int] | None = None
    channel_programs: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


# ---------------------------------------------------------------------------------------------
# Reading


def _read(path: Path) -> Any:
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
    return f"corrupt MIDI file: {text}"


def _grid(ppq: int, report: ImportReport) -> _Grid:
    report.source_ppq = ppq
    for lpb in LINES_PER_BEAT_CHOICES:
        if ppq % lpb == 0 and ppq // lpb <= MAX_TICKS_PER_LINE:
            return _Grid(lpb, ppq // lpb, ppq)
    report.rescaled = True
    return _Grid(RESCALED_LINES_PER_BEAT, RESCALED_TICKS_PER_LINE, ppq)


def _scan(midi: Any, grid: _Grid, report: ImportReport) -> _Scan:
    scan = _Scan()
    for index, track in enumerate(midi.tracks):
        file_tick = 0
        for position, message in enumerate(track):
            file_tick += message.time
            _take(scan, index, position, grid.tick(file_tick), message, report)
        scan.track_ends.append(grid.tick(file_tick))
    return scan


def _take(
    scan: _Scan, index: int, position: int, tick: int, message: Any, report: ImportReport
) -> None:
    kind = message.type
    if kind in _CHANNEL_TYPES:
        _take_channel(scan, index, position, tick, message)
    elif kind == "set_tempo":
        scan.tempos.append((tick, index, position, message.tempo))
    elif kind == "track_name":
        scan.names.setdefault(index, _clean(message.name))
    elif kind == "time_signature":
        found = (tick, index, position, message.numerator, message.denominator)
        if scan.time_signature is None or found < scan.time_signature:
            scan.time_signature = found
    elif not message.is_meta:
        report.skipped_messages += 1


def _take_channel(scan: _Scan, index: int, position: int, tick: int, message: Any) -> None:
    channel = message.channel + 1
    key = (index, channel)
    voice = scan.voices.get(key)
    if voice is None:
        voice = scan.voices[key] = _Voice(index, channel)
    kind = message.type
    if kind == "note_on" or kind == "note_off":
        velocity = message.velocity if kind == "note_on" else 0
        scan.notes.append((tick, index, position, velocity, channel, message.note, scan.seq))
        scan.seq += 1
    elif kind == "control_change":
        value = message.control * 256 + message.value
        voice.effects.append(_Effect(tick, scan.next_seq(), message.control, "C", value))
    elif kind == "pitchwheel":
        value = message.pitch + PITCH_BEND_CENTRE
        voice.effects.append(_Effect(tick, scan.next_seq(), _KIND_BEND, "B", value))
    else:
        program = message.program
        voice.effects.append(_Effect(tick, scan.next_seq(), _KIND_PROGRAM, "P", program))
        if voice.program is None:
            voice.program = program
        first = (tick, index, position, program)
        if channel not in scan.channel_programs or first < scan.channel_programs[channel]:
            scan.channel_programs[channel] = first


def _clean(text: str) -> str:
    # Names end up in song files and on one screen line: no control characters, no length bombs.
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())[:MAX_NAME_CHARS]


# ---------------------------------------------------------------------------------------------
# Notes: pair ons and offs like mido plays them, then place them in columns and lanes


def _pair_notes(scan: _Scan, report: ImportReport) -> None:
    """FIFO per (channel, pitch) over all tracks in playback order, as a synth would hear them."""
    scan.notes.sort()
    sounding: dict[tuple[int, int], deque[tuple[int, int, int, int]]] = defaultdict(deque)
    for tick, index, _, velocity, channel, pitch, seq in scan.notes:
        queue = sounding[(channel, pitch)]
        if velocity:
            queue.append((tick, velocity, index, seq))
        elif queue:
            start, on_velocity, on_index, on_seq = queue.popleft()
            _add_note(
                scan, report, on_index, channel, _Note(start, tick, pitch, on_velocity, on_seq)
            )
        else:
            report.stray_note_offs += 1
    for (channel, pitch), queue in sounding.items():
        for start, velocity, index, seq in queue:
            report.unterminated_notes += 1
            end = scan.track_ends[index]
            _add_note(scan, report, index, channel, _Note(start, end, pitch, velocity, seq))
    for voice in scan.voices.values():
        voice.notes.sort(key=lambda n: (n.start, n.seq))


def _add_note(scan: _Scan, report: ImportReport, index: int, channel: int, note: _Note) -> None:
    if note.end <= note.start:
        # A note-off at the note-on's own tick would be sequenced before it (offs come first).
        note.end = note.start + 1
        report.lengthened_notes += 1
    scan.voices[(index, channel)].notes.append(note)


@dataclass(slots=True)
class _Column:
    end: int = -1  # tick the column's last note ends
    last_row: int = -1  # last row holding a cell of this column
    off_pending: bool = False  # the last note still needs an OFF cell (or a next note at `end`)


@dataclass(slots=True)
class _Lane:
    """One song track's notes while they are being placed."""

    columns: list[_Column] = field(default_factory=list)
    row_lengths: dict[int, int | None] = field(default_factory=dict)  # row → its `L`, None: none
    cells: list[tuple[int, int, NoteCell]] = field(default_factory=list)  # (row, column, cell)
    effects: list[_Effect] = field(default_factory=list)

    def place(self, note: _Note, tpl: int, song_end: int, first_column: int = 0) -> int | None:
        """Write the note here if its row and a column from `first_column` on can take it;
        return the column, or None."""
        row = note.start // tpl
        length = note.end - note.start if note.end // tpl == row else None
        if self.row_lengths.get(row, length) != length:
            return None
        index = self._free_column(note.start, row, tpl, first_column)
        if index is None:
            return None
        column = self.columns[index]
        if column.off_pending and column.end < note.start:
            self._write_off(index, tpl, song_end)
        self.cells.append(
            (row, index, NoteCell(note.pitch, None, note.velocity, _delay(note.start, tpl)))
        )
        if row not in self.row_lengths:
            self.row_lengths[row] = length
            if length is not None:
                self.effects.append(_Effect(row * tpl, -1, _KIND_LENGTH, "L", length))
        column.end = note.end
        column.last_row = row
        # A short note is released by its row's `L`; a longer one needs an OFF later.
        column.off_pending = length is None
        return index

    def _free_column(self, start: int, row: int, tpl: int, first: int) -> int | None:
        for index in range(first, len(self.columns)):
            if _column_takes(self.columns[index], start, row, tpl):
                return index
        if len(self.columns) < MAX_NOTE_COLUMNS:
            self.columns.append(_Column())
            return len(self.columns) - 1
        return None

    def _write_off(self, index: int, tpl: int, song_end: int) -> None:
        column = self.columns[index]
        column.off_pending = False
        if column.end >= song_end:
            return  # the sequencer releases what still sounds at the song's end, at that tick
        column.last_row = column.end // tpl
        self.cells.append((column.last_row, index, NoteCell(OFF, delay=_delay(column.end, tpl))))

    def finish(self, tpl: int, song_end: int) -> None:
        for index, column in enumerate(self.columns):
            if column.off_pending:
                self._write_off(index, tpl, song_end)


def _column_takes(column: _Column, start: int, row: int, tpl: int) -> bool:
    """May a note starting at `start` (on `row`) go into this column?"""
    if column.last_row >= row or column.end > start:
        return False
    if column.end == start or not column.off_pending:
        # A new note releases the column's old one at its own tick: no OFF cell needed.
        return True
    return column.end // tpl < row  # the OFF must sit on an earlier row than the new note


def _delay(tick: int, tpl: int) -> int | None:
    return tick % tpl or None


def _place_voice(voice: _Voice, tpl: int, song_end: int) -> list[_Lane]:
    lanes = [_Lane()]
    # Notes of one pitch starting on one tick must be sequenced in file order, lane by lane and
    # column by column, or their note-offs would pair with the wrong note-ons on export.
    placed: dict[tuple[int, int], tuple[int, int]] = {}
    for note in voice.notes:
        lane_index, column = placed.get((note.start, note.pitch), (0, -1))
        first_column = column + 1
        while True:
            if lane_index == len(lanes):
                lanes.append(_Lane())
            column = lanes[lane_index].place(note, tpl, song_end, first_column)
            if column is not None:
                break
            lane_index, first_column = lane_index + 1, 0
        placed[(note.start, note.pitch)] = (lane_index, column)
    for lane in lanes:
        lane.finish(tpl, song_end)
    lanes[0].effects.extend(voice.effects)
    return lanes


# ---------------------------------------------------------------------------------------------
# Tempo and effects


def _tempo_changes(scan: _Scan, report: ImportReport) -> list[tuple[int, float]]:
    """(tick, BPM) in playback order; of several at one tick the last wins, as in playback."""
    by_tick: dict[int, float] = {}
    for tick, _, _, tempo in sorted(scan.tempos):
        bpm = mido.tempo2bpm(tempo) if tempo > 0 else math.inf
        if not MIN_BPM <= bpm <= MAX_BPM:
            report.clamped_tempos += 1
            bpm = min(max(bpm, MIN_BPM), MAX_BPM)
        by_tick[tick] = bpm
    return sorted(by_tick.items())


def _tempo_effects(changes: list[tuple[int, float]], bpm: float) -> list[_Effect]:
    effects = [_Effect(t, i, _KIND_TEMPO, "T", b) for i, (t, b) in enumerate(changes) if t > 0]
    if effects:
        # Restate the start tempo on row 0, so a loop back to the start plays at it again.
        effects.insert(0, _Effect(0, -1, _KIND_TEMPO, "T", bpm))
    return effects


def _by_row(effects: Iterable[_Effect], tpl: int) -> dict[int, list[_Effect]]:
    rows: dict[int, list[_Effect]] = defaultdict(list)
    for effect in effects:
        rows[effect.tick // tpl].append(effect)
    return rows


def _spread_tempos(
    tempos: list[_Effect], lanes: list[dict[int, list[_Effect]]], tpl: int, path: Path
) -> None:
    """Put each tempo in the first track whose row has room beside its note lengths."""
    for row, row_tempos in _by_row(tempos, tpl).items():
        pending = deque(row_tempos)
        for rows in lanes:
            effects = rows[row]
            taken = sum(1 for e in effects if e.kind in (_KIND_TEMPO, _KIND_LENGTH))
            while pending and taken < MAX_EFFECT_COLUMNS:
                effects.append(pending.popleft())
                taken += 1
            if not pending:
                break
        if pending:
            raise SongFormatError(path, f"too many tempo changes on row {row} to fit any track")


def _fit_row(effects: list[_Effect]) -> tuple[list[_Effect], int]:
    """At most MAX_EFFECT_COLUMNS effects, in time order, and how many were dropped.

    Kept first: tempos and note lengths (dropping one would move notes in time), then program
    changes, then the last value of each controller on the row (the value that lasts), then
    earlier controller and bend values.
    """
    effects.sort(key=lambda e: (e.tick, e.seq))
    if len(effects) <= MAX_EFFECT_COLUMNS:
        return effects, 0
    last = {e.kind: i for i, e in enumerate(effects)}

    def keep_first(i: int) -> tuple[int, int]:
        kind = effects[i].kind
        if kind in (_KIND_TEMPO, _KIND_LENGTH):
            return (0, i)
        if kind == _KIND_PROGRAM:
            return (1, i)
        return (2 if last[kind] == i else 3, i)

    kept = sorted(sorted(range(len(effects)), key=keep_first)[:MAX_EFFECT_COLUMNS])
    return [effects[i] for i in kept], len(effects) - len(kept)


# ---------------------------------------------------------------------------------------------
# Assembly


def _voices(scan: _Scan) -> list[_Voice]:
    voices = [scan.voices[key] for key in sorted(scan.voices)]
    # A file of meta events only still gets one (empty) track to hold its tempo map.
    return voices or [_Voice(0, 1)]


def _voice_names(voices: list[_Voice], scan: _Scan, midi_type: int) -> list[str]:
    channels_in: defaultdict[int, int] = defaultdict(int)
    for voice in voices:
        channels_in[voice.midi_track] += 1
    names: list[str] = []
    for voice in voices:
        name = scan.names.get(voice.midi_track, "") if midi_type == 1 else ""
        if not name:
            names.append(f"Ch {voice.channel}")
        elif channels_in[voice.midi_track] > 1:
            names.append(f"{name} ch {voice.channel}")
        else:
            names.append(name)
    return names


def _unique(name: str, used: set[str]) -> str:
    # Tracks are found by name on the command line, so names must not repeat.
    candidate, number = name, 2
    while candidate in used:
        candidate = f"{name} ({number})"
        number += 1
    used.add(candidate)
    return candidate


def _instrument(
    voice: _Voice, scan: _Scan, instruments: dict[int, str], preset_for: PresetLookup
) -> int:
    program = voice.program
    if program is None:
        first = scan.channel_programs.get(voice.channel)
        program = first[3] if first else 0
    preset = preset_for(voice.channel, program)
    for number, name in instruments.items():
        if name == preset:
            return number
    number = len(instruments) + 1
    instruments[number] = preset
    return number


def _song_end(scan: _Scan, effects: Iterable[_Effect], grid: _Grid) -> int:
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


def _patterns(song_end: int, grid: _Grid, path: Path) -> dict[int, Pattern]:
    rows = song_end // grid.ticks_per_line
    per_pattern = BEATS_PER_PATTERN * grid.lines_per_beat
    count = -(-rows // per_pattern)
    if count > MAX_PATTERNS:
        raise SongFormatError(path, f"the song would need {count} patterns (limit {MAX_PATTERNS})")
    return {i: Pattern(min(per_pattern, rows - i * per_pattern)) for i in range(count)}


def _write_lane(
    song: Song, track: int, lane: _Lane, rows: dict[int, list[_Effect]]
) -> tuple[int, int]:
    """Write a lane's cells into the patterns; return (effect columns used, effects dropped)."""
    tpl = song.ticks_per_line
    patterns = song.patterns
    per_pattern = BEATS_PER_PATTERN * song.lines_per_beat
    for row, column, cell in lane.cells:
        patterns[row // per_pattern].set_note(track, row % per_pattern, column, cell)
    widest, dropped = 1, 0
    for row, effects in rows.items():
        kept, lost = _fit_row(effects)
        dropped += lost
        widest = max(widest, len(kept))
        pattern = patterns[row // per_pattern]
        for column, effect in enumerate(kept):
            cell = EffectCell(effect.command, effect.value, _delay(effect.tick, tpl))
            pattern.set_effect(track, row % per_pattern, column, cell)
    return widest, dropped


def _default_presets() -> PresetLookup:
    # Imported here: midi/ must not pull in the synth engine just to be imported.
    from tracker.dsp.gm import preset_for_track

    return preset_for_track


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
    midi = _read(path)
    grid = _grid(midi.ticks_per_beat, report)
    scan = _scan(midi, grid, report)
    _pair_notes(scan, report)
    changes = _tempo_changes(scan, report)
    bpm = changes[0][1] if changes and changes[0][0] == 0 else DEFAULT_BPM
    tempos = _tempo_effects(changes, bpm)
    voices = _voices(scan)
    song_end = _song_end(scan, [*tempos, *(e for v in voices for e in v.effects)], grid)
    song = Song(
        title=scan.names.get(0) or _clean(path.stem) or "Untitled",
        bpm=bpm,
        lines_per_beat=grid.lines_per_beat,
        ticks_per_line=grid.ticks_per_line,
        swing=50.0,
        time_signature=_time_signature(scan),
        patterns=_patterns(song_end, grid, path),
    )
    _build_tracks(song, scan, voices, tempos, song_end, midi.type, preset_for, path, report)
    song.order = list(range(len(song.patterns)))
    return song, report


def import_midi(path: str | Path, preset_for: PresetLookup | None = None) -> Song:
    """Read a type 0 or type 1 MIDI file into a new Song (see import_midi_report)."""
    return import_midi_report(path, preset_for)[0]


def _time_signature(scan: _Scan) -> tuple[int, int]:
    if scan.time_signature is None:
        return (4, 4)
    numerator, denominator = scan.time_signature[3:]
    if not 1 <= numerator <= 99 or denominator > 64:
        return (4, 4)  # nonsense in the file; the grid does not depend on it
    return (numerator, denominator)


def _build_tracks(
    song: Song,
    scan: _Scan,
    voices: list[_Voice],
    tempos: list[_Effect],
    song_end: int,
    midi_type: int,
    preset_for: PresetLookup | None,
    path: Path,
    report: ImportReport,
) -> None:
    tpl = song.ticks_per_line
    lookup = preset_for or _default_presets()
    placed = [(voice, _place_voice(voice, tpl, song_end)) for voice in voices]
    total = sum(len(lanes) for _, lanes in placed)
    if total > MAX_TRACKS:
        raise SongFormatError(path, f"the file needs {total} tracks (limit {MAX_TRACKS})")
    report.lane_tracks = total - len(placed)
    lanes = [lane for _, voice_lanes in placed for lane in voice_lanes]
    rows = [_by_row(lane.effects, tpl) for lane in lanes]
    _spread_tempos(tempos, rows, tpl, path)
    used: set[str] = set()
    names = _voice_names(voices, scan, midi_type)
    track = 0
    for (voice, voice_lanes), name in zip(placed, names, strict=True):
        instrument = _instrument(voice, scan, song.instruments, lookup)
        for number, lane in enumerate(voice_lanes, start=1):
            lane_name = name if number == 1 else f"{name} lane {number}"
            effect_columns, dropped = _write_lane(song, track, lane, rows[track])
            report.dropped_effects += dropped
            song.tracks.append(
                Track(
                    _unique(lane_name, used),
                    kind=TrackKind.INSTRUMENT,
                    instrument=instrument,
                    channel=voice.channel,
                    note_columns=max(1, len(lane.columns)),
                    effect_columns=effect_columns,
                )
            )
            track += 1
