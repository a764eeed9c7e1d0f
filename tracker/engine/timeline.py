"""Events with their target frames: the sequencer run through a growing tempo map."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from tracker.engine.sequencer import length_ticks, sequence, tempo_changes
from tracker.engine.tempo_map import TempoMap
from tracker.model.events import Event, TempoChange
from tracker.model.song import Song


def timed_events(
    song: Song,
    rate: int,
    order: Iterable[int] | None = None,
    tempo_map: TempoMap | None = None,
    positions: Iterable[int] | None = None,
) -> Iterator[tuple[int, Event]]:
    """Yield (frame, event) in time order; tempo changes extend `tempo_map` as they pass.
    `order` and `positions` are as for `sequence`."""
    tmap = tempo_map if tempo_map is not None else TempoMap(song.bpm, song.ticks_per_beat)
    for event in sequence(song, order, positions):
        if isinstance(event, TempoChange):
            tmap.set_tempo(event.tick, event.bpm)
        yield tmap.frame_at(event.tick, rate), event


def song_tempo_map(song: Song, order: Sequence[int] | None = None) -> TempoMap:
    """The whole song's tempo map, from its tempo effects alone."""
    tmap = TempoMap(song.bpm, song.ticks_per_beat)
    for change in tempo_changes(song, order):
        tmap.set_tempo(change.tick, change.bpm)
    return tmap


def length_seconds(song: Song, order: Sequence[int] | None = None) -> float:
    """The song's length from its first row to the end of its last pattern."""
    return song_tempo_map(song, order).seconds_at(length_ticks(song, order))


def arrangement_frames(song: Song, rate: int) -> Callable[[int], int]:
    """Tick → frame at `rate` on the arrangement (the order list from its start): where audio
    clips, placed at ticks, find their samples."""
    tmap = song_tempo_map(song)
    return lambda tick: tmap.frame_at(tick, rate)
