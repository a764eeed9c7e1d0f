"""One snapshot's events as the engine consumes them: timed, skippable, placed on the engine's
frame line.

A stream runs the ordinary sequencer (tracker.engine) from its start, so column state and the
tempo map are right wherever playback joins it. Ticks here are the stream's own ("local");
`origin` says which session tick local tick 0 is, and `shift` places local frames on the
engine's frame line: engine frame = local frame - shift.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator

from tracker.engine.tempo_map import TempoMap
from tracker.engine.timeline import timed_events
from tracker.model.events import (
    ClipStart,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import Song

NoteKey = tuple[int, int]  # (track, pitch)
CHASED = (ControlChange, ProgramChange, PitchBend, ClipStart)


class SongStream:
    """The events of `song` (its order list, or one pattern looped forever)."""

    def __init__(
        self,
        song: Song,
        rate: int,
        loop_pattern: int | None,
        origin: int = 0,
        loop_order: tuple[int, int] | None = None,
        loop_at: int | None = None,
    ) -> None:
        """`loop_pattern` plays one pattern forever (the one at order position `loop_at`, whose
        audio clips it plays, when given); else the order list plays, and with `loop_order`
        (first, last order positions) its stretch first…last repeats forever."""
        self.song = song
        self.rate = rate
        self.loop_pattern = loop_pattern
        self.loop_order = loop_order if loop_pattern is None and song.order else None
        self.origin = origin
        self.loop_at = loop_at
        self.shift = 0
        self.tempo = TempoMap(song.bpm, song.ticks_per_beat)
        order: Iterable[int] | None = None
        positions: Iterable[int] | None = None
        if loop_pattern is not None:
            if loop_at is not None and song.order[loop_at : loop_at + 1] == [loop_pattern]:
                positions = itertools.repeat(loop_at)
            else:
                order = itertools.repeat(loop_pattern)
        elif self.loop_order is not None:
            first, last = self.loop_order
            positions = itertools.chain(range(first), itertools.cycle(range(first, last + 1)))
        # sequence() walks its order lazily, so an endless repeat is a seamless loop.
        self._events: Iterator[tuple[int, Event]] = timed_events(
            song, rate, order, self.tempo, positions
        )
        self._next = next(self._events, None)
        self.position = 0  # local tick: every event before it has been skipped or taken
        self.sounding: Counter[NoteKey] = Counter()  # notes on at `position` (skipped ones)
        self.chased: dict[tuple[type, int, int], Event] = {}  # last controller values skipped
        self.bpm = song.bpm  # tempo at `position`
        self._starts = list(
            itertools.accumulate((song.pattern_ticks(p) for p in song.order), initial=0)
        )

    # -- skipping -----------------------------------------------------------------------------

    def skip_to(self, tick: int) -> None:
        """Consume the events before local `tick`, keeping which notes sound and the last
        controller, program and bend per track (for chasing)."""
        while self._next is not None and self._next[1].tick < tick:
            event = self._next[1]
            if isinstance(event, NoteOn):
                self.sounding[(event.track, event.pitch)] += 1
            elif isinstance(event, NoteOff):
                key = (event.track, event.pitch)
                if self.sounding[key] > 0:
                    self.sounding[key] -= 1
            elif isinstance(event, TempoChange):
                self.bpm = event.bpm
            elif isinstance(event, CHASED):
                control = event.control if isinstance(event, ControlChange) else 0
                if isinstance(event, ClipStart):
                    control = event.clip
                key3 = (type(event), event.track, control)
                self.chased.pop(key3, None)  # re-insert: the dict keeps the order they came in
                self.chased[key3] = event
            self._next = next(self._events, None)
        self.position = max(self.position, tick)

    def chase_events(self) -> list[Event]:
        """The controllers, programs and bends in force at `position`, and the audio clips
        playing there, moved on to read from it."""
        return [
            ClipStart(self.position, e.track, e.clip, e.source_tick + self.position - e.tick)
            if isinstance(e, ClipStart)
            else e
            for e in self.chased.values()
        ]

    # -- taking -------------------------------------------------------------------------------

    def next_frame(self) -> int | None:
        """Engine frame of the next event, None when the stream has ended."""
        return None if self._next is None else self._next[0] - self.shift

    def next_tick(self) -> int | None:
        return None if self._next is None else self._next[1].tick

    def pop(self) -> Event:
        assert self._next is not None
        event = self._next[1]
        if isinstance(event, TempoChange):
            self.bpm = event.bpm
        self._next = next(self._events, None)
        return event

    def take_before_tick(self, tick: int) -> list[tuple[int, Event]]:
        """Every remaining event before local `tick`, with its engine frame."""
        taken = []
        while self._next is not None and self._next[1].tick < tick:
            frame = self._next[0] - self.shift
            taken.append((frame, self.pop()))
        return taken

    # -- time ---------------------------------------------------------------------------------

    def frame_of(self, tick: int) -> int:
        """Engine frame of local `tick` (tempo changes before it must have been read)."""
        return self.tempo.frame_at(tick, self.rate) - self.shift

    def tick_of(self, frame: int) -> int:
        """Local tick sounding at engine `frame` (the tempo map as far as read)."""
        seconds = (frame + self.shift) / self.rate
        return max(math.floor(self.tempo.tick_at_seconds(seconds) + 1e-9), 0)

    def next_row_boundary(self, frame: int) -> int:
        """The first local row boundary whose frame is at or after engine `frame`."""
        tpl = self.song.ticks_per_line
        tick = -(-self.tick_of(frame) // tpl) * tpl
        while self.frame_of(tick) < frame:
            tick += tpl
        return tick

    def place(self, tick: int, frame: int) -> None:
        """Shift the stream so local `tick` lands on engine `frame`."""
        self.shift = self.tempo.frame_at(tick, self.rate) - frame

    def end_tick(self) -> int | None:
        if self.loop_pattern is not None or self.loop_order is not None:
            return None
        return self._starts[-1]

    def where(self, tick: int) -> tuple[int, int, int]:
        """(order index, pattern id, row) of local `tick`; the looped pattern's own when looping."""
        tpl = self.song.ticks_per_line
        if self.loop_pattern is not None:
            length = max(self.song.pattern_ticks(self.loop_pattern), 1)
            return -1, self.loop_pattern, (tick % length) // tpl
        if not self.song.order:
            return 0, -1, 0
        if self.loop_order is not None:
            first, last = self.loop_order
            begin, end = self._starts[first], self._starts[last + 1]
            if tick >= end and end > begin:
                tick = begin + (tick - begin) % (end - begin)
        index = min(bisect.bisect_right(self._starts, tick) - 1, len(self.song.order) - 1)
        return index, self.song.order[index], (tick - self._starts[index]) // tpl
