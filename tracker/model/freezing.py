"""Freeze, unfreeze, flatten and resample as changes to a song (pure: the audio is rendered
elsewhere, render/; files are written by commands/).

- A frozen track keeps its notes and instrument, locked, and plays `Track.frozen` instead:
  its pre-fader render (instrument and its own effects). Volume, pan, sends still apply.
- Flatten turns a frozen track into an audio track: the render becomes a clip at the start,
  notes (but tempo marks), instrument and effects (they are in the render) are gone.
- Resample adds an audio track holding what reached the master (or a track); muted, so the
  song sounds as it did until the musician chooses what the new track replaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tracker.model.errors import TrackerError
from tracker.model.song import Clip, Song, Track, TrackKind

AUDIO_FOLDER = "audio"


def safe_name(name: str) -> str:
    """A track name as a file name: characters unsafe in file names replaced."""
    return re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .") or "track"


def fresh_path(song: Song, stem: str, exists: Callable[[str], bool]) -> str:
    """`audio/STEM.wav`, or `audio/STEM-2.wav`, … : the first that no file (`exists`) and no
    track of the song holds. A render never replaces audio that a track, an undo step or
    another song may still play."""
    used = {clip.path for track in song.tracks for clip in track.audio_clips()}
    number = 1
    while True:
        suffix = "" if number == 1 else f"-{number}"
        relative = f"{AUDIO_FOLDER}/{stem}{suffix}.wav"
        if relative not in used and not exists(relative):
            return relative
        number += 1


def freeze_path(song: Song, index: int, exists: Callable[[str], bool]) -> str:
    """A new file for track `index`'s frozen render, relative to the song's folder."""
    return fresh_path(song, f"{index + 1:02d}-{safe_name(song.tracks[index].name)}.freeze", exists)


def check_freezable(song: Song, index: int, recorded: bool = False) -> Track:
    """The track, if it can be frozen: rendered offline, or (`recorded`) a MIDI track whose
    synth is recorded back in real time.

    Raises:
        TrackerError: an audio, group or return track, or a MIDI track not `recorded` (the
            message says what to do).
    """
    track = song.tracks[index]
    if track.kind is TrackKind.MIDI and not recorded:
        raise TrackerError(
            f"track {track.name!r} plays a MIDI device: freezing it records the device in real"
            " time; give the inputs its audio comes back on (--input 1-2)"
        )
    if track.kind is TrackKind.MIDI:
        if not track.port:
            raise TrackerError(f"track {track.name!r} has no MIDI port to play its synth through")
        return track
    if track.kind is not TrackKind.INSTRUMENT:
        raise TrackerError(f"track {track.name!r} is a {track.kind.value} track: nothing to freeze")
    return track


def freeze(song: Song, index: int, path: str) -> None:
    """Mark track `index` frozen to the render (or, for a MIDI track, the recording) at
    `path`."""
    check_freezable(song, index, recorded=True).frozen = path


def unfreeze(song: Song, index: int) -> None:
    """Back to live synthesis (the render file stays where it is)."""
    track = song.tracks[index]
    if track.frozen is None:
        raise TrackerError(f"track {track.name!r} is not frozen")
    track.frozen = None


def flatten(song: Song, index: int, audio_ok: Callable[[str], bool]) -> None:
    """Turn frozen track `index` into an audio track playing its render (`audio_ok` says
    whether the render's file is there and readable).

    Raises:
        TrackerError: the track is not frozen, or its audio is not there.
    """
    track = song.tracks[index]
    if track.frozen is None:
        raise TrackerError(f"track {track.name!r} is not frozen: freeze it first")
    if not audio_ok(track.frozen):
        # The notes are all that is left of the part: they stay.
        raise TrackerError(
            f"track {track.name!r}: its frozen audio {track.frozen} is missing or unreadable;"
            " unfreeze it, or freeze it again"
        )
    track.clips = [Clip(0, track.frozen)]
    track.frozen = None
    if track.kind is TrackKind.INSTRUMENT:
        track.effects = []  # they are in the render; a MIDI track's recording has none
    track.kind = TrackKind.AUDIO
    track.instrument = track.program = track.bank = track.port = None
    for pattern in song.patterns.values():
        rows = pattern.data.get(index)
        if rows is None:
            continue
        for row_index, row in list(rows.items()):
            row.notes = []
            row.effects = [e if e is not None and e.command == "T" else None for e in row.effects]
            if row.is_empty():
                del rows[row_index]
        if not rows:
            del pattern.data[index]


def resample_path(song: Song, name: str, exists: Callable[[str], bool]) -> str:
    return fresh_path(song, f"{safe_name(name)}.resample", exists)


def unique_track_name(song: Song, wanted: str) -> str:
    names = {t.name for t in song.tracks}
    if wanted not in names:
        return wanted
    number = 2
    while f"{wanted} {number}" in names:
        number += 1
    return f"{wanted} {number}"


def add_resample(song: Song, name: str, path: str) -> Track:
    """Append a muted audio track playing `path` from the song's start."""
    track = Track(name, kind=TrackKind.AUDIO, clips=[Clip(0, path)], mute=True)
    song.tracks.append(track)
    return track
