"""Where playback is, as the UI reads it: shared by the in-process and the remote transport.

A module of its own, importing nothing heavy, so the UI's process can unpickle a status sent
by the audio process without loading the engine (numba, the instruments).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransportStatus:
    """Where playback is, at the moment the listener hears it."""

    playing: bool
    order_index: int  # order-list position of the row being heard (output latency taken off)
    pattern: int  # its pattern id
    row: int  # the row being heard
    tick: int  # song tick being heard
    bpm: float  # tempo at that point
    looping: bool
    underruns: int  # output under-runs since the transport opened
    audio: str  # "JACK · 48000 Hz · 512" / "no audio: PortAudio library not found" / …
    audio_ok: bool
    voices: int  # active synth voices
    midi: str = "MIDI: off"  # "MIDI: 2 ports" / "MIDI: port 'x' lost; …" / why there is none
    level: float = 0.0  # the master's peak in the block being heard (linear)
    track_levels: tuple[float, ...] = ()  # each song track's post-fader peak there
    audio_lost: bool = False  # the output stopped (its server died): a new engine is needed
