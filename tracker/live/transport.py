"""The transport: what the UI calls to play, stop and edit while the song sounds.

The UI thread builds everything (snapshots, event streams skipped close to where they will be
heard, renderers when tracks come or go) and hands it to the engine through a command deque;
the engine thread renders a little ahead into a ring; the audio callback only copies from the
ring. The engine only ever reads its own copy of the song (copy_song), swapped in whole.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tracker.audio.output import AudioUnavailable, open_output
from tracker.audio.ring import FrameRing
from tracker.audio.sinks import AudioSink, ClockSink
from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.mixer import track_preset
from tracker.live.commands import Audition, Play, Stop, Update
from tracker.live.engine import Engine, EngineThread
from tracker.live.midi_out import MidiOut, MidiSetup
from tracker.live.mixing import LiveRenderer, track_layout, warm_up
from tracker.live.status import TransportStatus
from tracker.live.stream import SongStream
from tracker.midi.ports import MidiUnavailable
from tracker.model.copying import copy_song
from tracker.model.errors import TrackerError
from tracker.model.events import NoteOff, NoteOn
from tracker.model.song import Song, TrackKind

# Frames rendered ahead of the device: 85 ms at 48 kHz. bench/live_audio.py with a CPU-bound
# Python thread beside it: 2048 left 2 and 10 under-runs in 20 s (demo, 64+ voices), 4096 0 and 3.
LOOKAHEAD = 4096
# The GIL hands over every 5 ms by default; a pure-Python UI then delays the engine thread by
# that much per wake-up. 1 ms keeps the engine's wake-ups prompt (see ARCHITECTURE rule 6).
SWITCH_INTERVAL = 0.001

__all__ = ["LOOKAHEAD", "Transport", "TransportStatus", "wait_until_stopped"]


class Transport:
    def __init__(
        self,
        song: Song,
        *,
        rate: int = 48000,
        block: int = 512,
        device: str | None = None,
        search_dirs: Sequence[Path] = (),
        song_dir: Path | None = None,
        output: AudioSink | None = None,
        lookahead: int = LOOKAHEAD,
        midi: MidiSetup | None = None,
        midi_required: bool = True,
    ) -> None:
        """Take a snapshot of `song` and open the audio output (device by exact name or unique
        substring, else the default). With no PortAudio or no device it plays on a silent
        clock-driven sink, and status().audio says why there's no sound.

        `midi` sends MIDI tracks to their ports (and clock to clock ports), in step with the
        audio output. With `midi_required` False a MIDI failure (no JACK server, a port not
        there) is not an error: the transport plays without MIDI and its status says why.

        Raises:
            TrackerError: `device` names no single device; the song uses a bad instrument;
                a MIDI port matches no port (MidiUnavailable, listing the ports).
        """
        self.rate = rate
        self.block = block
        self._library = InstrumentLibrary(rate, search_dirs, song_dir)
        self._snapshot = copy_song(song)
        renderer = LiveRenderer(self._snapshot, rate, self._library, block)
        self._layout = renderer.layout
        # Ports first: an unknown port is an error before any sound starts.
        self._midi: MidiOut | None = None
        self._midi_note = "MIDI: off"
        if midi is not None:
            try:
                self._midi = MidiOut(midi)
            except MidiUnavailable as exc:
                if midi_required:
                    raise
                self._midi_note = f"MIDI: {exc}"
        sink = output if output is not None else open_output(rate, block, device)
        self._ring = FrameRing(lookahead + 4 * block)
        self._engine = Engine(renderer, self._ring, rate, block)
        self._session = 0
        self._requested = False
        self._loop_pattern: int | None = None
        self._loop_at: int | None = None  # the order position of the looped pattern
        self._loop_order: tuple[int, int] | None = None
        self._start_tick = 0
        self._thread: EngineThread | None = None
        self._switch_interval: float | None = None
        if sink.realtime:
            warm_up(self._snapshot, rate, self._library, block)
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
            self._thread = EngineThread(self._engine, lookahead)
            self._thread.start()
        try:
            sink.start(self._ring, self._engine.produce)
        except AudioUnavailable as exc:
            sink = ClockSink(rate, block, str(exc))
            sink.start(self._ring, self._engine.produce)
        self._sink = sink
        if self._midi is not None:
            self._midi.clock = sink.clock
            self._engine.midi = self._midi

    # -- playing ------------------------------------------------------------------------------

    def play(
        self, order_index: int = 0, row: int = 0, *, loop: bool = False, loop_song: bool = False
    ) -> None:
        """Start (or restart) at an order position and row; loop=True loops that one pattern,
        loop_song=True the song's loop (its `loop` positions, else the whole order list).

        Controllers, programs and bends before the start are applied at once (chased); notes
        that began before it are not played.

        Raises:
            TrackerError: the order list is empty.
        """
        song = self._snapshot
        if not song.order:
            raise TrackerError("nothing to play: the order list is empty")
        order_index = min(max(order_index, 0), len(song.order) - 1)
        pattern = song.order[order_index]
        row = min(max(row, 0), max(song.patterns[pattern].length - 1, 0))
        offset = row * song.ticks_per_line
        if loop:
            self._loop_pattern, start = pattern, offset
            self._loop_at = order_index
        else:
            self._loop_pattern = self._loop_at = None
            start = sum(song.pattern_ticks(p) for p in song.order[:order_index]) + offset
        self._loop_order = None
        if loop_song and not loop:
            self._loop_order = song.loop or (0, len(song.order) - 1)
        stream = SongStream(song, self.rate, self._loop_pattern, 0, self._loop_order, self._loop_at)
        stream.skip_to(start)
        self._session += 1
        self._start_tick = start
        self._requested = True
        self._engine.commands.append(Play(stream, start, order_index, self._session))

    def stop(self) -> None:
        """Stop; every sounding voice gets its note-off and rings out its release."""
        self._requested = False
        self._engine.commands.append(Stop(self._session))

    def audition(
        self,
        track: int,
        pitch: int,
        velocity: int = 100,
        instrument: int | None = None,
        seconds: float = 0.3,
    ) -> None:
        """Sound one note of `track` now (a note just typed), whether or not the song plays."""
        frames = max(int(seconds * self.rate), 1)
        self._engine.commands.append(Audition(track, pitch, velocity, frames, instrument))

    @property
    def playing(self) -> bool:
        """True from play() until stop(), or until the song and its release tail have ended."""
        return self._requested and self._engine.finished != self._session

    def update(self, song: Song, changed: frozenset[int] | None = None) -> None:
        """A new state of the song after an edit: copies it (only the patterns in `changed`,
        all when None) and hands the copy to the engine. Heard from the next row that has not
        been rendered yet; mute, solo, volume and pan from the next block.

        Raises:
            TrackerError: the song now uses an undefined instrument or a bad preset.
        """
        snapshot = copy_song(song, self._snapshot, changed)
        for track in snapshot.tracks:
            if track.kind is TrackKind.INSTRUMENT:  # load presets here, not on the engine thread
                self._library.factory(track_preset(snapshot, track))
        renderer = None
        if track_layout(snapshot) != self._layout:
            renderer = LiveRenderer(snapshot, self.rate, self._library, self.block)
            self._layout = renderer.layout
        stream = None
        if self.playing:
            loop = self._loop_pattern
            if loop is not None and loop not in snapshot.patterns:
                self._snapshot = snapshot
                self._engine.commands.append(Update(snapshot, renderer, None, self._session))
                self.stop()
                return
            anchor = self._engine.anchor
            if anchor.session == self._session:
                origin = anchor.loop_origin if loop is not None else 0
                ahead = anchor.tick - origin
            else:  # the engine has not started this session yet
                origin, ahead = 0, self._start_tick
            region = self._loop_order
            if region is not None and region[1] >= len(snapshot.order):
                region = (0, len(snapshot.order) - 1) if snapshot.order else None
            stream = SongStream(snapshot, self.rate, loop, origin, region, self._loop_at)
            # Most of the skipping happens here, on the UI thread; the engine finishes it.
            stream.skip_to(max(ahead - snapshot.ticks_per_line, 0))
        self._snapshot = snapshot
        self._engine.commands.append(Update(snapshot, renderer, stream, self._session))

    # -- status -------------------------------------------------------------------------------

    def status(self) -> TransportStatus:
        """Where the listener is: frames handed to the device minus its output latency."""
        heard = self._ring.position - self._sink.latency_frames()
        info = self._engine.info_at(heard // self.block if heard >= 0 else -1)
        lost = self._sink.lost
        audio = self._sink.description
        if self._engine.error:
            audio = f"{audio} · {self._engine.error}"
        if self._engine.renderer.warnings:
            audio = f"{audio} · {self._engine.renderer.warnings[-1]}"
        return TransportStatus(
            playing=self.playing,
            order_index=info.order_index,
            pattern=info.pattern,
            row=info.row,
            tick=info.tick,
            bpm=info.bpm,
            looping=info.looping,
            underruns=self._sink.underruns(),
            audio=audio,
            audio_ok=self._sink.ok and not lost,
            voices=info.voices,
            midi=self._midi_status(),
            level=info.level,
            track_levels=info.track_levels,
            audio_lost=lost,
        )

    def _midi_status(self) -> str:
        midi = self._midi
        if midi is None:
            return self._midi_note
        if midi.warnings:
            return f"MIDI: {midi.warnings[-1]}"
        ports = midi.port_names()
        return f"MIDI: {ports[0]}" if len(ports) == 1 else f"MIDI: {len(ports)} ports"

    def panic(self) -> None:
        """End every MIDI note we sent, now: note-offs, all notes off, all sound off."""
        if self._midi is not None:
            self._midi.panic()

    @property
    def midi(self) -> MidiOut | None:
        return self._midi

    def thru(self, track: int, pitch: int, velocity: int) -> None:
        """A note played on a MIDI keyboard, to `track`'s sound now (velocity 0: its end):
        its MIDI port when it has one, else its instrument (a short audition)."""
        midi = self._midi
        if midi is not None and track in midi.tracks:
            frame = midi.clock.frame_at(time.perf_counter_ns())
            at = int(frame) + 1 if frame is not None else 0
            event = NoteOn(0, track, pitch, velocity) if velocity else NoteOff(0, track, pitch)
            midi.event(at, event)
        elif velocity:
            self.audition(track, pitch, velocity)

    def start_ns(self) -> int | None:
        """When the start of the current play() is heard (perf_counter_ns); None until the
        engine has taken it up."""
        session, frame = self._engine.started
        return self._sink.clock.ns_at(frame) if session == self._session else None

    def tick_now(self) -> float:
        """The song tick heard at this moment, between blocks too (the output's frame clock
        says which frame is heard now); the block's own tick when the clock has no reports."""
        frame = self._sink.clock.frame_at(time.perf_counter_ns())
        if frame is None:
            return float(self.status().tick)
        index = int(frame) // self.block
        info = self._engine.info_at(index)
        if info.index != index or not info.playing:
            return float(info.tick)
        per_frame = info.bpm * self._snapshot.ticks_per_beat / (60 * self.rate)
        return info.tick + (frame - index * self.block) * per_frame

    def close(self) -> None:
        """Stop the engine thread, end every MIDI note (a panic), close the audio stream.
        Safe to call twice."""
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self._midi is not None:
            self._midi.close()
        self._sink.close()
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until_stopped(transport: Transport, timeout: float) -> bool:
    """Block until playback ends by itself (song end plus tail); False on timeout."""
    deadline = time.monotonic() + timeout
    while transport.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    return not transport.playing
