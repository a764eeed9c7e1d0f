"""The interface every built-in instrument (synth, sampler, drum kit) offers the mixer.

One instance per track and preset: it owns its voices. The mixer splits each block at event
offsets, so `render` always covers frames between two events and events apply between renders;
that keeps every note sample-accurate whatever the block size.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Instrument(Protocol):
    def note_on(self, pitch: int, velocity: int) -> None:
        """Start a note now (at the frame the next `render` call begins with)."""

    def note_off(self, pitch: int, cut: bool = False) -> None:
        """Release the oldest voice of `pitch`; `cut` silences it at once (a few-ms fade)."""

    def control_change(self, control: int, value: int) -> None:
        """A MIDI controller: 7 volume, 10 pan is the mixer's; 64 sustain, 1/74 brightness, 120/123
        all sound/notes off are the instrument's; others are ignored."""

    def pitch_bend(self, value: int) -> None:
        """-8192..8191, ±2 semitones, applies to every voice."""

    def render(self, out: np.ndarray) -> None:
        """Add the next len(out) frames of this instrument into `out` (mono float32, 1-D view)."""

    def active_voices(self) -> int:
        """How many voices sound (a render stops its tail when every instrument is silent)."""
