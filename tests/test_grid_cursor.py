"""The pattern grid's cursor model: fields, moves and jumps, all clamped."""

from __future__ import annotations

from tracker.model.song import Pattern, Song, Track
from tracker.ui.edit_state import EditState
from tracker.ui.grid_cursor import GridCursor, track_fields, track_text_width


def _song(rows: int = 64) -> Song:
    return Song(
        tracks=[Track("A"), Track("B", note_columns=2, effect_columns=1), Track("C")],
        patterns={0: Pattern(rows), 1: Pattern(10)},
        order=[0, 1],
    )


def test_fields_of_a_track_in_order() -> None:
    fields = track_fields(2, 1)
    names = [(f.kind, f.column, f.name) for f in fields]
    assert names == [
        ("note", 0, "note"),
        ("note", 0, "instrument"),
        ("note", 0, "velocity"),
        ("note", 0, "delay"),
        ("note", 1, "note"),
        ("note", 1, "instrument"),
        ("note", 1, "velocity"),
        ("note", 1, "delay"),
        ("effect", 0, "command"),
        ("effect", 0, "value"),
        ("effect", 0, "delay"),
    ]
    # `C-4 01 64 .. C-4 01 64 .. C0740 ..`
    assert [f.offset for f in fields] == [0, 4, 7, 10, 13, 17, 20, 23, 26, 27, 32]
    assert track_text_width(2, 1) == len("C-4 01 64 .. C-4 01 64 .. C0740 ..")


def test_right_walks_fields_then_the_next_track_and_stops_at_the_end() -> None:
    song = _song()
    state = EditState()
    cursor = GridCursor(state)
    for _ in range(6):  # note, instrument, velocity, delay, command, value, delay: 7 fields
        cursor.right(song)
    assert (state.track, cursor.field) == (0, 6)
    cursor.right(song)
    assert (state.track, cursor.field) == (1, 0)
    for _ in range(100):
        cursor.right(song)
    assert (state.track, cursor.current(song).name) == (2, "delay")  # type: ignore[union-attr]
    for _ in range(200):
        cursor.left(song)
    assert (state.track, cursor.field) == (0, 0)


def test_left_from_a_track_start_lands_on_the_previous_tracks_last_field() -> None:
    song = _song()
    state = EditState(track=2)
    cursor = GridCursor(state)
    cursor.left(song)
    assert state.track == 1
    assert cursor.current(song) == track_fields(2, 1)[-1]


def test_rows_clamp_without_wrapping() -> None:
    song = _song()
    state = EditState(row=2)
    cursor = GridCursor(state)
    cursor.move_rows(song, -5)
    assert state.row == 0
    cursor.page(song, 1)
    assert state.row == 16
    cursor.page(song, 10)
    assert state.row == 63
    cursor.home(song)
    assert state.row == 0
    cursor.end(song)
    assert state.row == 63


def test_jumps_to_quarters_of_the_pattern() -> None:
    song = _song()
    state = EditState()
    cursor = GridCursor(state)
    rows = []
    for quarter in range(4):
        cursor.jump(song, quarter)
        rows.append(state.row)
    assert rows == [0, 16, 32, 48]
    state.pattern = 1  # 10 rows
    cursor.jump(song, 3)
    assert state.row == 7


def test_tracks_clamp_and_reset_the_field() -> None:
    song = _song()
    state = EditState()
    cursor = GridCursor(state)
    cursor.field = 3
    cursor.next_track(song)
    assert (state.track, cursor.field) == (1, 0)
    cursor.next_track(song)
    cursor.field = 2
    cursor.next_track(song)  # already the last track: nothing moves
    assert (state.track, cursor.field) == (2, 2)
    cursor.previous_track(song)
    cursor.previous_track(song)
    cursor.previous_track(song)
    assert state.track == 0


def test_clamp_after_the_song_shrinks() -> None:
    song = _song()
    state = EditState(track=1, row=60)
    cursor = GridCursor(state, field=10)
    song.patterns[0].length = 32
    song.tracks.pop()
    song.tracks[1].effect_columns = 0
    cursor.clamp(song)
    assert (state.track, state.row, cursor.field) == (1, 31, 7)


def test_a_song_without_tracks_has_a_harmless_cursor() -> None:
    song = Song(patterns={0: Pattern(4)}, order=[0])
    state = EditState(track=3, row=9)
    cursor = GridCursor(state)
    cursor.clamp(song)
    cursor.right(song)
    cursor.next_track(song)
    assert (state.track, state.row) == (0, 3)
    assert cursor.current(song) is None
