"""Events the sequencer emits and the synths, MIDI out and MIDI export consume.

Times are integer ticks from the start of the song; only a tempo map turns them into frames.
`track` is an index into `Song.tracks`; tempo changes are song-wide and have no track.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TempoChange:
    tick: int
    bpm: float


@dataclass(frozen=True, slots=True)
class NoteOff:
    tick: int
    track: int
    pitch: int
    cut: bool = False  # a tracker "cut" (^^^): silence at once, no release


@dataclass(frozen=True, slots=True)
class ProgramChange:
    tick: int
    track: int
    program: int


@dataclass(frozen=True, slots=True)
class ControlChange:
    tick: int
    track: int
    control: int
    value: int


@dataclass(frozen=True, slots=True)
class PitchBend:
    tick: int
    track: int
    value: int  # -8192 .. 8191, 0 is centre


@dataclass(frozen=True, slots=True)
class ChannelPressure:
    tick: int
    track: int
    value: int  # 0 .. 127: channel aftertouch


@dataclass(frozen=True, slots=True)
class NoteOn:
    tick: int
    track: int
    pitch: int
    velocity: int  # 1 .. 127
    instrument: int | None = None  # song instrument number; None: the track's own


@dataclass(frozen=True, slots=True)
class ClipStart:
    """Audio clip `clip` of the track (an index into `Track.audio_clips()`) plays from here, read
    from where arrangement tick `source_tick` falls in it: the clip's own start, or later when
    playing joins it part-way (a loop, a jump, a chase)."""

    tick: int
    track: int
    clip: int
    source_tick: int


Event = (
    TempoChange
    | NoteOff
    | ProgramChange
    | ControlChange
    | PitchBend
    | ChannelPressure
    | NoteOn
    | ClipStart
)

# At one tick: the tempo first (it decides where the tick lands), note-offs before controllers
# and note-ons, so a note that ends where the next begins never cuts the new one.
EVENT_PRIORITY: dict[type, int] = {
    TempoChange: 0,
    NoteOff: 1,
    ProgramChange: 2,
    ControlChange: 3,
    PitchBend: 4,
    ChannelPressure: 5,
    NoteOn: 6,
    ClipStart: 7,
}
