"""The sequencer: a song's patterns, in order-list order, to events at exact integer ticks.

A pure, deterministic generator (Orca style: state and tick in, events out; no clock). Events
come out sorted by (tick, EVENT_PRIORITY, generation order); memory stays bounded by one
pattern's events, so an hour-long song streams as easily as a loop.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tracker.model.events import (
    EVENT_PRIORITY,
    ChannelPressure,
    ClipStart,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import CUT, DEFAULT_VELOCITY, OFF, EffectCell, NoteCell, Song, TrackRow

PITCH_BEND_CENTRE = 8192


@dataclass(slots=True)
class _Column:
    """What one note column is doing across rows and patterns."""

    pitch: int | None = None  # the sounding note
    release_at: int | None = None  # tick of a pending note-off from an L (note length) effect


@dataclass(slots=True)
class _Row:
    """The timing of one row of one pattern."""

    track: int
    tick: int  # where the row starts, swing included
    end: int  # where the next row starts (unswung)

    def at(self, delay: int | None) -> int:
        # A row's events never leave the row: swing plus delay stays inside it.
        offset = min(self.tick + (delay or 0), self.end - 1)
        return max(offset, self.tick)


def swing_ticks(song: Song) -> int:
    """How far odd rows move later: swing% of a pair of rows, in whole ticks."""
    return round(song.ticks_per_line * (song.swing - 50.0) / 50.0)


def row_tick(song: Song, pattern_start: int, row: int) -> int:
    """The tick a row starts on, swing included (delay not)."""
    tick = pattern_start + row * song.ticks_per_line
    if row % 2 == 1:
        tick += min(swing_ticks(song), song.ticks_per_line - 1)
    return tick


def _rows_in_time(song: Song, pattern_id: int, start: int) -> Iterator[list[tuple[_Row, TrackRow]]]:
    """A pattern's non-empty track rows, row by row, each row's tracks in track order: the
    order every event of the pattern is generated in. Lazy, so a dense pattern costs its
    reader a row at a time, not the whole pattern at once."""
    pattern = song.patterns[pattern_id]
    tpl = song.ticks_per_line
    keyed = [
        [(row, track, cells) for row in sorted(cells) if row < pattern.length]
        for track, cells in sorted(pattern.data.items())
        if track < len(song.tracks)
    ]
    for row, group in itertools.groupby(heapq.merge(*keyed), key=lambda item: item[0]):
        timing = row_tick(song, start, row), start + (row + 1) * tpl
        yield [(_Row(track, *timing), cells[row]) for _, track, cells in group]


class _Sequencer:
    def __init__(self, song: Song) -> None:
        self.song = song
        # Kept in the order note-offs due at one tick come out in: by the pattern a column was
        # first used in, then track, then first use (mostly as when patterns were read whole,
        # track by track; see `sequence` for where it differs).
        self.columns: dict[tuple[int, int], _Column] = {}
        self._column_keys: dict[tuple[int, int], tuple[int, int, int]] = {}
        self.patterns_begun = 0
        self.last_instrument: dict[int, int | None] = {}
        self.heap: list[tuple[int, int, int, Event]] = []
        self.counter = itertools.count()
        self.bpm = song.bpm  # as of the last event taken
        self.taken = 0  # events taken so far

    def emit(self, event: Event) -> None:
        heapq.heappush(
            self.heap, (event.tick, EVENT_PRIORITY[type(event)], next(self.counter), event)
        )

    def pop_before(self, tick: int | None) -> Iterator[Event]:
        while self.heap and (tick is None or self.heap[0][0] < tick):
            event = heapq.heappop(self.heap)[3]
            if isinstance(event, TempoChange):
                self.bpm = event.bpm
            self.taken += 1
            yield event

    def final_before(self, tick: int) -> Iterator[Event]:
        """The events before `tick`, once nothing generated later can land before it."""
        self.release_due(tick)
        return self.pop_before(tick)

    def release_due(self, before: int | None) -> None:
        """Emit L-effect note-offs that fall before `before` (None: all of them)."""
        for (track, _), column in self.columns.items():
            due = column.release_at
            if column.pitch is not None and due is not None and (before is None or due < before):
                self.emit(NoteOff(due, track, column.pitch))
                column.pitch = None
                column.release_at = None

    def end_all(self, tick: int) -> None:
        """Every note still sounding at the song's end gets its note-off there."""
        self.release_due(None)
        for (track, _), column in self.columns.items():
            if column.pitch is not None:
                self.emit(NoteOff(tick, track, column.pitch))
                column.pitch = None

    def track_row(self, row: _Row, data: TrackRow) -> None:
        if not self.song.tracks[row.track].plays_notes:
            # A frozen, audio, group or return track plays no notes; tempo is the song's.
            for effect in data.effects:
                if effect is not None and effect.command == "T":
                    self.effect(row, effect)
            return
        length: int | None = None
        retrigger: int | None = None
        for effect in data.effects:
            if effect is None:
                continue
            if effect.command == "L":
                length = int(effect.value)
            elif effect.command == "R":
                retrigger = int(effect.value)
            else:
                self.effect(row, effect)
        for index, cell in enumerate(data.notes):
            if cell is not None:
                self.note(row, index, cell, length, retrigger)

    def effect(self, row: _Row, effect: EffectCell) -> None:
        tick = row.at(effect.delay)
        value = effect.value
        match effect.command:
            case "C":
                control, level = divmod(int(value), 256)
                self.emit(ControlChange(tick, row.track, control, level))
            case "B":
                self.emit(PitchBend(tick, row.track, int(value) - PITCH_BEND_CENTRE))
            case "P":
                self.emit(ProgramChange(tick, row.track, int(value)))
            case "A":
                self.emit(ChannelPressure(tick, row.track, int(value)))
            case "T":
                self.emit(TempoChange(tick, float(value)))

    def note(
        self, row: _Row, index: int, cell: NoteCell, length: int | None, retrigger: int | None
    ) -> None:
        track = row.track
        if cell.instrument is not None:
            self.last_instrument[track] = cell.instrument
        if cell.note is None:
            return
        tick = row.at(cell.delay)
        column = self.columns.get((track, index))
        if column is None:  # a column's first note: rare, so keeping the order is cheap
            column = self.columns[(track, index)] = _Column()
            self._column_keys[(track, index)] = (self.patterns_begun, track, len(self.columns))
            keys = self._column_keys
            self.columns = dict(sorted(self.columns.items(), key=lambda item: keys[item[0]]))
        if column.pitch is not None and column.release_at is not None and column.release_at <= tick:
            self.emit(NoteOff(column.release_at, track, column.pitch))
            column.pitch = None
        column.release_at = None
        if column.pitch is not None:
            self.emit(NoteOff(tick, track, column.pitch, cut=cell.note == CUT))
            column.pitch = None
        if cell.note in (OFF, CUT):
            return
        velocity = DEFAULT_VELOCITY if cell.velocity is None else cell.velocity
        instrument = self.last_instrument.get(track)
        self.emit(NoteOn(tick, track, cell.note, velocity, instrument))
        column.pitch = cell.note
        if length is not None:
            column.release_at = tick + length
        if retrigger:
            stop = row.end if length is None else min(row.end, tick + length)
            for again in range(tick + retrigger, stop, retrigger):
                self.emit(NoteOff(again, track, cell.note))
                self.emit(NoteOn(again, track, cell.note, velocity, instrument))

    def clips(self, start: int, place: int | None, length: int, joined: bool) -> None:
        """ClipStarts for the audio under a pattern played at local `start` from arrangement
        tick `place` (None: the pattern has no place in the order list, so no audio).

        Clips that begin inside it start where they begin. When playing did not arrive here
        straight from the arrangement tick before (`joined` false: the first pattern, a loop
        back, a jump), clips begun earlier start too, read from `place` on; a renderer skips
        those already over.
        """
        if place is None:
            return
        for index, track in enumerate(self.song.tracks):
            for number, clip in enumerate(track.audio_clips()):
                if place <= clip.tick < place + length:
                    self.emit(ClipStart(start + clip.tick - place, index, number, clip.tick))
                elif clip.tick < place and not joined:
                    self.emit(ClipStart(start, index, number, place))


def _placed(
    song: Song, order: Iterable[int] | None, positions: Iterable[int] | None
) -> Iterator[tuple[int, int | None]]:
    """(pattern id, arrangement tick of its start) of each pattern played. A pattern given by
    id alone is placed where it first stands in the order list."""
    starts = list(itertools.accumulate((song.pattern_ticks(p) for p in song.order), initial=0))
    if isinstance(order, list | tuple) and list(order) == song.order:
        order = None  # the whole arrangement, given by its pattern ids
    if order is None:
        for position in range(len(song.order)) if positions is None else positions:
            yield song.order[position], starts[position]
        return
    first = {}
    for position, pattern_id in enumerate(song.order):
        first.setdefault(pattern_id, starts[position])
    for pattern_id in order:
        yield pattern_id, first.get(pattern_id)


def sequence(
    song: Song, order: Iterable[int] | None = None, positions: Iterable[int] | None = None
) -> Iterator[Event]:
    """Yield the song's events in time order.

    Args:
        song: the song.
        order: pattern ids to play (default: the song's order list); `[n]` plays pattern n alone.
        positions: instead of `order`, the order-list positions to play (a loop of some), so
            that audio clips play what lies under each position.
    """
    seq = _Sequencer(song)
    start = 0
    if song.bpm:
        seq.emit(TempoChange(0, song.bpm))
    # An endless order (a loop) of silent patterns would never yield again and hang its reader;
    # there, every pattern that yields nothing yields its start as a tempo mark instead.
    endless = (order is not None and not isinstance(order, list | tuple)) or (
        positions is not None and not isinstance(positions, list | tuple | range)
    )
    arranged_to: int | None = None  # arrangement tick where the last pattern played ended
    for pattern_id, place in _placed(song, order, positions):
        pattern_start = start
        length = song.pattern_ticks(pattern_id)
        seq.clips(start, place, length, joined=place is not None and place == arranged_to)
        arranged_to = None if place is None else place + length
        taken = seq.taken
        seq.patterns_begun += 1
        # Row by row: a row's events stay inside it, so once the rows before one are
        # generated, nothing later can land before its start and every earlier event is final.
        # Yielding those first keeps the work per row small however dense the pattern. (Where
        # note lengths end notes of two columns at one tick, those note-offs can come in
        # another order than reading whole patterns gave: same tick, same events.)
        for track_rows in _rows_in_time(song, pattern_id, start):
            row = track_rows[0][0]  # (a swing under 50 % starts odd rows early)
            yield from seq.final_before(min(row.end - song.ticks_per_line, row.tick))
            for row, data in track_rows:
                seq.track_row(row, data)
        start += length
        yield from seq.final_before(start)
        if endless and seq.taken == taken:
            yield TempoChange(pattern_start, seq.bpm)
    seq.end_all(start)
    yield from seq.pop_before(None)


def tempo_changes(song: Song, order: Sequence[int] | None = None) -> Iterator[TempoChange]:
    """Only the tempo events of `sequence`, in the same order, without playing the notes: all a
    tempo map needs, at a fraction of the cost."""
    yield TempoChange(0, song.bpm)
    start = 0
    for pattern_id in song.order if order is None else order:
        found = [
            TempoChange(row.at(effect.delay), float(effect.value))
            for row, data in itertools.chain.from_iterable(_rows_in_time(song, pattern_id, start))
            for effect in data.effects
            if effect is not None and effect.command == "T"
        ]
        # sorted() is stable: at one tick, generation order decides, as in `sequence`.
        yield from sorted(found, key=lambda change: change.tick)
        start += song.pattern_ticks(pattern_id)


def length_ticks(song: Song, order: Sequence[int] | None = None) -> int:
    """Ticks from the start to the end of the given patterns (default: the order list)."""
    return sum(song.pattern_ticks(p) for p in (song.order if order is None else order))
