"""The block renderer as live playback needs it: every instrument track, faders that move.

Offline render builds its renderer over the audible tracks with faders fixed. Live playback
cannot rebuild on a mute (the voices would vanish mid-note), so it renders every instrument
track and makes an inaudible track's fader (0, 0). A silent track then adds exact zeros, and
the mix of an unchanged song stays sample-identical to the offline render of its audible
tracks; volume and pan use the very same gain formula as a fresh renderer would.
"""

from __future__ import annotations

import numpy as np

from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.mixer import BlockRenderer, fader_gains, track_preset
from tracker.engine.sequencer import tempo_changes
from tracker.engine.timeline import arrangement_frames
from tracker.model.events import NoteOff, NoteOn
from tracker.model.song import Song


def track_layout(song: Song) -> tuple[object, ...]:
    """What decides which tracks a renderer holds and how they are wired: a change here
    needs a new renderer (sounding notes end; a routing change is no live gesture)."""
    return (
        tuple(
            (t.kind, t.frozen, repr(t.clips), repr(t.effects), t.output, tuple(t.sends.items()))
            for t in song.tracks
        ),
        repr(song.master),
        # Clips are read by their place in the arrangement and its tempo map.
        _arrangement(song) if any(t.audio_clips() for t in song.tracks) else None,
    )


def _arrangement(song: Song) -> tuple[object, ...]:
    """Where each tick of the arrangement falls: the order list and every tempo in it."""
    changes = tuple((c.tick, c.bpm) for c in tempo_changes(song))
    return (tuple(song.order), song.ticks_per_line, song.lines_per_beat, changes)


class LiveRenderer(BlockRenderer):
    """A BlockRenderer over all instrument tracks whose faders follow song updates."""

    def __init__(self, song: Song, rate: int, library: InstrumentLibrary, max_block: int) -> None:
        super().__init__(
            song,
            rate,
            library,
            max_block=max_block,
            tracks=range(len(song.tracks)),
            clip_frame=arrangement_frames(song, rate),
            missing_audio_ok=True,  # a lost file silences its track, not the whole song
        )
        self.layout = track_layout(song)
        # The preset each track was last given (a program change may play another meanwhile).
        self._presets = {index: track_preset(song, song.tracks[index]) for index in self.tracks}
        self.apply_mix(song)

    def apply_mix(self, song: Song) -> None:
        """Take mute, solo, volume, pan and track instruments from `song` (same layout).

        Call between blocks: the new gains hold from the next block's first frame.
        """
        self.song = song
        audible = set(song.audible_tracks())
        for index in self.tracks:
            track = song.tracks[index]
            self.set_fader(index, fader_gains(track) if index in audible else (0.0, 0.0))
            preset = track_preset(song, track)
            if preset != self._presets[index]:
                self._presets[index] = preset
                self.set_preset(index, preset)


def warm_up(song: Song, rate: int, library: InstrumentLibrary, block: int) -> None:
    """Play a few notes on every track into a throwaway renderer, so numba loads (or compiles)
    the instruments' kernels now, not in the first block after play (measured: 43 ms, four
    blocks' budget, the first time a kernel runs)."""
    renderer = LiveRenderer(song, rate, library, block)
    out = np.zeros((block, 2), dtype=np.float32)
    keys = [(index, pitch) for index in renderer.tracks for pitch in (36, 60)]
    renderer.render(out, [(0, NoteOn(0, track, pitch, 100)) for track, pitch in keys])
    renderer.render(out, [(0, NoteOff(0, track, pitch)) for track, pitch in keys])
