"""The block renderer as live playback needs it: every instrument track, faders that move.

Offline render builds its renderer over the audible tracks with faders fixed. Live playback
cannot rebuild on a mute (the voices would vanish mid-note), so it renders every instrument
track and makes an inaudible track's fader (0, 0). A silent track then adds exact zeros, and
the mix of an unchanged song stays sample-identical to the offline render of its audible
tracks; volume and pan use the very same gain formula as a fresh renderer would.

This reaches into BlockRenderer's per-track state: a public `set_fader` there would be
cleaner (noted for the lead), but dsp/ is not ours to edit.
"""

from __future__ import annotations

import numpy as np

from tracker.dsp import gm
from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.mixer import BlockRenderer, _balance_law
from tracker.model.errors import TrackerError
from tracker.model.events import NoteOff, NoteOn
from tracker.model.song import Song, Track, TrackKind


def fader_gains(track: Track, audible: bool) -> tuple[float, float]:
    """(left, right) post-fader gains, as BlockRenderer computes them; (0, 0) when silent."""
    if not audible:
        return (0.0, 0.0)
    gain = 10.0 ** (track.volume_db / 20.0)
    balance = _balance_law(track.pan)
    return (gain * balance[0], gain * balance[1])


def track_preset(song: Song, track: Track) -> str:
    if track.instrument is None:
        return gm.preset_for_track(track.channel, 0)
    if track.instrument not in song.instruments:
        raise TrackerError(
            f"track {track.name!r}: instrument {track.instrument} is not defined in the song"
        )
    return song.instruments[track.instrument]


def track_layout(song: Song) -> tuple[TrackKind, ...]:
    """What decides which tracks a renderer holds: a change here needs a new renderer."""
    return tuple(track.kind for track in song.tracks)


class LiveRenderer(BlockRenderer):
    """A BlockRenderer over all instrument tracks whose faders follow song updates."""

    def __init__(self, song: Song, rate: int, library: InstrumentLibrary, max_block: int) -> None:
        super().__init__(song, rate, library, max_block=max_block, tracks=range(len(song.tracks)))
        self.layout = track_layout(song)
        self._presets = {state.index: state.current for state in self._states}
        self.apply_mix(song)

    def apply_mix(self, song: Song) -> None:
        """Take mute, solo, volume, pan and track instruments from `song` (same layout).

        Call between blocks: the new gains hold from the next block's first frame.
        """
        self.song = song
        audible = set(song.audible_tracks())
        for state in self._states:
            track = song.tracks[state.index]
            fader = fader_gains(track, state.index in audible)
            if fader != state.fader:
                state.fader = fader
                state.update_gains()
                state.block_gains = (state.left, state.right)
            preset = track_preset(song, track)
            if preset != self._presets[state.index]:
                self._presets[state.index] = preset
                state.current = preset
                self._instance(state, preset)


def warm_up(song: Song, rate: int, library: InstrumentLibrary, block: int) -> None:
    """Play a few notes on every track into a throwaway renderer, so numba loads (or compiles)
    the instruments' kernels now, not in the first block after play (measured: 43 ms, four
    blocks' budget, the first time a kernel runs)."""
    renderer = LiveRenderer(song, rate, library, block)
    out = np.zeros((block, 2), dtype=np.float32)
    keys = [(index, pitch) for index in renderer.tracks for pitch in (36, 60)]
    renderer.render(out, [(0, NoteOn(0, track, pitch, 100)) for track, pitch in keys])
    renderer.render(out, [(0, NoteOff(0, track, pitch)) for track, pitch in keys])
