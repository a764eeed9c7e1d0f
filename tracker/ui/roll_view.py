"""Layout maths of the piano roll: ticks ↔ columns, pitches ↔ lines, values ↔ bar heights.

Pure functions and small value objects, no Textual, so the arithmetic is tested on its own and
the widget only paints what these say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.model.notes import note_name

if TYPE_CHECKING:
    from tracker.model.roll import RollNote

PITCHES = 128  # MIDI pitches 0..127, one line each, the highest at the top
ZOOMS = (1, 2, 4)  # columns per pattern row, from far to near
BLOCKS = " ▁▂▃▄▅▆▇█"  # 0..8 eighths of a cell, bottom up
BLACK_KEYS = frozenset({1, 3, 6, 8, 10})  # pitch classes of the black keys


@dataclass(frozen=True, slots=True)
class TimeScale:
    """How a pattern's ticks map to screen columns at one zoom.

    Column `c` covers the ticks `[tick_of_col(c), tick_of_col(c + 1))`. Integer arithmetic only,
    so a ticks-per-line that the zoom does not divide still maps every tick to one column.
    """

    ticks_per_line: int
    cols_per_row: int
    rows: int

    @property
    def columns(self) -> int:
        return self.rows * self.cols_per_row

    @property
    def ticks(self) -> int:
        return self.rows * self.ticks_per_line

    def col_of_tick(self, tick: int) -> int:
        return tick * self.cols_per_row // self.ticks_per_line

    def tick_of_col(self, col: int) -> int:
        """The first tick drawn in column `col`."""
        return -(-col * self.ticks_per_line // self.cols_per_row)

    def col_ticks(self, col: int) -> int:
        """How many ticks column `col` covers."""
        return self.tick_of_col(col + 1) - self.tick_of_col(col)

    def row_of_col(self, col: int) -> int:
        return col // self.cols_per_row

    def col_of_row(self, row: int) -> int:
        return row * self.cols_per_row

    def clamp_col(self, col: int) -> int:
        return max(0, min(self.columns - 1, col))

    def note_cols(self, start: int, length: int) -> tuple[int, int]:
        """First and last column (inclusive) a note of `length` ticks from `start` covers."""
        first = self.col_of_tick(start)
        return first, max(first, self.col_of_tick(start + max(1, length) - 1))


def line_of_pitch(pitch: int) -> int:
    """The line (from the top of the pitch area) showing `pitch`."""
    return PITCHES - 1 - pitch


def pitch_of_line(line: int) -> int:
    return PITCHES - 1 - line


def is_black_key(pitch: int) -> bool:
    return pitch % 12 in BLACK_KEYS


def keyboard_label(pitch: int, *, cursor: bool = False) -> str:
    """The note name shown on the keyboard: every C, and the cursor's line."""
    return note_name(pitch) if cursor or pitch % 12 == 0 else ""


def grid_kind(col: int, scale: TimeScale, lines_per_beat: int, beats_per_bar: int) -> str:
    """'bar', 'beat', 'row' (first column of a row) or '' for the background of a column."""
    if col % scale.cols_per_row:
        return ""
    row = scale.row_of_col(col)
    if row % (lines_per_beat * beats_per_bar) == 0:
        return "bar"
    if row % lines_per_beat == 0:
        return "beat"
    return "row"


def paint_notes(
    notes: Iterable[RollNote], scale: TimeScale, col0: int, col1: int
) -> list[RollNote | None]:
    """The note covering each column in `[col0, col1)` of one pitch line (a later start wins)."""
    cells: list[RollNote | None] = [None] * max(0, col1 - col0)
    for note in sorted(notes, key=lambda n: n.start):
        first, last = scale.note_cols(note.start, note.length)
        for col in range(max(first, col0), min(last + 1, col1)):
            cells[col - col0] = note
    return cells


def note_at(notes: Iterable[RollNote], scale: TimeScale, col: int, pitch: int) -> RollNote | None:
    """The note drawn at (col, pitch), if any: the latest-starting one covering the column."""
    found: RollNote | None = None
    for note in notes:
        if note.pitch != pitch:
            continue
        first, last = scale.note_cols(note.start, note.length)
        if first <= col <= last and (found is None or note.start > found.start):
            found = note
    return found


def notes_in_rect(
    notes: Iterable[RollNote], scale: TimeScale, cols: tuple[int, int], pitches: tuple[int, int]
) -> list[RollNote]:
    """Notes with a cell inside the rectangle of columns and pitches (both inclusive, any order)."""
    c0, c1 = sorted(cols)
    p0, p1 = sorted(pitches)
    found = []
    for note in notes:
        first, last = scale.note_cols(note.start, note.length)
        if p0 <= note.pitch <= p1 and first <= c1 and last >= c0:
            found.append(note)
    return found


def velocity_by_column(
    notes: Iterable[RollNote], scale: TimeScale, col0: int, col1: int
) -> list[int | None]:
    """The highest velocity of the notes starting in each column of `[col0, col1)`."""
    values: list[int | None] = [None] * max(0, col1 - col0)
    for note in notes:
        col = scale.col_of_tick(note.start)
        if col0 <= col < col1:
            old = values[col - col0]
            values[col - col0] = note.velocity if old is None else max(old, note.velocity)
    return values


def cc_by_column(
    values: dict[int, int], scale: TimeScale, col0: int, col1: int
) -> list[int | None]:
    """The controller value set on the row of each column of `[col0, col1)`, if any."""
    return [values.get(scale.row_of_col(col)) for col in range(col0, col1)]


def bar_eighths(value: int, height: int, top: int = 127) -> int:
    """Height in eighths of a cell of a bar showing `value` (0..top) in a lane `height` lines high.

    A present value is at least one eighth high, so a zero still shows that something is set.
    """
    return max(1, min(height * 8, round(value * height * 8 / top)))


def bar_char(eighths: int, line: int, height: int) -> str:
    """The block drawn on `line` (0 = top) of a bar `eighths` high in a lane `height` lines high."""
    filled = eighths - (height - 1 - line) * 8
    return BLOCKS[max(0, min(8, filled))]


def lane_chars(values: Sequence[int | None], line: int, height: int) -> str:
    """One line of a lane of bars: a block per column (a space where no value is set)."""
    return "".join(
        " " if value is None else bar_char(bar_eighths(value, height), line, height)
        for value in values
    )


def ruler_text(
    scale: TimeScale, lines_per_beat: int, beats_per_bar: int, col0: int, col1: int
) -> str:
    """The time ruler over `[col0, col1)`: row numbers at bars (and beats when there is room)."""
    width = max(0, col1 - col0)
    chars = [" "] * width
    beat_cols = lines_per_beat * scale.cols_per_row
    # Label a column only if the label fits before the next labelled column.
    every = beat_cols if beat_cols >= 4 else beat_cols * beats_per_bar
    first = max(0, col0 - (col0 % every)) if every else 0
    for col in range(first, col1, max(1, every)):
        label = str(scale.row_of_col(col))
        for i, ch in enumerate(label):
            x = col - col0 + i
            if 0 <= x < width:
                chars[x] = ch
    for col in range(col0, col1):
        if chars[col - col0] == " " and grid_kind(col, scale, lines_per_beat, beats_per_bar):
            kind = grid_kind(col, scale, lines_per_beat, beats_per_bar)
            chars[col - col0] = "·" if kind == "beat" else ("|" if kind == "bar" else " ")
    return "".join(chars)


def scroll_to_show(pos: int, first: int, visible: int) -> int:
    """The first visible index after scrolling the least that shows `pos`."""
    if visible <= 0:
        return pos
    if pos < first:
        return pos
    if pos >= first + visible:
        return pos - visible + 1
    return first


def centred(pos: int, visible: int, total: int) -> int:
    """The first visible index that centres `pos`, kept inside `[0, total - visible]`."""
    return max(0, min(total - visible, pos - visible // 2))


def centre_pitch(notes: Sequence[RollNote], default: int = 60) -> int:
    """The pitch to centre on when a roll opens: the median of the notes, else C-4."""
    if not notes:
        return default
    pitches = sorted(n.pitch for n in notes)
    return pitches[len(pitches) // 2]
