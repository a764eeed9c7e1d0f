"""MIDI import: every message of the file in song ticks, and notes paired per (track, channel).

Each (MIDI track, channel) pair becomes a Voice: one song track, plus lanes if its notes need them.
Note-ons and note-offs pair up the way a synth would hear them in playback, over all tracks.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from tracker.midi.import_effects import KIND_BEND, KIND_PROGRAM, Effect
from tracker.midi.import_reader import Grid
from tracker.midi.import_report import ImportReport
from tracker.model.serialize_common import FORBIDDEN_IN_STRING

MAX_NAME_CHARS = 64
PITCH_BEND_CENTRE = 8192

_CHANNEL_TYPES = frozenset(
    {"note_on", "note_off", "control_change", "pitchwheel", "program_change"}
)


@dataclass(slots=True)
class Note:
    start: int
    end: int
    pitch: int
    velocity: int
    seq: int


@dataclass(slots=True)
class Voice:
    """One (MIDI track, channel) pair: one song track, plus lanes if its notes need them."""

    midi_track: int
    channel: int  # 1..16
    notes: list[Note] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    program: int | None = None


@dataclass(slots=True)
class Scan:
    """Everything the import needs from the file, in song ticks."""

    voices: dict[tuple[int, int], Voice] = field(default_factory=dict)
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


def scan_midi(midi: Any, grid: Grid, report: ImportReport) -> Scan:
    """Collect the file's messages, then pair its notes into each Voice."""
    scan = Scan()
    for index, track in enumerate(midi.tracks):
        file_tick = 0
        for position, message in enumerate(track):
            file_tick += message.time
            _take(scan, index, position, grid.tick(file_tick), message, report)
        scan.track_ends.append(grid.tick(file_tick))
    _pair_notes(scan, report)
    return scan


def clean_name(text: str) -> str:
    # Names end up in song files and on one screen line: no control characters, no length bombs.
    return " ".join(FORBIDDEN_IN_STRING.sub(" ", text).split())[:MAX_NAME_CHARS]


def _take(
    scan: Scan, index: int, position: int, tick: int, message: Any, report: ImportReport
) -> None:
    kind = message.type
    if kind in _CHANNEL_TYPES:
        _take_channel(scan, index, position, tick, message)
    elif kind == "set_tempo":
        scan.tempos.append((tick, index, position, message.tempo))
    elif kind == "track_name":
        scan.names.setdefault(index, clean_name(message.name))
    elif kind == "time_signature":
        found = (tick, index, position, message.numerator, message.denominator)
        if scan.time_signature is None or found < scan.time_signature:
            scan.time_signature = found
    elif not message.is_meta:
        report.skipped_messages += 1


def _take_channel(scan: Scan, index: int, position: int, tick: int, message: Any) -> None:
    channel = message.channel + 1
    key = (index, channel)
    voice = scan.voices.get(key)
    if voice is None:
        voice = scan.voices[key] = Voice(index, channel)
    kind = message.type
    if kind == "note_on" or kind == "note_off":
        velocity = message.velocity if kind == "note_on" else 0
        scan.notes.append((tick, index, position, velocity, channel, message.note, scan.seq))
        scan.seq += 1
    elif kind == "control_change":
        value = message.control * 256 + message.value
        voice.effects.append(Effect(tick, scan.next_seq(), message.control, "C", value))
    elif kind == "pitchwheel":
        value = message.pitch + PITCH_BEND_CENTRE
        voice.effects.append(Effect(tick, scan.next_seq(), KIND_BEND, "B", value))
    else:
        program = message.program
        voice.effects.append(Effect(tick, scan.next_seq(), KIND_PROGRAM, "P", program))
        if voice.program is None:
            voice.program = program
        first = (tick, index, position, program)
        if channel not in scan.channel_programs or first < scan.channel_programs[channel]:
            scan.channel_programs[channel] = first


def _pair_notes(scan: Scan, report: ImportReport) -> None:
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
                scan, report, on_index, channel, Note(start, tick, pitch, on_velocity, on_seq)
            )
        else:
            report.stray_note_offs += 1
    for (channel, pitch), queue in sounding.items():
        for start, velocity, index, seq in queue:
            report.unterminated_notes += 1
            end = scan.track_ends[index]
            _add_note(scan, report, index, channel, Note(start, end, pitch, velocity, seq))
    for voice in scan.voices.values():
        voice.notes.sort(key=lambda n: (n.start, n.seq))


def _add_note(scan: Scan, report: ImportReport, index: int, channel: int, note: Note) -> None:
    if note.end <= note.start:
        # A note-off at the note-on's own tick would be sequenced before it (offs come first).
        note.end = note.start + 1
        report.lengthened_notes += 1
    scan.voices[(index, channel)].notes.append(note)
