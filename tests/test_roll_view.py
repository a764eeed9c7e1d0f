"""The piano roll's layout maths: columns, lines, bars."""

from __future__ import annotations

from tracker.model.roll import RollNote
from tracker.ui.roll_view import (
    TimeScale,
    bar_char,
    bar_eighths,
    cc_by_column,
    centre_pitch,
    centred,
    grid_kind,
    is_black_key,
    keyboard_label,
    lane_chars,
    line_of_pitch,
    note_at,
    notes_in_rect,
    paint_notes,
    pitch_of_line,
    ruler_text,
    scroll_to_show,
    velocity_by_column,
)


def n(start: int, length: int, pitch: int = 60, velocity: int = 100, column: int = 0) -> RollNote:
    return RollNote(start, length, pitch, velocity, column)


def test_one_column_per_row_maps_ticks_to_rows() -> None:
    scale = TimeScale(ticks_per_line=24, cols_per_row=1, rows=16)
    assert scale.columns == 16
    assert [scale.col_of_tick(t) for t in (0, 23, 24, 383)] == [0, 0, 1, 15]
    assert scale.tick_of_col(3) == 72
    assert scale.col_ticks(0) == 24


def test_zoomed_columns_split_a_row() -> None:
    scale = TimeScale(ticks_per_line=24, cols_per_row=4, rows=16)
    assert scale.columns == 64
    assert scale.col_of_tick(30) == 5  # row 1 (cols 4..7), 6 ticks in
    assert scale.tick_of_col(5) == 30
    assert scale.row_of_col(7) == 1
    assert scale.col_of_row(2) == 8


def test_a_zoom_that_does_not_divide_the_row_still_covers_every_tick() -> None:
    scale = TimeScale(ticks_per_line=10, cols_per_row=4, rows=2)
    cols = [scale.col_of_tick(t) for t in range(20)]
    assert cols == sorted(cols) and set(cols) == set(range(8))
    assert sum(scale.col_ticks(c) for c in range(8)) == 20
    assert all(scale.col_of_tick(scale.tick_of_col(c)) == c for c in range(8))


def test_note_columns_are_inclusive_and_at_least_one() -> None:
    scale = TimeScale(24, 1, 16)
    assert scale.note_cols(0, 48) == (0, 1)
    assert scale.note_cols(30, 6) == (1, 1)
    assert scale.note_cols(30, 24) == (1, 2)
    assert scale.clamp_col(-3) == 0 and scale.clamp_col(99) == 15


def test_pitches_run_from_the_top_line_down() -> None:
    assert line_of_pitch(127) == 0
    assert line_of_pitch(0) == 127
    assert pitch_of_line(line_of_pitch(60)) == 60
    assert [is_black_key(p) for p in range(60, 65)] == [False, True, False, True, False]
    assert keyboard_label(60) == "C-4"
    assert keyboard_label(61) == ""
    assert keyboard_label(61, cursor=True) == "C#4"


def test_grid_marks_bars_and_beats() -> None:
    scale = TimeScale(24, 2, 32)
    kinds = [grid_kind(c, scale, 4, 4) for c in (0, 1, 2, 8, 32)]
    assert kinds == ["bar", "", "row", "beat", "bar"]


def test_paint_notes_fills_only_the_asked_columns() -> None:
    scale = TimeScale(24, 1, 16)
    first, second = n(0, 48), n(72, 24)
    assert paint_notes([first, second], scale, 0, 5) == [first, first, None, second, None]
    assert paint_notes([first, second], scale, 1, 3) == [first, None]


def test_note_at_and_rectangles() -> None:
    scale = TimeScale(24, 1, 16)
    low, high = n(0, 48, 60), n(96, 24, 67)
    notes = [low, high]
    assert note_at(notes, scale, 1, 60) == low
    assert note_at(notes, scale, 2, 60) is None
    assert note_at(notes, scale, 1, 61) is None
    assert notes_in_rect(notes, scale, (1, 0), (62, 59)) == [low]
    assert notes_in_rect(notes, scale, (0, 4), (60, 67)) == notes


def test_lanes_show_values_per_column() -> None:
    scale = TimeScale(24, 2, 8)
    notes = [n(0, 24, 60, 40), n(0, 24, 64, 90), n(12, 6, 60, 127)]
    assert velocity_by_column(notes, scale, 0, 4) == [90, 127, None, None]
    assert cc_by_column({1: 64}, scale, 0, 4) == [None, None, 64, 64]


def test_bar_heights_in_eighths() -> None:
    assert bar_eighths(127, 4) == 32
    assert bar_eighths(0, 4) == 1  # a zero still shows
    assert bar_eighths(100, 4) == 25
    # A bar 25 eighths high in 4 lines: one eighth on the top line, full below.
    assert [bar_char(25, line, 4) for line in range(4)] == ["▁", "█", "█", "█"]
    assert [bar_char(4, line, 4) for line in range(4)] == [" ", " ", " ", "▄"]
    assert lane_chars([127, None, 0], 3, 4) == "█ ▁"


def test_ruler_labels_bars_and_beats() -> None:
    scale = TimeScale(24, 1, 32)
    text = ruler_text(scale, 4, 4, 0, 20)
    assert text.startswith("0   4   8   12  16")
    assert ruler_text(scale, 4, 4, 2, 6) == "  4 "  # a label left of the window is cut off
    assert ruler_text(TimeScale(24, 1, 64), 2, 4, 0, 10) == "0 · · · 8 "  # no room at beats


def test_scrolling_keeps_a_position_in_view() -> None:
    assert scroll_to_show(5, 0, 10) == 0
    assert scroll_to_show(12, 0, 10) == 3
    assert scroll_to_show(2, 5, 10) == 2
    assert centred(67, 30, 128) == 52
    assert centred(2, 30, 128) == 0
    assert centred(127, 30, 128) == 98
    assert centre_pitch([]) == 60
    assert centre_pitch([n(0, 1, 40), n(0, 1, 50), n(0, 1, 90)]) == 50
