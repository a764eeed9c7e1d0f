"""Song data: pure dataclasses and the event types every other layer speaks.

Nothing here does I/O except `serialize`, which reads and writes song files.
"""

from tracker.model.errors import SongFormatError, TrackerError
from tracker.model.events import (
    ChannelPressure,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import (
    CUT,
    OFF,
    EffectCell,
    NoteCell,
    Pattern,
    Song,
    Track,
    TrackKind,
    TrackRow,
)

__all__ = [
    "CUT",
    "OFF",
    "ChannelPressure",
    "ControlChange",
    "EffectCell",
    "Event",
    "NoteCell",
    "NoteOff",
    "NoteOn",
    "Pattern",
    "PitchBend",
    "ProgramChange",
    "Song",
    "SongFormatError",
    "TempoChange",
    "Track",
    "TrackKind",
    "TrackRow",
    "TrackerError",
]
