"""Song → Standard MIDI File (type 1): a conductor track, then one MIDI track per song track.

Everything goes through the sequencer, so the file plays what the tracker plays: swing, delays,
note lengths and retriggers included. Song ticks are MIDI ticks (ppq = song.ticks_per_beat).
Muted tracks are exported too: mute is a mix setting, not part of the music.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import mido

from tracker.atomic import atomic_path
from tracker.engine.sequencer import sequence
from tracker.model.events import (
    ChannelPressure,
    ControlChange,
    Event,
    NoteOff,
    NoteOn,
    PitchBend,
    ProgramChange,
    TempoChange,
)
from tracker.model.song import Song

NOTE_OFF_VELOCITY = 0x40  # the "no release velocity" value of the MIDI spec
MAX_TEMPO = 0xFFFFFF  # microseconds per beat in a set_tempo meta: about 3.58 BPM


class _TrackBuilder:
    """One MIDI track: messages with delta times, from events at absolute ticks."""

    def __init__(self, name: str) -> None:
        self.track: Any = mido.MidiTrack()
        # mido writes meta text as latin-1; anything else would fail halfway through the save.
        latin1 = name.encode("latin-1", "replace").decode("latin-1")
        self.track.append(mido.MetaMessage("track_name", name=latin1, time=0))
        self.last_tick = 0

    def add(self, tick: int, kind: str, **fields: Any) -> None:
        delta = tick - self.last_tick
        self.last_tick = tick
        if kind in ("set_tempo", "time_signature"):
            self.track.append(mido.MetaMessage(kind, time=delta, **fields))
        else:
            self.track.append(mido.Message(kind, time=delta, **fields))

    def replace_tempo_at(self, tick: int, tempo: int) -> bool:
        # Several tempos at one tick: only the last counts, so keep the file clean.
        last = self.track[-1]
        if last.type == "set_tempo" and tick == self.last_tick:
            self.track[-1] = last.copy(tempo=tempo)
            return True
        return False

    def end(self, tick: int) -> Any:
        self.track.append(mido.MetaMessage("end_of_track", time=max(0, tick - self.last_tick)))
        return self.track


def _data(value: int) -> int:
    return min(max(int(value), 0), 127)


def _tempo(bpm: float) -> int:
    if bpm <= 0:
        return MAX_TEMPO
    return min(max(mido.bpm2tempo(bpm), 1), MAX_TEMPO)


def _add_event(builder: _TrackBuilder, channel: int, event: Event) -> None:
    tick = event.tick
    if isinstance(event, NoteOn):
        velocity = max(1, _data(event.velocity))  # velocity 0 would be a note-off
        builder.add(tick, "note_on", channel=channel, note=_data(event.pitch), velocity=velocity)
    elif isinstance(event, NoteOff):
        builder.add(
            tick, "note_off", channel=channel, note=_data(event.pitch), velocity=NOTE_OFF_VELOCITY
        )
    elif isinstance(event, ControlChange):
        builder.add(
            tick,
            "control_change",
            channel=channel,
            control=_data(event.control),
            value=_data(event.value),
        )
    elif isinstance(event, PitchBend):
        builder.add(tick, "pitchwheel", channel=channel, pitch=min(max(event.value, -8192), 8191))
    elif isinstance(event, ProgramChange):
        builder.add(tick, "program_change", channel=channel, program=_data(event.program))
    elif isinstance(event, ChannelPressure):
        builder.add(tick, "aftertouch", channel=channel, value=_data(event.value))


def _conductor(song: Song) -> _TrackBuilder:
    conductor = _TrackBuilder(song.title)
    numerator, denominator = song.time_signature
    # mido stores the denominator as a power of two; a song with another one keeps 4/4 here.
    if 1 <= numerator <= 255 and denominator in (1, 2, 4, 8, 16, 32, 64):
        conductor.add(0, "time_signature", numerator=numerator, denominator=denominator)
    return conductor


def midi_file(song: Song) -> Any:
    """The song as a mido.MidiFile (type 1), built in memory."""
    conductor = _conductor(song)
    tracks = [_TrackBuilder(track.name) for track in song.tracks]
    channels = [min(max(track.channel, 1), 16) - 1 for track in song.tracks]
    last_tick = 0
    # Tracks on one channel (an import's lanes) carry the same controllers: send each once.
    sent_this_tick: set[tuple[int, Event]] = set()
    for event in sequence(song):
        if event.tick != last_tick:
            sent_this_tick.clear()
        last_tick = event.tick
        if isinstance(event, ControlChange | PitchBend | ProgramChange | ChannelPressure):
            key = (channels[event.track], replace(event, track=0))
            if key in sent_this_tick:
                continue
            sent_this_tick.add(key)
        if isinstance(event, TempoChange):
            tempo = _tempo(event.bpm)
            if not conductor.replace_tempo_at(event.tick, tempo):
                conductor.add(event.tick, "set_tempo", tempo=tempo)
        elif 0 <= event.track < len(tracks):
            _add_event(tracks[event.track], channels[event.track], event)
    # The file lasts as long as the song, trailing silence included.
    end = max(song.length_ticks(), last_tick)
    midi = mido.MidiFile(type=1, ticks_per_beat=song.ticks_per_beat)
    midi.tracks = [builder.end(end) for builder in (conductor, *tracks)]
    return midi


def export_midi(song: Song, path: str | Path) -> None:
    """Write the song as a type 1 MIDI file, atomically: on failure `path` is left as it was.

    Raises:
        TrackerError: the file cannot be written (missing folder, no permission, disk full).
    """
    midi = midi_file(song)
    with atomic_path(path) as tmp:
        midi.save(tmp)
