"""The block renderer: events → instruments → per-track gain and pan → the stereo mix.

One renderer serves offline render, freeze and (later) the live audio callback, so `render`
allocates nothing in steady state: every buffer is sized for `max_block` in __init__.

Tracks are independent until the final sum, so each track renders its instruments in segments
split only at its own events: an event takes effect at exactly its frame, and the output is the
same samples whatever block sizes the caller uses.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

import numba
import numpy as np

from tracker.dsp import gm
from tracker.dsp.audio_clips import ClipVoices
from tracker.dsp.effects import Effect, build_effect
from tracker.dsp.instrument import Instrument
from tracker.dsp.library import InstrumentLibrary
from tracker.model.errors import TrackerError
from tracker.model.events import (
    ClipStart,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
)
from tracker.model.routing import RETURN_OUTPUT, RETURN_SEND, reference_problem
from tracker.model.song import Song, Track, TrackKind

VOLUME_CC = 7
PAN_CC = 10
NOTE_MEMORY = 64  # note-ons remembered per pitch awaiting their note-off (drums may send none)


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _spread(mono, pre, start, stop, left, right):  # type: ignore[no-untyped-def]
    """pre[start:stop] += mono × (left, right): an instrument's mono sum placed in stereo."""
    left32 = np.float32(left)
    right32 = np.float32(right)
    for i in range(start, stop):
        pre[i, 0] += mono[i] * left32
        pre[i, 1] += mono[i] * right32


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _send(pre, out, stop, left, right):  # type: ignore[no-untyped-def]
    """out[:stop] += pre × (left, right): a track into its bus (or a send into a return)."""
    left32 = np.float32(left)
    right32 = np.float32(right)
    for i in range(stop):
        out[i, 0] += pre[i, 0] * left32
        out[i, 1] += pre[i, 1] * right32


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _peak(block, stop):  # type: ignore[no-untyped-def]
    """The loudest sample of block[:stop] (either channel): what a meter shows."""
    peak = np.float32(0.0)
    for i in range(stop):
        for channel in range(2):
            value = abs(block[i, channel])
            if value > peak:
                peak = value
    return peak


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _scaled(pre, stem, stop, left, right):  # type: ignore[no-untyped-def]
    """stem[:stop] = pre × (left, right): a track's post-fader signal."""
    left32 = np.float32(left)
    right32 = np.float32(right)
    for i in range(stop):
        stem[i, 0] = pre[i, 0] * left32
        stem[i, 1] = pre[i, 1] * right32


def _pan_law(cc_value: int) -> tuple[float, float]:
    """CC 10 → constant-power gains, normalised so the centre is (1, 1)."""
    pan = min(max((cc_value - 64) / 63.0, -1.0), 1.0)
    angle = (pan + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(angle), math.sqrt(2.0) * math.sin(angle)


def _balance_law(pan: float) -> tuple[float, float]:
    """Track pan as balance: the centre is unity, one side fades as the other stays."""
    return math.cos(max(pan, 0.0) * math.pi / 2.0), math.cos(max(-pan, 0.0) * math.pi / 2.0)


def fader_gains(track: Track) -> tuple[float, float]:
    """A track's post-fader (left, right) gains: its volume in dB and its balance-law pan."""
    gain = 10.0 ** (track.volume_db / 20.0)
    left, right = _balance_law(track.pan)
    return (gain * left, gain * right)


def track_preset(song: Song, track: Track) -> str:
    """The preset a track plays: its song instrument's, else the GM default of its channel.

    Raises:
        TrackerError: the track names an instrument number the song does not define.
    """
    if track.instrument is None:
        return gm.preset_for_track(track.channel, 0)
    if track.instrument not in song.instruments:
        raise TrackerError(
            f"track {track.name!r}: instrument {track.instrument} is not defined in the song"
        )
    return song.instruments[track.instrument]


class _TrackState:
    """One rendered track: its instruments or clips, controllers, effects, where it plays into
    and its place in the current block. Group and return tracks are states too (buses)."""

    def __init__(
        self, slot: int, index: int, preset: str | None, fader: tuple[float, float], max_block: int
    ) -> None:
        self.slot = slot  # position in BlockRenderer.tracks
        self.index = index  # in song.tracks
        self.current = preset  # None: plays no notes
        self.instances: dict[str, Instrument] = {}
        self.order: list[Instrument] = []  # render order: creation order
        self.notes = [deque[Instrument](maxlen=NOTE_MEMORY) for _ in range(128)]
        self.controls: dict[int, int] = {}  # last value of every CC the instruments saw
        self.bend = 0
        self.fader = fader  # post-fader (left, right), or (1, 1) pre-fader
        self.volume = 1.0  # CC 7
        self.pan = (1.0, 1.0)  # CC 10
        self.left = self.right = 0.0
        self.update_gains()
        self.block_gains = (self.left, self.right)  # the CC gains this block started with
        self.changes: list[tuple[int, float, float]] = []  # (frame, left, right) in this block
        self.mono = np.zeros(max_block, dtype=np.float32)  # the instruments' sum
        self.pre = np.zeros((max_block, 2), dtype=np.float32)  # pre-fader: input of the fader
        self.voices = ClipVoices([])
        self.clip_starts: list[int] = []  # arrangement tick each clip starts at
        self.clip_paths: list[str] = []
        self.effects: list[Effect] = []
        self.destination: _TrackState | None = None  # a group's state; None: the master
        self.muted_output = False  # it plays into a group that is not heard
        self.sends: list[tuple[_TrackState, float]] = []  # (return's state, linear level)
        self.stem: int | None = None  # its index in `stems`, when it plays into the master
        self.pos = 0  # frames of this block rendered into mono
        self.sounding = False  # mono holds signal in this block
        self.dirty = False  # pre holds signal from an earlier block
        self.level = 0.0  # the block's post-fader peak (a meter)

    def update_gains(self) -> None:
        self.left = self.volume * self.pan[0]
        self.right = self.volume * self.pan[1]

    def busy(self) -> bool:
        """Whether the track may make sound this block (its effects may ring on)."""
        return self.sounding or self.voices.active() or bool(self.effects) or self.dirty


class BlockRenderer:
    """Renders a song block by block from timed events: instruments and clips into tracks,
    tracks through their effects and faders into groups, sends into returns, all into the
    master (its effects, its fader)."""

    def __init__(
        self,
        song: Song,
        rate: int,
        library: InstrumentLibrary,
        *,
        max_block: int = 8192,
        tracks: Sequence[int] | None = None,
        prefader: bool = False,
        clip_frame: Callable[[int], int] | None = None,
        tap: int | None = None,
        missing_audio_ok: bool = False,
    ) -> None:
        """Create every instrument, effect and clip the tracks use, so bad input fails now.

        Args:
            tracks: indices of song.tracks to render; None renders the audible ones (the
                soloed, else the unmuted). Instrument, audio and frozen tracks sound; groups
                and returns among them carry what plays into them. `self.tracks` lists those
                rendered; `self.stem_tracks` those that play into the master (the order of
                `stems`).
            prefader: one track alone before its fader: instrument (or clips) and its effects,
                no fader, pan, sends, group or master (what freeze renders).
            clip_frame: the frame (at `rate`) of an arrangement tick, for reading clips; the
                caller's tempo map (dsp knows no tempo). Needed when the song has audio.
            tap: a track whose output (after its effects, fader and what plays into it)
                `out` receives instead of the master's (what resampling a track records).
            missing_audio_ok: a track whose audio cannot be read stays silent and says why in
                `warnings` (live playback goes on; a render must fail instead).

        Raises:
            TrackerError: a bad track index, an undefined instrument number, a bad preset or
                effect, an unreadable audio file, a send to a track that is not a return.
        """
        self.song = song
        self.rate = rate
        self.library = library
        self.max_block = max_block
        self.prefader = prefader
        self._clip_frame = clip_frame
        self._missing_audio_ok = missing_audio_ok
        self.warnings: list[str] = []
        chosen = list(tracks) if tracks is not None else song.audible_tracks()
        for index in chosen:
            if not 0 <= index < len(song.tracks):
                raise TrackerError(f"no track {index + 1} (the song has {len(song.tracks)})")
        self.tracks = [i for i in chosen if song.tracks[i].makes_audio]
        for name in song.instruments.values():
            library.factory(name)
        self._states = [self._track_state(s, i) for s, i in enumerate(self.tracks)]
        self._by_track = {state.index: state for state in self._states}
        self._route()
        self._tap = None if tap is None else self._by_track.get(tap)
        if tap is not None and self._tap is None:
            raise TrackerError(f"track {song.tracks[tap].name!r} is not heard: nothing to record")

    def _track_state(self, slot: int, index: int) -> _TrackState:
        track = self.song.tracks[index]
        plays = track.kind is TrackKind.INSTRUMENT and track.plays_notes
        preset = track_preset(self.song, track) if plays else None
        fader = (1.0, 1.0) if self.prefader else fader_gains(track)
        state = _TrackState(slot, index, preset, fader, self.max_block)
        if preset is not None:
            for name in [preset, *self._presets_used(index, track.channel)]:
                self._instance(state, name)
        clips = track.audio_clips()
        if clips:
            if self._clip_frame is None:
                raise TrackerError(f"track {track.name!r} plays audio: no tempo map was given")
            try:
                state.voices = ClipVoices([self.library.clip(c.path) for c in clips])
            except TrackerError as exc:
                problem = TrackerError(
                    f"track {track.name!r} is frozen to {exc}; its notes are kept:"
                    " unfreezing it plays them again"
                    if track.frozen is not None
                    else f"track {track.name!r}: {exc}"
                )
                if not self._missing_audio_ok:
                    raise problem from None
                self.warnings.append(f"{problem} (silent)")
            state.clip_starts = [c.tick for c in clips]
            state.clip_paths = [c.path for c in clips]
        # A frozen render holds the track's effects already; a MIDI track's recording does not.
        baked = track.frozen is not None and track.kind is TrackKind.INSTRUMENT
        chain = [] if baked else track.effects
        try:
            state.effects = [
                build_effect(e.kind, e.params, self.rate, self.max_block) for e in chain
            ]
        except TrackerError as exc:
            raise TrackerError(f"track {track.name!r}: {exc}") from None
        return state

    def _route(self) -> None:
        """Where each state plays into, its sends, and the order buses are finished in.

        A track whose group is not heard (muted, or not soloed) is still rendered: its output
        goes nowhere, its sends still reach their returns, as in a DAW, and the same in live
        playback (where the group's fader is 0) and offline.
        """
        song = self.song
        kept = []
        for state in self._states:
            track = song.tracks[state.index]
            if self.prefader:
                kept.append(state)
                continue
            problems = [
                reference_problem(song, track.output, TrackKind.GROUP)
                if track.output is not None
                else None,
                *(reference_problem(song, name, TrackKind.RETURN) for name in track.sends),
                RETURN_OUTPUT if track.kind is TrackKind.RETURN and track.output else None,
                RETURN_SEND if track.kind is TrackKind.RETURN and track.sends else None,
            ]
            for problem in problems:
                if problem is not None:
                    raise TrackerError(f"track {track.name!r}: {problem}")
            if track.output is not None:
                group = self._state_named(track.output)
                if group is None:
                    state.muted_output = True  # its group is not heard
                state.destination = group
            for name, level_db in track.sends.items():
                target = self._state_named(name)
                if target is not None:  # else that return is not heard
                    state.sends.append((target, 10.0 ** (level_db / 20.0)))
            kept.append(state)

        # Leaves first (track order), then groups innermost first, then returns: every bus
        # is complete before it is finished.
        def rank(state: _TrackState) -> tuple[int, int]:
            kind = song.tracks[state.index].kind
            if kind is TrackKind.RETURN:
                return (2, state.slot)
            if kind is TrackKind.GROUP:
                return (1, -len(song.groups_above(state.index)))
            return (0, state.slot)

        self._finish_order = sorted(kept, key=rank)
        top = [s for s in self._finish_order if s.destination is None and not s.muted_output]
        self.stem_tracks = [s.index for s in sorted(top, key=lambda s: s.slot)]
        for number, index in enumerate(self.stem_tracks):
            self._by_track[index].stem = number
        self._master_effects = self._master_chain()
        self._master_gain = 1.0 if self.prefader else 10.0 ** (song.master.volume_db / 20.0)
        self.master_level = 0.0  # the last block's peak

    def _state_named(self, name: str) -> _TrackState | None:
        """The rendered state of the track called `name` (None: not rendered, not heard)."""
        index = self.song.track_named(name)
        return None if index is None else self._by_track.get(index)

    def _master_chain(self) -> list[Effect]:
        if self.prefader:
            return []
        try:
            return [
                build_effect(e.kind, e.params, self.rate, self.max_block)
                for e in self.song.master.effects
            ]
        except TrackerError as exc:
            raise TrackerError(f"master: {exc}") from None

    def effects(self) -> list[Effect]:
        """Every effect in use: tracks', then the master's."""
        return [e for s in self._states for e in s.effects] + self._master_effects

    def latency_frames(self) -> int:
        """How late the master's output runs (a lookahead limiter's delay)."""
        return sum(e.latency_frames() for e in self._master_effects)

    def set_fader(self, index: int, fader: tuple[float, float]) -> None:
        """Move song track `index`'s post-fader (left, right) gains from the next block on."""
        state = self._by_track[index]
        state.fader = fader

    def set_preset(self, index: int, preset: str) -> None:
        """Make `preset` song track `index`'s own sound (its instrument changed)."""
        state = self._by_track[index]
        if state.current is not None:
            state.current = preset
            self._instance(state, preset)

    def _presets_used(self, index: int, channel: int) -> list[str]:
        """Presets the track's cells name (instrument numbers, program changes): created up
        front, so the audio thread never loads a preset."""
        names = []
        for pattern in self.song.patterns.values():
            for row in pattern.data.get(index, {}).values():
                for cell in row.notes:
                    if cell is not None and cell.instrument in self.song.instruments:
                        names.append(self.song.instruments[cell.instrument])
                for effect in row.effects:
                    if effect is not None and effect.command == "P":
                        names.append(gm.preset_for_track(channel, int(effect.value)))
        return names

    def _instance(self, state: _TrackState, name: str) -> Instrument:
        instance = state.instances.get(name)
        if instance is None:
            instance = self.library.create(name)
            # A late instance joins in the track's controller state (pedal, bend, …).
            for control, value in state.controls.items():
                instance.control_change(control, value)
            if state.bend:
                instance.pitch_bend(state.bend)
            state.instances[name] = instance
            state.order.append(instance)
        return instance

    def track_levels(self) -> tuple[float, ...]:
        """The last block's post-fader peak of every song track (0 for those not rendered)."""
        levels = [0.0] * len(self.song.tracks)
        for state in self._states:
            if state.index < len(levels):
                levels[state.index] = state.level
        return tuple(levels)

    def active_voices(self) -> int:
        return sum(i.active_voices() for s in self._states for i in s.order)

    def adopt_clips(self, old: BlockRenderer) -> None:
        """Carry on the clips `old` was playing (the same file on the same track, at the same
        place): a renderer rebuilt mid-song for an edit must not silence the audio."""
        for state in self._states:
            before = old._by_track.get(state.index)
            if before is None or not state.clip_paths:
                continue
            for clip, frame in before.voices.reading.items():
                key = (before.clip_paths[clip], before.clip_starts[clip])
                mine = zip(state.clip_paths, state.clip_starts, strict=True)
                for number, here in enumerate(mine):
                    if here == key:  # the clip may have another number now
                        state.voices.reading[number] = frame

    def stop_clips(self) -> None:
        """Silence every clip (playing stopped)."""
        for state in self._states:
            state.voices.stop()

    def render(
        self,
        out: np.ndarray,
        events: Sequence[tuple[int, Event]],
        stems: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Overwrite `out` (frames × 2 float32, frames ≤ max_block) with the next frames.

        `events` are (offset in this block, event), sorted by offset; each takes effect at
        exactly its frame. Tempo changes and events of tracks not rendered are ignored.
        `stems[i]` (frames × 2) receives the post-fader signal of self.stem_tracks[i].
        """
        frames = len(out)
        if frames > self.max_block:
            raise ValueError(f"block of {frames} frames exceeds max_block {self.max_block}")
        out[:] = 0.0
        for state in self._states:
            state.pos = 0
            state.sounding = False
            if state.dirty:
                # All of it: an earlier, longer block may have left samples past `frames`
                # that a tap or a bus would otherwise read.
                state.pre[:] = 0.0
                state.dirty = False
        by_track = self._by_track
        for offset, event in events:
            state = by_track.get(getattr(event, "track", -1))
            if state is None:
                continue
            if offset > state.pos:
                self._advance(state, offset)
            self._apply(state, event, offset)
        # Every track is finished once per block, leaves in track order, then the buses: the
        # float sums then run in the same order for every frame, however blocks are split.
        for state in self._finish_order:
            self._advance(state, frames)
            self._finish(state, frames, out, stems)
        if self._tap is not None:
            _scaled(self._tap.pre, out, frames, *self._tap.fader)
            return
        if self._master_effects:
            for effect in self._master_effects:
                effect.process(out)
        if self._master_gain != 1.0:
            out *= np.float32(self._master_gain)
        self.master_level = float(_peak(out, frames))

    def _advance(self, state: _TrackState, to: int) -> None:
        """Render the track's instruments and clips from its position in the block to `to`."""
        if to <= state.pos:
            return
        view = state.mono[state.pos : to]
        for instance in state.order:
            if instance.active_voices():
                instance.render(view)
                state.sounding = True
        if state.voices.active():
            state.voices.render(state.pre[state.pos : to])
            state.dirty = True
        state.pos = to

    def _finish(
        self, state: _TrackState, frames: int, out: np.ndarray, stems: Sequence[np.ndarray] | None
    ) -> None:
        """The track's pre-fader block (instruments at their CC gains, clips, effects), then
        its fader into its group or the master, its sends, and its stem."""
        if state.sounding:
            start = 0
            left, right = state.block_gains
            for frame, new_left, new_right in state.changes:
                if frame > start:
                    _spread(state.mono, state.pre, start, frame, left, right)
                    start = frame
                left, right = new_left, new_right
            _spread(state.mono, state.pre, start, frames, left, right)
            state.mono[:frames] = 0.0
            state.dirty = True
        state.changes.clear()
        state.block_gains = (state.left, state.right)
        stem = stems[state.stem] if stems is not None and state.stem is not None else None
        if not state.busy():
            state.level = 0.0
            if stem is not None:
                stem[:frames] = 0.0
            return
        pre = state.pre[:frames]
        for effect in state.effects:
            effect.process(pre)
        state.dirty = True
        left, right = state.fader
        state.level = float(_peak(pre, frames)) * max(abs(left), abs(right))
        if state.destination is not None:
            _send(pre, state.destination.pre, frames, left, right)
            state.destination.dirty = True
        elif not state.muted_output:
            _send(pre, out, frames, left, right)
        for bus, level in state.sends:
            _send(pre, bus.pre, frames, left * level, right * level)
            bus.dirty = True
        if stem is not None:
            _scaled(pre, stem, frames, left, right)

    def _apply(self, state: _TrackState, event: Event, offset: int) -> None:
        if isinstance(event, ClipStart):
            if 0 <= event.clip < len(state.clip_starts) and self._clip_frame is not None:
                frame = self._clip_frame(event.source_tick)
                frame -= self._clip_frame(state.clip_starts[event.clip])
                state.voices.start(event.clip, frame)
        elif isinstance(event, NoteOn):
            if state.current is None:
                return
            name = state.current
            if event.instrument is not None:
                name = self.song.instruments.get(event.instrument, name)
            instance = self._instance(state, name)
            instance.note_on(event.pitch, event.velocity)
            state.notes[event.pitch].append(instance)
        elif isinstance(event, NoteOff):
            started = state.notes[event.pitch]
            if started:
                started.popleft().note_off(event.pitch, event.cut)
        elif isinstance(event, ControlChange):
            if event.control in (VOLUME_CC, PAN_CC):
                if event.control == VOLUME_CC:
                    state.volume = (event.value / 127.0) ** 2
                else:
                    state.pan = _pan_law(event.value)
                state.update_gains()
                state.changes.append((offset, state.left, state.right))
            else:
                state.controls[event.control] = event.value
                for instance in state.order:
                    instance.control_change(event.control, event.value)
        elif isinstance(event, PitchBend):
            state.bend = event.value
            for instance in state.order:
                instance.pitch_bend(event.value)
        elif isinstance(event, ProgramChange):
            if state.current is None:
                return
            channel = self.song.tracks[state.index].channel
            state.current = gm.preset_for_track(channel, event.program)
            self._instance(state, state.current)
