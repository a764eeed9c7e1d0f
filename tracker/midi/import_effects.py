"""MIDI import: effects on a track's rows — controllers, bends, programs, note lengths, tempos.

A row holds at most MAX_EFFECT_COLUMNS effects. Tempo changes are song-wide, so when the first
track's row is full they go to the next track's row; controller values that still do not fit are
dropped, least lasting first.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from tracker.model.errors import SongFormatError
from tracker.model.serialize_common import MAX_EFFECT_COLUMNS

# Effect kinds beside controller numbers 0..127, to find the last value of each in a crowded row.
KIND_BEND = 128
KIND_PROGRAM = 129
KIND_TEMPO = 130
KIND_LENGTH = 131


class Effect(NamedTuple):
    tick: int
    seq: int  # file order, to keep same-tick values of one controller in order
    kind: int  # controller number, or one of the KIND_ constants
    command: str
    value: float


def tempo_effects(changes: list[tuple[int, float]], bpm: float) -> list[Effect]:
    """`T` effects for the tempo changes after tick 0; `bpm` is the song's start tempo."""
    effects = [Effect(t, i, KIND_TEMPO, "T", b) for i, (t, b) in enumerate(changes) if t > 0]
    if effects:
        # Restate the start tempo on row 0, so a loop back to the start plays at it again.
        effects.insert(0, Effect(0, -1, KIND_TEMPO, "T", bpm))
    return effects


def effects_by_row(effects: Iterable[Effect], tpl: int) -> dict[int, list[Effect]]:
    rows: dict[int, list[Effect]] = defaultdict(list)
    for effect in effects:
        rows[effect.tick // tpl].append(effect)
    return rows


def spread_tempos(
    tempos: list[Effect], lanes: list[dict[int, list[Effect]]], tpl: int, path: Path
) -> None:
    """Put each tempo in the first track whose row has room beside its note lengths."""
    for row, row_tempos in effects_by_row(tempos, tpl).items():
        pending = deque(row_tempos)
        for rows in lanes:
            effects = rows[row]
            taken = sum(1 for e in effects if e.kind in (KIND_TEMPO, KIND_LENGTH))
            while pending and taken < MAX_EFFECT_COLUMNS:
                effects.append(pending.popleft())
                taken += 1
            if not pending:
                break
        if pending:
            raise SongFormatError(path, f"too many tempo changes on row {row} to fit any track")


def fit_row(effects: list[Effect]) -> tuple[list[Effect], int]:
    """At most MAX_EFFECT_COLUMNS effects, in time order, and how many were dropped.

    Kept first: tempos and note lengths (dropping one would move notes in time), then program
    changes, then the last value of each controller on the row (the value that lasts), then
    earlier controller and bend values.
    """
    effects.sort(key=lambda e: (e.tick, e.seq))
    if len(effects) <= MAX_EFFECT_COLUMNS:
        return effects, 0
    last = {e.kind: i for i, e in enumerate(effects)}

    def keep_first(i: int) -> tuple[int, int]:
        kind = effects[i].kind
        if kind in (KIND_TEMPO, KIND_LENGTH):
            return (0, i)
        if kind == KIND_PROGRAM:
            return (1, i)
        return (2 if last[kind] == i else 3, i)

    kept = sorted(sorted(range(len(effects)), key=keep_first)[:MAX_EFFECT_COLUMNS])
    return [effects[i] for i in kept], len(effects) - len(kept)
