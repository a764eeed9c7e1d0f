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
from collections.abc import Sequence

import numba
import numpy as np

from tracker.dsp import gm
from tracker.dsp.instrument import Instrument
from tracker.dsp.library import InstrumentLibrary
from tracker.model.errors import TrackerError
from tracker.model.events import (
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
)
from tracker.model.song import Song, Track, TrackKind

VOLUME_CC = 7
PAN_CC = 10
NOTE_MEMORY = 64  # note-ons remembered per pitch awaiting their note-off (drums may send none)


@numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _mix(mono, out, stem, start, stop, left, right, with_stem):  # type: ignore[no-untyped-def]
    """out[start:stop] += mono × (left, right); the stem (if any) gets the same samples."""
    left32 = np.float32(left)
    right32 = np.float32(right)
    if with_stem:
        for i in range(start, stop):
            stem[i, 0] = mono[i] * left32
            stem[i, 1] = mono[i] * right32
            out[i, 0] += stem[i, 0]
            out[i, 1] += stem[i, 1]
    else:
        for i in range(start, stop):
            out[i, 0] += mono[i] * left32
            out[i, 1] += mono[i] * right32


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
    """One rendered track: its instruments, controllers and place in the current block."""

    def __init__(
        self, slot: int, index: int, preset: str, fader: tuple[float, float], max_block: int
    ) -> None:
        self.slot = slot  # position in BlockRenderer.tracks (and in stems)
        self.index = index  # in song.tracks
        self.current = preset
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
        self.block_gains = (self.left, self.right)  # the gains this block started with
        self.changes: list[tuple[int, float, float]] = []  # (frame, left, right) in this block
        self.mono = np.zeros(max_block, dtype=np.float32)  # the instruments' sum
        self.pos = 0  # frames of this block rendered into mono
        self.sounding = False  # mono holds signal in this block

    def update_gains(self) -> None:
        self.left = self.volume * self.pan[0] * self.fader[0]
        self.right = self.volume * self.pan[1] * self.fader[1]


class BlockRenderer:
    """Renders a song's instrument tracks block by block from timed events."""

    def __init__(
        self,
        song: Song,
        rate: int,
        library: InstrumentLibrary,
        *,
        max_block: int = 8192,
        tracks: Sequence[int] | None = None,
        prefader: bool = False,
    ) -> None:
        """Create every instrument the song's tracks use, so a bad preset fails now.

        Args:
            tracks: indices of song.tracks to render; None renders the audible ones (the
                soloed, else the unmuted). Only instrument tracks sound here; `self.tracks`
                lists those actually rendered (the order of `stems`).
            prefader: skip the track fader and pan (a single track, as freeze hears it).

        Raises:
            TrackerError: a bad track index, an undefined instrument number, a bad preset.
        """
        self.song = song
        self.rate = rate
        self.library = library
        self.max_block = max_block
        chosen = list(tracks) if tracks is not None else song.audible_tracks()
        for index in chosen:
            if not 0 <= index < len(song.tracks):
                raise TrackerError(f"no track {index + 1} (the song has {len(song.tracks)})")
        self.tracks = [i for i in chosen if song.tracks[i].kind is TrackKind.INSTRUMENT]
        for name in song.instruments.values():
            library.factory(name)
        self._states = [self._track_state(s, i, prefader) for s, i in enumerate(self.tracks)]
        self._by_track = {state.index: state for state in self._states}
        self._no_stem = np.zeros((1, 2), dtype=np.float32)

    def _track_state(self, slot: int, index: int, prefader: bool) -> _TrackState:
        track = self.song.tracks[index]
        preset = track_preset(self.song, track)
        fader = (1.0, 1.0) if prefader else fader_gains(track)
        state = _TrackState(slot, index, preset, fader, self.max_block)
        for name in [preset, *self._presets_used(index, track.channel)]:
            self._instance(state, name)
        return state

    def set_fader(self, index: int, fader: tuple[float, float]) -> None:
        """Move song track `index`'s post-fader (left, right) gains from the next block on."""
        state = self._by_track[index]
        if fader != state.fader:
            state.fader = fader
            state.update_gains()
            state.block_gains = (state.left, state.right)

    def set_preset(self, index: int, preset: str) -> None:
        """Make `preset` song track `index`'s own sound (its instrument changed)."""
        state = self._by_track[index]
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

    def active_voices(self) -> int:
        return sum(i.active_voices() for s in self._states for i in s.order)

    def render(
        self,
        out: np.ndarray,
        events: Sequence[tuple[int, Event]],
        stems: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Overwrite `out` (frames × 2 float32, frames ≤ max_block) with the next frames.

        `events` are (offset in this block, event), sorted by offset; each takes effect at
        exactly its frame. Tempo changes and events of tracks not rendered are ignored.
        `stems[i]` (frames × 2) receives the post-fader signal of self.tracks[i].
        """
        frames = len(out)
        if frames > self.max_block:
            raise ValueError(f"block of {frames} frames exceeds max_block {self.max_block}")
        out[:] = 0.0
        for state in self._states:
            state.pos = 0
            state.sounding = False
        by_track = self._by_track
        for offset, event in events:
            state = by_track.get(getattr(event, "track", -1))
            if state is None:
                continue
            if offset > state.pos:
                self._advance(state, offset)
            self._apply(state, event, offset)
        # Mix in track order, once per block: the float sum of the tracks then runs in the same
        # order for every frame, however the caller splits blocks.
        for state in self._states:
            self._advance(state, frames)
            self._mix_track(state, frames, out, stems[state.slot] if stems is not None else None)
            if state.sounding:
                state.mono[:frames] = 0.0

    def _advance(self, state: _TrackState, to: int) -> None:
        """Render the track's instruments from its position in the block up to frame `to`."""
        view = state.mono[state.pos : to]
        for instance in state.order:
            if instance.active_voices():
                instance.render(view)
                state.sounding = True
        state.pos = to

    def _mix_track(
        self, state: _TrackState, frames: int, out: np.ndarray, stem: np.ndarray | None
    ) -> None:
        """Add the track's block to the mix (and write its stem), gains changing at the frames
        the block's CC 7 / CC 10 events gave."""
        if not state.sounding:
            if stem is not None:
                stem[:frames] = 0.0
        else:
            start = 0
            left, right = state.block_gains
            target = self._no_stem if stem is None else stem
            for frame, new_left, new_right in state.changes:
                if frame > start:
                    _mix(state.mono, out, target, start, frame, left, right, stem is not None)
                    start = frame
                left, right = new_left, new_right
            _mix(state.mono, out, target, start, frames, left, right, stem is not None)
        state.changes.clear()
        state.block_gains = (state.left, state.right)

    def _apply(self, state: _TrackState, event: Event, offset: int) -> None:
        if isinstance(event, NoteOn):
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
            channel = self.song.tracks[state.index].channel
            state.current = gm.preset_for_track(channel, event.program)
            self._instance(state, state.current)
