"""Following an external MIDI clock: its Start, Continue and Stop drive the transport; its
tempo becomes the song's.

The follower (midi/clock_follow.py) measures the tempo from the clocks; playing at exactly that
tempo would still let the position wander (any error accumulates), so the tempo sent to the
transport leans towards where the clock says we should be: the difference in ticks is made up
over about two beats, at most 10 % faster or slower. (Playing starts a render-ahead, ~85 ms,
after the clock's Start; the lean makes that up within the first few beats.)
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque

from tracker.live.transport import Transport
from tracker.midi.clock_follow import CLOCKS_PER_BEAT, ClockFollower, FollowAction, FollowStart
from tracker.midi.ports import InputPort, PortLister, match_port, open_input
from tracker.model.song import Song

APPLY_SECONDS = 0.1  # how often Start, Stop and Continue reach the transport
TEMPO_EVERY = 5  # … and the tempo every fifth time: each change re-sequences the song
CATCH_UP_BEATS = 2.0
MAX_LEAN = 0.1
MIN_BPM_CHANGE = 0.01


def without_tempo_effects(song: Song) -> Song:
    """A copy of `song` whose patterns hold no T effects: the clock's tempo rules."""
    patterns = {}
    for pattern_id, pattern in song.patterns.items():
        data = {}
        for track, rows in pattern.data.items():
            data[track] = {
                row: dataclasses.replace(
                    cell,
                    effects=[e if e is None or e.command != "T" else None for e in cell.effects],
                )
                for row, cell in rows.items()
            }
        patterns[pattern_id] = dataclasses.replace(pattern, data=data)
    return dataclasses.replace(song, patterns=patterns)


def position_of(song: Song, tick: int) -> tuple[int, int]:
    """(order index, row) of a song tick; past the end: the last row."""
    start = 0
    for index, pattern_id in enumerate(song.order):
        length = song.pattern_ticks(pattern_id)
        if tick < start + length:
            return index, (tick - start) // song.ticks_per_line
        start += length
    last = len(song.order) - 1
    return last, song.patterns[song.order[last]].length - 1


class ClockSync:
    """Listens on a MIDI input for clock and drives `transport` playing `song` (which should
    be `without_tempo_effects`, as the transport's own copy)."""

    def __init__(self, transport: Transport, song: Song, api: str, source: str) -> None:
        """Raises MidiUnavailable when `source` names no single input port."""
        self.transport = transport
        self.song = song
        self.follower = ClockFollower()
        self._actions: deque[FollowAction] = deque()
        self._wake = threading.Event()
        lister = PortLister(api)
        try:
            name = match_port(source, lister.inputs(), "MIDI clock input")
        finally:
            lister.close()
        self._input: InputPort = open_input(api, name, self._receive, "clock in")
        self.source = name
        self._bpm = song.bpm
        self._start_tick = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-clock-in", daemon=True)
        self._thread.start()

    def _receive(self, data: list[int], time_ns: int) -> None:
        # rtmidi's thread: the follower is only ever fed here
        action = self.follower.feed(data, time_ns)
        if action is not None:
            self._actions.append(action)
            self._wake.set()

    def _run(self) -> None:
        turns = 0
        while not self._halt.is_set():
            self._wake.wait(APPLY_SECONDS)  # a Start is acted on at once
            self._wake.clear()
            while self._actions:
                self._apply(self._actions.popleft())
            turns += 1
            if turns % TEMPO_EVERY == 0 and self.follower.playing and self.transport.playing:
                self._follow_tempo()

    def _apply(self, action: FollowAction) -> None:
        if not isinstance(action, FollowStart):
            self.transport.stop()
            return
        tpb = self.song.ticks_per_beat
        self._start_tick = action.position * tpb // 4
        self._set_bpm(self.follower.bpm or self._bpm)
        index, row = position_of(self.song, self._start_tick)
        self.transport.play(index, row)

    def _follow_tempo(self) -> None:
        measured = self.follower.bpm
        if measured is None:
            return
        tpb = self.song.ticks_per_beat
        clocks = self.follower.clocks_at(time.perf_counter_ns())
        behind = self._start_tick + clocks * tpb / CLOCKS_PER_BEAT - self.transport.tick_now()
        lean = max(-MAX_LEAN, min(MAX_LEAN, behind / (CATCH_UP_BEATS * tpb)))
        wanted = measured * (1 + lean)
        if abs(wanted - self._bpm) >= MIN_BPM_CHANGE:
            self._set_bpm(wanted)

    def _set_bpm(self, bpm: float) -> None:
        self._bpm = round(bpm, 3)
        self.song = dataclasses.replace(self.song, bpm=self._bpm)
        self.transport.update(self.song, frozenset())

    @property
    def bpm(self) -> float:
        """The tempo the transport plays at now."""
        return self._bpm

    def close(self) -> None:
        self._halt.set()
        self._wake.set()
        self._thread.join()
        self._input.close()
        time.sleep(0)  # let rtmidi's thread leave its last callback
