"""Private copies of song data: what undo keeps and what live playback reads.

The model's dataclasses are mutable; anything that must not see later edits (an undo step, the
engine's snapshot) holds a copy made here. Copies are explicit and shallow where the data is
immutable (EffectCell values, strings), which keeps them an order of magnitude faster than
`copy.deepcopy` on a full pattern.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from tracker.model.song import (
    Clip,
    EffectCell,
    EffectSpec,
    Master,
    NoteCell,
    Pattern,
    Song,
    Track,
    TrackRow,
)


def copy_track_row(row: TrackRow) -> TrackRow:
    notes = [
        None if n is None else NoteCell(n.note, n.instrument, n.velocity, n.delay)
        for n in row.notes
    ]
    effects = [None if e is None else EffectCell(e.command, e.value, e.delay) for e in row.effects]
    return TrackRow(notes, effects)


def copy_rows(rows: dict[int, TrackRow]) -> dict[int, TrackRow]:
    """One track's rows of one pattern (`pattern.data[track]`)."""
    return {index: copy_track_row(row) for index, row in rows.items()}


def copy_pattern(pattern: Pattern) -> Pattern:
    return Pattern(
        pattern.length,
        pattern.name,
        {track: copy_rows(rows) for track, rows in pattern.data.items()},
    )


def copy_effects(effects: Iterable[EffectSpec]) -> list[EffectSpec]:
    return [EffectSpec(e.kind, dict(e.params)) for e in effects]


def copy_tracks(tracks: Iterable[Track]) -> list[Track]:
    return [
        dataclasses.replace(
            track,
            sends=dict(track.sends),
            effects=copy_effects(track.effects),
            clips=[Clip(c.tick, c.path) for c in track.clips],
        )
        for track in tracks
    ]


def copy_master(master: Master) -> Master:
    return Master(master.volume_db, copy_effects(master.effects))


def copy_song(
    song: Song, previous: Song | None = None, changed: Iterable[int] | None = None
) -> Song:
    """A copy of `song` that shares nothing mutable with it.

    With `previous` (an earlier copy) and `changed` (the pattern ids edited since), patterns
    not in `changed` are shared with `previous` instead of copied: copies are never mutated,
    so sharing them is safe, and an edit then costs one pattern's copy, not the song's.
    """
    reuse = previous is not None and changed is not None
    changed_ids = set(changed) if changed is not None else set()
    patterns = {}
    for pid, pattern in song.patterns.items():
        if reuse and pid not in changed_ids and pid in previous.patterns:  # type: ignore[union-attr]
            patterns[pid] = previous.patterns[pid]  # type: ignore[union-attr]
        else:
            patterns[pid] = copy_pattern(pattern)
    return dataclasses.replace(
        song,
        instruments=dict(song.instruments),
        tracks=copy_tracks(song.tracks),
        patterns=patterns,
        order=list(song.order),
        master=copy_master(song.master),
    )
