"""A new song to start from: four tracks on the shipped presets and one empty pattern."""

from __future__ import annotations

from tracker.model.song import Pattern, Song, Track

# (track name, preset, MIDI channel): drums on channel 10 as in General MIDI.
STARTER_TRACKS = (
    ("Drums", "drums", 10),
    ("Bass", "bass", 1),
    ("Keys", "keys", 2),
    ("Lead", "lead", 3),
)


def new_song(title: str = "Untitled") -> Song:
    song = Song(title=title, bpm=120.0)
    for number, (name, preset, channel) in enumerate(STARTER_TRACKS, start=1):
        song.instruments[number] = preset
        song.tracks.append(Track(name, instrument=number, channel=channel))
    song.patterns[0] = Pattern(64)
    song.order = [0]
    return song
