"""The song: tracks, patterns of tracker rows, an order list. Pure data, no I/O.

Time is counted in integer ticks: a row (line) is `ticks_per_line` ticks, a beat is
`lines_per_beat` rows. Only a tempo map (engine/tempo_map.py) turns ticks into frames or seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

OFF = -1  # note-off (`OFF` in a file): release the column's note
CUT = -2  # note cut (`^^^` in a file): silence the column's note at once

DEFAULT_VELOCITY = 100
MAX_TICKS_PER_LINE = 256  # the delay column holds two hex digits
MIN_BPM = 1.0
MAX_BPM = 999.0

# Effect commands (letter → meaning); values are hex except tempo, which is decimal BPM.
EFFECTS = {
    "C": "control change: CCvv, controller CC, value vv",
    "B": "pitch bend: vvvv from 0000 to 3FFF, 2000 is centre",
    "P": "program change: pp",
    "A": "channel aftertouch (pressure): vv",
    "R": "retrigger the row's notes every xx ticks",
    "L": "note length: release the row's notes after xxxx ticks",
    "T": "tempo: BPM in decimal, e.g. T128 or T92.5",
}


class TrackKind(Enum):
    INSTRUMENT = "instrument"  # notes played by a built-in instrument
    MIDI = "midi"  # notes sent to a MIDI port
    AUDIO = "audio"  # clips of recorded or rendered audio
    GROUP = "group"  # sums the tracks whose output names it
    RETURN = "return"  # an effect bus fed by other tracks' sends


@dataclass(slots=True)
class EffectSpec:
    """A built-in effect in a track's (or the master's) chain: its kind (`delay`, `reverb`,
    `filter`, `limiter`) and the parameters given; the rest take their defaults. dsp/effects
    knows what each kind accepts."""

    kind: str
    params: dict[str, float | str] = field(default_factory=dict)


@dataclass(slots=True)
class Clip:
    """A WAV file placed on an audio track: it starts at `tick` of the arrangement (the order
    list played from its start). `path` is relative to the song's folder, with '/'."""

    tick: int
    path: str


@dataclass(slots=True)
class NoteCell:
    """One note column of one row. Absent fields (None) are written `..` and keep their meaning:
    no instrument means the track's last one, no velocity DEFAULT_VELOCITY, no delay 0."""

    note: int | None = None  # MIDI pitch, OFF, CUT, or None for an empty note field
    instrument: int | None = None
    velocity: int | None = None
    delay: int | None = None  # ticks after the row's start (0 .. ticks_per_line - 1)

    def is_empty(self) -> bool:
        return (
            self.note is None
            and self.instrument is None
            and self.velocity is None
            and self.delay is None
        )


@dataclass(slots=True)
class EffectCell:
    command: str  # one letter of EFFECTS
    value: float  # an int for every command but T
    delay: int | None = None


@dataclass(slots=True)
class TrackRow:
    """What one track holds on one row: its note columns and its effect columns."""

    notes: list[NoteCell | None] = field(default_factory=list)
    effects: list[EffectCell | None] = field(default_factory=list)

    def is_empty(self) -> bool:
        return all(n is None or n.is_empty() for n in self.notes) and all(
            e is None for e in self.effects
        )


@dataclass(slots=True)
class Pattern:
    """A block of rows. `data[track][row]` holds the non-empty rows of each track (sparse)."""

    length: int
    name: str = ""
    data: dict[int, dict[int, TrackRow]] = field(default_factory=dict)

    def get(self, track: int, row: int) -> TrackRow | None:
        return self.data.get(track, {}).get(row)

    def set_note(self, track: int, row: int, column: int, cell: NoteCell) -> None:
        track_row = self.data.setdefault(track, {}).setdefault(row, TrackRow())
        while len(track_row.notes) <= column:
            track_row.notes.append(None)
        track_row.notes[column] = cell

    def set_effect(self, track: int, row: int, column: int, cell: EffectCell) -> None:
        track_row = self.data.setdefault(track, {}).setdefault(row, TrackRow())
        while len(track_row.effects) <= column:
            track_row.effects.append(None)
        track_row.effects[column] = cell


@dataclass(slots=True)
class Track:
    name: str
    kind: TrackKind = TrackKind.INSTRUMENT
    instrument: int | None = None  # song instrument number (instrument tracks)
    port: str | None = None  # MIDI output port (midi tracks)
    channel: int = 1  # MIDI channel 1..16; channel 10 plays the drum kit
    program: int | None = None  # MIDI program 0..127 sent when playing starts (midi tracks)
    bank: int | None = None  # bank select 0..16383 (CC0 MSB, CC32 LSB) sent before the program
    volume_db: float = 0.0
    pan: float = 0.0  # -1 left .. +1 right
    mute: bool = False
    solo: bool = False
    note_columns: int = 1
    effect_columns: int = 1
    output: str | None = None  # the group track this one plays into; None: the master
    sends: dict[str, float] = field(default_factory=dict)  # return track name → level in dB
    effects: list[EffectSpec] = field(default_factory=list)  # inserts, before the fader
    clips: list[Clip] = field(default_factory=list)  # audio tracks
    frozen: str | None = None  # the WAV this track plays instead of its instrument

    @property
    def makes_audio(self) -> bool:
        """Whether the mixer hears the track: all but a MIDI track playing its notes out."""
        return not (self.kind is TrackKind.MIDI and self.frozen is None)

    @property
    def plays_notes(self) -> bool:
        """Whether the track's notes make its sound (not frozen, not audio, group or return)."""
        return self.frozen is None and self.kind in (TrackKind.INSTRUMENT, TrackKind.MIDI)

    def audio_clips(self) -> list[Clip]:
        """The audio the track plays: its clips, or its frozen render from the song's start."""
        if self.frozen is not None:
            return [Clip(0, self.frozen)]
        return self.clips if self.kind is TrackKind.AUDIO else []


@dataclass(slots=True)
class Master:
    """The master bus: its fader and its effects (a limiter last, as a rule)."""

    volume_db: float = 0.0
    effects: list[EffectSpec] = field(default_factory=list)


@dataclass(slots=True)
class Song:
    title: str = "Untitled"
    bpm: float = 120.0
    lines_per_beat: int = 4
    ticks_per_line: int = 24
    swing: float = 50.0  # percent: 50 is straight; odd rows move later as it grows (max 75)
    time_signature: tuple[int, int] = (4, 4)
    instruments: dict[int, str] = field(default_factory=dict)  # number → preset name
    tracks: list[Track] = field(default_factory=list)
    patterns: dict[int, Pattern] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # pattern ids, the arrangement
    loop: tuple[int, int] | None = None  # first and last order position of the loop, inclusive
    master: Master = field(default_factory=Master)

    @property
    def ticks_per_beat(self) -> int:
        return self.lines_per_beat * self.ticks_per_line

    def pattern_ticks(self, pattern_id: int) -> int:
        return self.patterns[pattern_id].length * self.ticks_per_line

    def length_ticks(self) -> int:
        """Ticks from the start to the end of the last pattern in the order list."""
        return sum(self.pattern_ticks(p) for p in self.order)

    def track_index(self, name: str) -> int:
        """Find a track by exact name, else by unique case-insensitive prefix.

        Raises:
            KeyError: no track, or more than one, matches; the message lists the tracks.
        """
        for i, track in enumerate(self.tracks):
            if track.name == name:
                return i
        matches = [i for i, t in enumerate(self.tracks) if t.name.lower().startswith(name.lower())]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(t.name for t in self.tracks)
        raise KeyError(f"no single track named {name!r} (tracks: {names})")

    def audible_tracks(self) -> list[int]:
        """Indices of the tracks the mix plays: the soloed ones if any, else the unmuted ones.

        Solo is "in place": a soloed track's groups pass it on (unless muted), a soloed group
        brings the tracks in it, and returns stay audible, so a soloed track is heard with its
        reverb, as in a DAW's default solo.
        """
        soloed = [i for i, t in enumerate(self.tracks) if t.solo]
        if not soloed:
            return [i for i, t in enumerate(self.tracks) if not t.mute]
        chosen = set(soloed)
        for index in range(len(self.tracks)):
            above = self.groups_above(index)
            if index in soloed:
                chosen.update(above)
            elif any(group in soloed for group in above):
                chosen.add(index)  # inside a soloed group
        chosen.update(i for i, t in enumerate(self.tracks) if t.kind is TrackKind.RETURN)
        return [i for i in sorted(chosen) if i in soloed or not self.tracks[i].mute]

    def track_named(self, name: str) -> int | None:
        """The first track called exactly `name` (what outputs and sends refer to)."""
        return next((i for i, t in enumerate(self.tracks) if t.name == name), None)

    def groups_above(self, index: int) -> list[int]:
        """The group tracks `index` plays through, innermost first (names that match no group
        are left to the mixer to report)."""
        found: list[int] = []
        output = self.tracks[index].output
        while output is not None:
            parent = self.track_named(output)
            if parent is None or parent in found or self.tracks[parent].kind is not TrackKind.GROUP:
                break
            found.append(parent)
            output = self.tracks[parent].output
        return found
