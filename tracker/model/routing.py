"""How tracks refer to one another: an output names a group track, a send a return track.

One set of rules for the song-file reader, its writer and the mixer, so a song that loads is
a song that renders, and the messages are the same everywhere.
"""

from __future__ import annotations

from tracker.model.song import Song, TrackKind


def reference_problem(song: Song, name: str, wanted: TrackKind) -> str | None:
    """Why `name` cannot be referred to as a `wanted` track (an output's group, a send's
    return), or None when it can."""
    index = song.track_named(name)
    if index is not None and song.tracks[index].kind is wanted:
        return None
    known = [t.name for t in song.tracks if t.kind is wanted]
    listed = ", ".join(known) if known else "none"
    return f"{name!r} is not a {wanted.value} track ({wanted.value} tracks: {listed})"


RETURN_OUTPUT = "a return track plays into the master: it takes no output"
RETURN_SEND = "a return track does not send"


def group_cycles(song: Song) -> list[str]:
    """A message for each group that plays, through others, into itself."""
    found = []
    for index, track in enumerate(song.tracks):
        if track.kind is TrackKind.GROUP and track.output is not None:
            seen = {index}
            output = track.output
            while output is not None:
                parent = song.track_named(output)
                if parent is None:
                    break
                if parent in seen:
                    found.append(f"group {track.name!r} plays into itself (through {output!r})")
                    break
                seen.add(parent)
                output = song.tracks[parent].output
    return found
