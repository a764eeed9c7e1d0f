"""Undo and redo for one song: each step keeps before/after copies of only what it declared.

An edit names its scope up front (pattern × track pairs, or the whole song), so a keystroke in
the pattern grid copies one track's rows of one pattern, not the song. Undo restores in place:
`history.song` is the same object for the life of the history, so views never rebind it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tracker.model.copying import (
    copy_master,
    copy_pattern,
    copy_rows,
    copy_song,
    copy_tracks,
)
from tracker.model.song import Pattern, Song, TrackRow

# What a track-scoped step keeps of each (pattern, track): its rows and the track's column
# counts (writing into a new column grows them). Mute, volume and the like are not kept: they
# may change outside the history (mixer moves while playing) and undoing a note must not
# revert them.
_Rows = dict[int, TrackRow]
_Columns = tuple[int, int]


@dataclass(slots=True)
class _TrackState:
    rows: dict[tuple[int, int], _Rows]
    columns: dict[int, _Columns]


@dataclass(slots=True)
class _Step:
    label: str
    before: _TrackState | Song
    after: _TrackState | Song

    @property
    def patterns(self) -> frozenset[int] | None:
        if isinstance(self.before, Song):
            return None
        return frozenset(pattern for pattern, _ in self.before.rows)


@dataclass(slots=True)
class _Open:
    """An edit in progress: its before state, widened by nested edits that reach further."""

    before: _TrackState | Song


class History:
    """Unlimited undo/redo for one Song."""

    def __init__(self, song: Song) -> None:
        self.song = song
        self.revision = 0
        self.last_changed: frozenset[int] | None = frozenset()
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._open: _Open | None = None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def edit(
        self, label: str, *, tracks: Iterable[tuple[int, int]] = (), song_wide: bool = False
    ) -> contextlib.AbstractContextManager[Song]:
        """Record the changes made inside a `with` block as one undo step.

        Args:
            label: what the user did, shown by undo/redo ("transpose").
            tracks: (pattern id, track index) pairs whose rows the block may change.
            song_wide: the block may change anything (patterns added or removed, tracks, order,
                tempo...); the whole song is copied.

        Yields:
            The live song, to mutate.

        Raises:
            ValueError: a pair names an unknown pattern, a track out of range, or a frozen
                track (its notes are locked).

        An edit that changed nothing records no step; an exception inside the block restores
        the before state and re-raises. An edit opened inside another joins it (one step).
        """
        pairs = _unique(tracks)
        if not song_wide:
            for pattern, track in pairs:
                _check_scope(self.song, pattern, track)
                locked = self.song.tracks[track]
                if locked.frozen is not None:
                    # Its audio was rendered from these notes: they stay as they were heard.
                    raise ValueError(f"track {locked.name!r} is frozen: unfreeze it to edit")
                if not locked.plays_notes:
                    kind = locked.kind.value
                    article = "an" if kind[0] in "aeiou" else "a"
                    raise ValueError(
                        f"track {locked.name!r} is {article} {kind} track: it plays no notes"
                    )
        return self._edit(label, pairs, song_wide)

    @contextlib.contextmanager
    def _edit(self, label: str, pairs: list[tuple[int, int]], song_wide: bool) -> Iterator[Song]:
        if self._open is not None:
            self._widen(self._open, pairs, song_wide)
            yield self.song
            return
        opened = _Open(copy_song(self.song) if song_wide else _capture(self.song, pairs))
        self._open = opened
        try:
            yield self.song
        except BaseException:
            _restore(self.song, opened.before)
            raise
        finally:
            self._open = None
        after = _capture_like(self.song, opened.before)
        if _same(after, opened.before):
            return
        self._record(_Step(label, opened.before, after))

    def _widen(self, opened: _Open, pairs: list[tuple[int, int]], song_wide: bool) -> None:
        """A nested edit reaching past the outer one's scope adds its before state now, which is
        still the state before the outer edit: the outer block had no right to change it."""
        before = opened.before
        if isinstance(before, Song):
            return
        if song_wide:
            whole = copy_song(self.song)
            _restore(whole, before)  # what the outer edit already changed, put back
            opened.before = whole
            return
        extra = [pair for pair in pairs if pair not in before.rows]
        more = _capture(self.song, extra)
        for key, rows in more.rows.items():
            before.rows[key] = rows
        for track, columns in more.columns.items():
            before.columns.setdefault(track, columns)

    def _record(self, step: _Step) -> None:
        self._undo.append(step)
        self._redo.clear()
        self.revision += 1
        self.last_changed = step.patterns

    def undo(self) -> str | None:
        """Undo the last step; return its label, or None when there is nothing to undo."""
        if self._open is not None:
            raise RuntimeError("cannot undo inside an edit")
        if not self._undo:
            return None
        step = self._undo.pop()
        _restore(self.song, step.before)
        self._redo.append(step)
        self.revision += 1
        self.last_changed = step.patterns
        return step.label

    def redo(self) -> str | None:
        """Redo the last undone step; return its label, or None when there is nothing to redo."""
        if self._open is not None:
            raise RuntimeError("cannot redo inside an edit")
        if not self._redo:
            return None
        step = self._redo.pop()
        _restore(self.song, step.after)
        self._undo.append(step)
        self.revision += 1
        self.last_changed = step.patterns
        return step.label


def _unique(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    return list(dict.fromkeys((int(p), int(t)) for p, t in pairs))


def _check_scope(song: Song, pattern: int, track: int) -> None:
    if pattern not in song.patterns:
        raise ValueError(f"no pattern {pattern}")
    if not 0 <= track < len(song.tracks):
        raise ValueError(f"no track {track} (the song has {len(song.tracks)})")


def _capture(song: Song, pairs: Iterable[tuple[int, int]]) -> _TrackState:
    rows = {
        (pattern, track): copy_rows(song.patterns[pattern].data.get(track, {}))
        for pattern, track in pairs
    }
    columns = {}
    for _, track in rows:
        t = song.tracks[track]
        columns[track] = (t.note_columns, t.effect_columns)
    return _TrackState(rows, columns)


def _capture_like(song: Song, before: _TrackState | Song) -> _TrackState | Song:
    if isinstance(before, Song):
        return copy_song(song)
    return _capture(song, before.rows)


def _same(a: _TrackState | Song, b: _TrackState | Song) -> bool:
    """Equal contents, whatever the shape: a loaded row pads its columns with empty cells that an
    edit tidies away, and retyping the same note must still record no step."""
    if isinstance(a, Song) and isinstance(b, Song):
        if dataclasses.replace(a, patterns={}) != dataclasses.replace(b, patterns={}):
            return False
        if a.patterns.keys() != b.patterns.keys():
            return False
        return all(
            (pa.length, pa.name) == (pb.length, pb.name)
            and {t: _normal(r) for t, r in pa.data.items() if _normal(r)}
            == {t: _normal(r) for t, r in pb.data.items() if _normal(r)}
            for pa, pb in ((a.patterns[pid], b.patterns[pid]) for pid in a.patterns)
        )
    if isinstance(a, _TrackState) and isinstance(b, _TrackState):
        if a.columns != b.columns or a.rows.keys() != b.rows.keys():
            return False
        return all(_normal(a.rows[key]) == _normal(b.rows[key]) for key in a.rows)
    return False


def _normal(rows: _Rows) -> dict[int, tuple[tuple[object, ...], tuple[object, ...]]]:
    normal = {}
    for index, row in rows.items():
        notes = [None if n is None or n.is_empty() else n for n in row.notes]
        effects = list(row.effects)
        while notes and notes[-1] is None:
            notes.pop()
        while effects and effects[-1] is None:
            effects.pop()
        if notes or effects:
            normal[index] = (tuple(notes), tuple(effects))
    return normal


def _restore(song: Song, state: _TrackState | Song) -> None:
    """Put `state` back into `song` in place; `state` stays private (copies go in)."""
    if isinstance(state, Song):
        _restore_song(song, state)
        return
    for (pattern, track), rows in state.rows.items():
        data = song.patterns[pattern].data
        if rows:
            data[track] = copy_rows(rows)
        else:
            data.pop(track, None)
    for track, (notes, effects) in state.columns.items():
        song.tracks[track].note_columns = notes
        song.tracks[track].effect_columns = effects


def _restore_song(song: Song, saved: Song) -> None:
    # Pattern and Track objects the UI may hold keep their identity where they still exist.
    for field in dataclasses.fields(Song):
        if field.name not in ("patterns", "tracks", "instruments", "order", "master"):
            setattr(song, field.name, getattr(saved, field.name))
    song.master = copy_master(saved.master)
    song.instruments.clear()
    song.instruments.update(saved.instruments)
    song.order[:] = saved.order
    _restore_tracks(song, saved)
    _restore_patterns(song.patterns, saved.patterns)


def _restore_tracks(song: Song, saved: Song) -> None:
    copies = copy_tracks(saved.tracks)
    for index, copy in enumerate(copies[: len(song.tracks)]):
        live = song.tracks[index]
        for field in dataclasses.fields(copy):
            setattr(live, field.name, getattr(copy, field.name))
    del song.tracks[len(copies) :]
    song.tracks.extend(copies[len(song.tracks) :])


def _restore_patterns(live: dict[int, Pattern], saved: dict[int, Pattern]) -> None:
    for pid in [pid for pid in live if pid not in saved]:
        del live[pid]
    for pid, pattern in saved.items():
        copy = copy_pattern(pattern)
        if pid in live:
            target = live[pid]
            target.length, target.name, target.data = copy.length, copy.name, copy.data
        else:
            live[pid] = copy
    # Keep the saved key order: the file writes patterns in dict order.
    ordered = {pid: live[pid] for pid in saved}
    live.clear()
    live.update(ordered)
