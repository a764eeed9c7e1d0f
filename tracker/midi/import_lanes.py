"""MIDI import: placing a voice's notes in note columns, and in lanes if one track is not enough.

A tracker column holds one event per row, so:
- overlapping notes, or an OFF and a new note in one row, spread over several note columns;
- a note that starts and ends within one row has no room for its own OFF cell, so it is written
  with the row's `L` (note length) effect instead. `L` applies to every note starting on that row
  of the track, so a note of another length starting on the same row moves to an extra track on
  the same channel (a "lane", named "<track> lane 2"), as does a 17th simultaneous note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.midi.import_effects import KIND_LENGTH, Effect
from tracker.midi.import_scan import Note, Voice
from tracker.model.serialize_common import MAX_NOTE_COLUMNS
from tracker.model.song import OFF, NoteCell


def cell_delay(tick: int, tpl: int) -> int | None:
    """The delay column of an event at `tick`: its ticks past the start of its row."""
    return tick % tpl or None


@dataclass(slots=True)
class _Column:
    end: int = -1  # tick the column's last note ends
    last_row: int = -1  # last row holding a cell of this column
    off_pending: bool = False  # the last note still needs an OFF cell (or a next note at `end`)


@dataclass(slots=True)
class Lane:
    """One song track's notes while they are being placed."""

    columns: list[_Column] = field(default_factory=list)
    row_lengths: dict[int, int | None] = field(default_factory=dict)  # row → its `L`, None: none
    cells: list[tuple[int, int, NoteCell]] = field(default_factory=list)  # (row, column, cell)
    effects: list[Effect] = field(default_factory=list)

    def place(self, note: Note, tpl: int, song_end: int, first_column: int = 0) -> int | None:
        """Write the note here if its row and a column from `first_column` on can take it;
        return the column, or None."""
        row = note.start // tpl
        length = note.end - note.start if note.end // tpl == row else None
        if self.row_lengths.get(row, length) != length:
            return None
        index = self._free_column(note.start, row, tpl, first_column)
        if index is None:
            return None
        column = self.columns[index]
        if column.off_pending and column.end < note.start:
            self._write_off(index, tpl, song_end)
        self.cells.append(
            (row, index, NoteCell(note.pitch, None, note.velocity, cell_delay(note.start, tpl)))
        )
        if row not in self.row_lengths:
            self.row_lengths[row] = length
            if length is not None:
                self.effects.append(Effect(row * tpl, -1, KIND_LENGTH, "L", length))
        column.end = note.end
        column.last_row = row
        # A short note is released by its row's `L`; a longer one needs an OFF later.
        column.off_pending = length is None
        return index

    def _free_column(self, start: int, row: int, tpl: int, first: int) -> int | None:
        for index in range(first, len(self.columns)):
            if _column_takes(self.columns[index], start, row, tpl):
                return index
        if len(self.columns) < MAX_NOTE_COLUMNS:
            self.columns.append(_Column())
            return len(self.columns) - 1
        return None

    def _write_off(self, index: int, tpl: int, song_end: int) -> None:
        column = self.columns[index]
        column.off_pending = False
        if column.end >= song_end:
            return  # the sequencer releases what still sounds at the song's end, at that tick
        column.last_row = column.end // tpl
        off = NoteCell(OFF, delay=cell_delay(column.end, tpl))
        self.cells.append((column.last_row, index, off))

    def finish(self, tpl: int, song_end: int) -> None:
        for index, column in enumerate(self.columns):
            if column.off_pending:
                self._write_off(index, tpl, song_end)


def _column_takes(column: _Column, start: int, row: int, tpl: int) -> bool:
    """May a note starting at `start` (on `row`) go into this column?"""
    if column.last_row >= row or column.end > start:
        return False
    if column.end == start or not column.off_pending:
        # A new note releases the column's old one at its own tick: no OFF cell needed.
        return True
    return column.end // tpl < row  # the OFF must sit on an earlier row than the new note


def place_voice(voice: Voice, tpl: int, song_end: int) -> list[Lane]:
    """The voice's notes in as few lanes as they fit. Every lane gets the channel's controllers,
    bends and programs: a lane is the same channel, and its notes must hear the same pedal."""
    lanes = [Lane()]
    # Notes of one pitch starting on one tick must be sequenced in file order, lane by lane and
    # column by column, or their note-offs would pair with the wrong note-ons on export.
    placed: dict[tuple[int, int], tuple[int, int]] = {}
    for note in voice.notes:
        lane_index, column = placed.get((note.start, note.pitch), (0, -1))
        first_column = column + 1
        while True:
            if lane_index == len(lanes):
                lanes.append(Lane())
            column = lanes[lane_index].place(note, tpl, song_end, first_column)
            if column is not None:
                break
            lane_index, first_column = lane_index + 1, 0
        placed[(note.start, note.pitch)] = (lane_index, column)
    for lane in lanes:
        lane.finish(tpl, song_end)
    for lane in lanes:
        lane.effects.extend(voice.effects)
    return lanes
