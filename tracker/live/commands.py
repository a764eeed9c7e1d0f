"""What the transport (UI thread) sends the engine thread, and what the engine publishes back.

Commands travel through a deque (append and popleft are atomic in CPython, no lock); every
object here is built completely before it is sent and never touched by the sender after.
What the engine publishes are frozen dataclasses, replaced by one assignment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tracker.live.mixing import LiveRenderer
from tracker.live.stream import NoteKey, SongStream
from tracker.model.song import Song


@dataclass(slots=True)
class Play:
    stream: SongStream  # skipped to `start`: its sounding notes and chased controllers are known
    start: int  # local tick
    order_index: int
    session: int


@dataclass(slots=True)
class Stop:
    session: int


@dataclass(slots=True)
class Audition:
    """Sound one note now, outside the song (a note typed in the grid), for `frames`."""

    track: int
    pitch: int
    velocity: int
    frames: int
    instrument: int | None = None  # song instrument number; None: the track's own


@dataclass(slots=True)
class Update:
    song: Song
    renderer: LiveRenderer | None  # a new one when the tracks' layout changed
    stream: SongStream | None  # the new song's events, skipped close to the render position
    session: int


@dataclass(slots=True)
class Switch:
    """A marker in the engine's event queue: from here on the new stream plays."""

    tick: int  # session tick of the switch
    wanted: Counter[NoteKey]  # notes the new stream has sounding there
    keep: bool  # keep held notes the new stream also holds (an edit), or release all (a restart)


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """Where one rendered block starts, for the status of the moment it is heard."""

    index: int  # block number on the engine's frame line
    playing: bool
    order_index: int
    pattern: int
    row: int
    tick: int
    bpm: float
    looping: bool
    voices: int
    level: float = 0.0  # the master's peak in this block
    track_levels: tuple[float, ...] = ()  # each song track's post-fader peak


@dataclass(frozen=True, slots=True)
class Anchor:
    """The render position, so the UI thread can prepare a new stream close to it."""

    session: int
    tick: int  # session tick of the next frame to render
    loop_origin: int  # session tick a new loop stream should start from (an iteration start)
