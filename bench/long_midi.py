"""A long multi-channel General MIDI file for benchmarks, made the same way every time.

6 minutes, 13 channels (drums on channel 10), about 5000 notes and a tempo change every two
beats (hundreds in all): the shape of song the foundation issue sets its speed target on.
"""

from __future__ import annotations

import random
from pathlib import Path

import mido

PROGRAMS = [0, 33, 48, 81, 25, 4, 73, 56, 89, 40, 19, 11]  # channels 1-9, 11-13
CHANNELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]
DRUMS = [36, 38, 42, 46, 49, 42, 36, 38]


def make_long_midi(path: Path, minutes: float = 6.0, seed: int = 1) -> Path:
    rng = random.Random(seed)
    ppq = 480
    beats = int(minutes * 120)
    midi = mido.MidiFile(type=1, ticks_per_beat=ppq)
    conductor = mido.MidiTrack([mido.MetaMessage("track_name", name="Long bench", time=0)])
    for i in range(beats // 2):
        bpm = 110 + 20 * rng.random()
        conductor.append(
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0 if i == 0 else 2 * ppq)
        )
    midi.tracks.append(conductor)
    per_channel = 385 * beats // 720
    for channel, program in [*zip(CHANNELS, PROGRAMS, strict=True), (9, 0)]:
        notes = []
        for k in range(per_channel):
            start = k * beats * ppq // per_channel + rng.randint(0, 50)
            length = rng.randint(100, 900)
            pitch = rng.choice(DRUMS) if channel == 9 else rng.randint(36, 84)
            notes.append((start, 1, pitch, rng.randint(40, 127)))
            notes.append((start + length, 0, pitch, 0))
        notes.sort()
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program)])
        last = 0
        for tick, on, pitch, velocity in notes:
            kind = "note_on" if on else "note_off"
            track.append(
                mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - last)
            )
            last = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


if __name__ == "__main__":
    import sys

    out = make_long_midi(Path(sys.argv[1] if len(sys.argv) > 1 else "long.mid"))
    print(out, mido.MidiFile(out).length)
