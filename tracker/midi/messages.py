"""Song events to MIDI bytes on a channel, and the messages that silence a synth (panic).

mido builds every message: we never hand-pack status bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from tracker.model.events import (
    ChannelPressure,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
)

ALL_SOUND_OFF = 120
RESET_CONTROLLERS = 121
ALL_NOTES_OFF = 123
SUSTAIN = 64
BANK_MSB, BANK_LSB = 0, 32


@lru_cache(maxsize=1)
def _mido() -> Any:
    import mido

    return mido


def load() -> None:
    """Import mido now. The first message built would import it, ~50 ms: on a sender thread
    that was the stop's all-notes-off going out that late."""
    _mido()


def message_bytes(kind: str, channel: int, **fields: int) -> list[int]:
    """One channel message as bytes; `channel` is 1-16 as in Track.channel."""
    return _mido().Message(kind, channel=channel - 1, **fields).bytes()


def _data(value: int) -> int:
    return min(max(int(value), 0), 127)


def event_bytes(event: Event, channel: int) -> list[int] | None:
    """The MIDI message for a song event on `channel`; None for events MIDI has no use for."""
    if isinstance(event, NoteOn):
        # velocity 0 would be a note-off: the quietest note-on is 1
        return message_bytes(
            "note_on", channel, note=_data(event.pitch), velocity=max(_data(event.velocity), 1)
        )
    if isinstance(event, NoteOff):
        return message_bytes("note_off", channel, note=_data(event.pitch), velocity=0)
    if isinstance(event, ControlChange):
        return message_bytes(
            "control_change", channel, control=_data(event.control), value=_data(event.value)
        )
    if isinstance(event, PitchBend):
        return message_bytes("pitchwheel", channel, pitch=min(max(event.value, -8192), 8191))
    if isinstance(event, ProgramChange):
        return message_bytes("program_change", channel, program=_data(event.program))
    if isinstance(event, ChannelPressure):
        return message_bytes("aftertouch", channel, value=_data(event.value))
    return None


def program_bytes(channel: int, program: int | None, bank: int | None) -> list[list[int]]:
    """Bank select (CC 0 then CC 32) and program change, for a track's start."""
    sent = []
    if bank is not None:
        msb, lsb = divmod(min(max(bank, 0), 16383), 128)
        sent.append(message_bytes("control_change", channel, control=BANK_MSB, value=msb))
        sent.append(message_bytes("control_change", channel, control=BANK_LSB, value=lsb))
    if program is not None:
        sent.append(message_bytes("program_change", channel, program=_data(program)))
    return sent


def panic_bytes(
    held: Iterable[tuple[int, int]], channels: Iterable[int], *, sound_off: bool
) -> list[list[int]]:
    """A note-off for every (channel, pitch) we know sounds, then on every channel we used:
    sustain off and all notes off, and all sound off when `sound_off` (it also cuts releases
    and reverb tails, so an ordinary stop leaves it out)."""
    sent = [message_bytes("note_off", c, note=_data(p), velocity=0) for c, p in held]
    for channel in sorted(set(channels)):
        sent.append(message_bytes("control_change", channel, control=SUSTAIN, value=0))
        sent.append(message_bytes("control_change", channel, control=ALL_NOTES_OFF, value=0))
        if sound_off:
            sent.append(message_bytes("control_change", channel, control=ALL_SOUND_OFF, value=0))
    return sent


# System real-time and common messages for MIDI clock (24 pulses a quarter note).
CLOCKS_PER_BEAT = 24
CLOCK = [0xF8]
START = [0xFA]
CONTINUE = [0xFB]
STOP = [0xFC]


def song_position_bytes(sixteenths: int) -> list[int]:
    """Song position pointer: MIDI beats (16th notes) since the song's start, 14 bits."""
    return _mido().Message("songpos", pos=min(max(sixteenths, 0), 16383)).bytes()
