"""The engine: pulls timed events, renders blocks with the shared BlockRenderer, fills the ring.

It runs on its own thread (EngineThread), or synchronously under a PullSink. All state here
belongs to that one thread; the UI talks to it only through `commands` and reads only what it
publishes (`infos`, `anchor`, `finished`, `error`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from tracker.audio.ring import FrameRing
from tracker.live.commands import Anchor, Audition, BlockInfo, Play, Stop, Switch, Update
from tracker.live.ledger import NoteLedger
from tracker.live.mixing import LiveRenderer
from tracker.live.stream import SongStream
from tracker.midi import messages
from tracker.model.events import Event, NoteOff, NoteOn, TempoChange
from tracker.model.song import Song

if TYPE_CHECKING:
    from tracker.live.midi_out import MidiOut

HISTORY = 1024  # block infos kept: must cover lookahead + device latency (10 s at 512)
SILENCE = 1e-6  # as offline render: a tail block this quiet ends playback
MAX_TAIL_SECONDS = 10.0

Item = Event | Switch


class Engine:
    def __init__(self, renderer: LiveRenderer, ring: FrameRing, rate: int, block: int) -> None:
        self.renderer = renderer
        self.ring = ring
        self.rate = rate
        self.block = block
        self.commands: deque[Play | Stop | Update | Audition] = deque()
        # Auditioned notes: (frame, event), outside the song and its ledger; few at a time.
        self.auditions: list[tuple[int, Event]] = []
        self.ledger = NoteLedger()
        self.stream: SongStream | None = None
        self.pending: deque[tuple[int, Item]] = deque()
        self.frames = 0  # next frame to render on the engine's frame line (= ring.written)
        self.session = 0
        self.order_index = 0  # of a looped pattern
        self.tail_left = 0  # frames of release tail still allowed (0: not in a tail)
        self.playing = False
        self._buffer = np.zeros((block, 2), dtype=np.float32)
        song = renderer.song
        first = song.order[0] if song.order else -1
        self._last = BlockInfo(-1, False, 0, first, 0, 0, song.bpm, False, 0)
        # Published for the UI thread:
        self.infos: list[BlockInfo | None] = [None] * HISTORY
        self.anchor = Anchor(0, 0, 0)
        self.finished = 0  # the last session that played to its end
        self.error = ""
        self.render_times: list[float] | None = None  # seconds per block, when a bench asks
        self.midi: MidiOut | None = None  # set before the engine thread starts
        self.started = (0, 0)  # (session, frame its start tick is heard at), for the UI thread
        self._pulse = 0  # the next MIDI clock pulse, counted from local tick 0

    # -- driving ------------------------------------------------------------------------------

    def produce(self, frames: int) -> None:
        """Render until the ring holds `frames` (the PullSink's way of driving the engine)."""
        while self.ring.available() < frames:
            self.render_block()

    def render_block(self) -> None:
        began = time.perf_counter()
        start = self.frames
        try:
            self._drain_commands()
            events = self._collect(start, start + self.block)
            self.renderer.render(self._buffer, events)
        except Exception as exc:  # a bad preset loaded late, a bug: stop, say why, stay alive
            self.error = f"engine error: {exc}"
            self._end_session()
            if self.midi is not None:
                # What was sent can no longer be ended in time order: a note-off now for every
                # note still held, then all notes and sound off, on every port.
                self.midi.panic()
            self._buffer[:] = 0.0
        if self.tail_left > 0:
            self.tail_left -= self.block
            if self.tail_left <= 0 or float(np.abs(self._buffer).max()) <= SILENCE:
                self.tail_left = 0
                self.finished = self.session
        self.ring.write(self._buffer)
        self._publish(start)
        self.frames = start + self.block
        if self.render_times is not None:
            self.render_times.append(time.perf_counter() - began)

    # -- commands -----------------------------------------------------------------------------

    def _drain_commands(self) -> None:
        while self.commands:
            command = self.commands.popleft()
            if isinstance(command, Play):
                self._play(command)
            elif isinstance(command, Stop):
                if command.session == self.session:
                    self._release(keep=False, wanted=Counter())
                    self.renderer.stop_clips()  # audio stops with the transport
                    self._end_session()
            elif isinstance(command, Audition):
                self._audition(command)
            else:
                self._update(command)

    def _play(self, command: Play) -> None:
        stream = command.stream
        if self.midi is not None:
            self._midi_start(command, stream.song.ticks_per_beat)
        stream.place(command.start, self.frames)
        self.started = (command.session, self.frames)
        self.pending.clear()
        self._release(keep=False, wanted=Counter(stream.sounding))
        self.renderer.stop_clips()  # the clips under the new start come with the chase
        for event in stream.chase_events():
            self.pending.append((self.frames, event))
        self.stream = stream
        self.session = command.session
        self.order_index = command.order_index
        self.playing = True
        self.tail_left = 0
        self.error = ""  # a new session: an earlier failure is no longer the news

    def _audition(self, command: Audition) -> None:
        start = self.frames
        on = NoteOn(0, command.track, command.pitch, command.velocity, command.instrument)
        off = NoteOff(0, command.track, command.pitch)
        # Voices render whether or not the song plays, so the note sounds either way.
        self.auditions += [(start, on), (start + command.frames, off)]

    def _release(self, keep: bool, wanted: Counter) -> None:
        self.pending.append((self.frames, Switch(0, wanted, keep)))

    def _end_session(self) -> None:
        """No more events; voices ring out (the tail), then the session is finished."""
        if self.playing and self.midi is not None:
            # one frame on: after the note-offs the ledger hands over for the same moment
            self.midi.notes_off(self.frames + 1)
            if self.midi.clock_wanted:
                self.midi.realtime(self.frames, messages.STOP)
        self.stream = None
        self.playing = False
        self.tail_left = int(MAX_TAIL_SECONDS * self.rate)

    def _update(self, command: Update) -> None:
        if command.renderer is not None:
            command.renderer.adopt_clips(self.renderer)
            self.renderer = command.renderer
            self.ledger = NoteLedger()  # the old voices went with the old renderer
        else:
            self.renderer.apply_mix(command.song)
        if self.midi is not None:
            self.midi.muted = _muted(command.song)
        if command.stream is not None and self.playing and command.session == self.session:
            self._switch(command.stream)

    def _switch(self, new: SongStream) -> None:
        """Hand over to `new` at the next row boundary not rendered yet (see ledger.py)."""
        marker = self.pending[-1][1] if self.pending else None
        if isinstance(marker, Switch) and marker.keep:
            # A switch is still ahead: the new stream replaces that one at the same boundary.
            frame, _ = self.pending.pop()
            tick = marker.tick
        else:
            old = self.stream
            assert old is not None
            local = old.next_row_boundary(self.frames)
            self.pending.extend(old.take_before_tick(local))
            frame = old.frame_of(local)
            tick = old.origin + local
        local_new = tick - new.origin
        if local_new < new.position or local_new < 0:  # prepared too far ahead: start over
            new = SongStream(new.song, self.rate, new.loop_pattern, 0, new.loop_order, new.loop_at)
            local_new = tick
        new.skip_to(local_new)
        new.place(local_new, frame)
        self.pending.append((frame, Switch(tick, Counter(new.sounding), keep=True)))
        self.stream = new

    # -- events -------------------------------------------------------------------------------

    def _collect(self, start: int, stop: int) -> list[tuple[int, Event]]:
        """The block's events as (offset, event), through the ledger."""
        events: list[tuple[int, Event]] = []
        while True:
            item: Item
            if self.pending:
                frame, item = self.pending[0]
                if frame >= stop:
                    break
                self.pending.popleft()
            elif self.stream is not None:
                next_frame = self.stream.next_frame()
                if next_frame is None:
                    self._end_session()
                    break
                if next_frame >= stop:
                    break
                frame, item = next_frame, self.stream.pop()
            else:
                break
            offset = max(frame - start, 0)
            if isinstance(item, Switch):
                if item.keep:
                    offs = self.ledger.reconcile(item.tick, item.wanted)
                else:
                    offs = self.ledger.release_all(item.tick)
                    self.ledger.orphans = Counter(item.wanted)
                events.extend((offset, off) for off in offs)
            elif not isinstance(item, TempoChange) and self.ledger.admit(item):
                events.append((offset, item))
        if self.auditions:
            due = [(max(f - start, 0), e) for f, e in self.auditions if f < stop]
            if due:
                self.auditions = [(f, e) for f, e in self.auditions if f >= stop]
                events.extend(due)
                events.sort(key=lambda item: item[0])  # stable: song order kept at one offset
        if self.midi is not None:
            self._to_midi(start, stop, events)
        return events

    # -- MIDI out ------------------------------------------------------------------------------

    def _midi_start(self, command: Play, ticks_per_beat: int) -> None:
        """Programs, then Start (or Stop, song position and Continue) for clock followers."""
        midi = self.midi
        assert midi is not None
        midi.muted = _muted(command.stream.song)
        midi.start_programs(self.frames, command.stream.song)
        start = command.start
        self._pulse = -(-start * messages.CLOCKS_PER_BEAT // ticks_per_beat)
        if not midi.clock_wanted:
            return
        if self.playing:
            midi.realtime(self.frames, messages.STOP)
        if start == 0 and command.stream.loop_pattern is None:
            midi.realtime(self.frames, messages.START)
        else:
            sixteenths = start * 4 // ticks_per_beat
            midi.realtime(self.frames, messages.song_position_bytes(sixteenths))
            midi.realtime(self.frames, messages.CONTINUE)

    def _to_midi(self, start: int, stop: int, events: list[tuple[int, Event]]) -> None:
        midi = self.midi
        assert midi is not None
        for offset, event in events:
            if getattr(event, "track", -1) in midi.tracks:
                midi.event(start + offset, event)
        stream = self.stream
        if stream is None or not self.playing or not midi.clock_wanted:
            return
        per_beat = stream.song.ticks_per_beat
        while True:
            frame = _pulse_frame(stream, self._pulse, per_beat)
            if frame >= stop:
                break
            if frame >= start:  # a pulse before the block's start was sent with the last one
                midi.realtime(frame, messages.CLOCK)
            self._pulse += 1

    # -- publishing ---------------------------------------------------------------------------

    def _publish(self, start: int) -> None:
        index = start // self.block
        stream = self.stream
        voices = self.renderer.active_voices()
        if stream is not None and self.playing:
            local = stream.tick_of(start)
            order_index, pattern, row = stream.where(local)
            looping = stream.loop_pattern is not None
            if looping:
                order_index = self.order_index
            info = BlockInfo(
                index,
                True,
                order_index,
                pattern,
                row,
                local,
                stream.bpm,
                looping,
                voices,
                self.renderer.master_level,
                self.renderer.track_levels(),
            )
            render_tick = stream.tick_of(start + self.block)
            loop_origin = 0
            if looping:
                length = max(stream.song.pattern_ticks(stream.loop_pattern or 0), 1)
                loop_origin = stream.origin + max(render_tick // length - 1, 0) * length
            self.anchor = Anchor(self.session, stream.origin + render_tick, loop_origin)
        else:
            last = self._last
            info = BlockInfo(
                index,
                False,
                last.order_index,
                last.pattern,
                last.row,
                last.tick,
                last.bpm,
                last.looping,
                voices,
                self.renderer.master_level,  # tails and auditions still sound
                self.renderer.track_levels(),
            )
        self._last = info
        self.infos[index % HISTORY] = info

    def info_at(self, index: int) -> BlockInfo:
        """What the block `index` holds (UI thread); the latest one if it is not kept."""
        info = self.infos[index % HISTORY] if index >= 0 else self.infos[0]
        if info is None or (index >= 0 and info.index != index):
            return self._last
        return info


def _muted(song: Song) -> frozenset[int]:
    audible = set(song.audible_tracks())
    return frozenset(i for i in range(len(song.tracks)) if i not in audible)


def _pulse_frame(stream: SongStream, pulse: int, ticks_per_beat: int) -> int:
    """The frame of MIDI clock pulse `pulse` (24 a beat) of the stream's local time."""
    tick = Fraction(pulse * ticks_per_beat, messages.CLOCKS_PER_BEAT)
    whole = tick.numerator // tick.denominator
    frame = stream.frame_of(whole)
    if tick.denominator == 1:
        return frame
    # between two ticks: the tempo is constant inside a tick
    return frame + round((stream.frame_of(whole + 1) - frame) * (tick - whole))


class EngineThread:
    """Keeps the ring `lookahead` frames ahead of the output, on a thread of its own."""

    def __init__(self, engine: Engine, lookahead: int) -> None:
        self.engine = engine
        self.lookahead = max(lookahead, engine.block)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-engine", daemon=True)

    def start(self, timeout: float = 2.0) -> None:
        """Start, and return once the ring holds the lookahead (or after `timeout`)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while self.engine.ring.available() < self.lookahead and time.monotonic() < deadline:
            time.sleep(0.001)

    def _run(self) -> None:
        engine, ring = self.engine, self.engine.ring
        low = self.lookahead - engine.block
        while not self._halt.is_set():
            ahead = ring.ahead()  # frames the output owes after a stall do not count
            # (and while it owes, the ring can be full of frames it will drop)
            if ahead <= low and ring.space() >= engine.block:
                engine.render_block()
            else:
                # Sleep until a block's worth has been played; a late wake-up still has the
                # rest of the lookahead in hand.
                self._halt.wait(max((ahead - low) / engine.rate, 0.0005))

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join()
