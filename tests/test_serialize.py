"""The song file format: canonical writing, exact round trips, and one clear error for bad input."""

from __future__ import annotations

import os
import pathlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.model.errors import SongFormatError, TrackerError
from tracker.model.serialize import dumps, load_song, loads, save_song
from tracker.model.song import (
    CUT,
    EFFECTS,
    OFF,
    EffectCell,
    NoteCell,
    Pattern,
    Song,
    Track,
    TrackKind,
    TrackRow,
)

NIGHT_BUS = """\
tracker-song 1
title "Night Bus"
bpm 124
lines-per-beat 4
ticks-per-line 24
swing 55
time-signature 4/4
order 0 1 1 0
loop 1 2

instrument 1 drums
instrument 2 bass

track "Drums"
  kind instrument
  instrument 1
  channel 10
  volume -1.5
  pan 0
  mute no
  solo no
  columns 2 1

track "Piano"
  kind midi
  instrument none
  port "FLUID Synth"
  channel 1
  volume 0
  pan -0.25
  mute no
  solo no
  columns 1 1

pattern 0 "Intro" 4
  000 C-2 01 7F .. ... .. .. .. T124  .. | C-4 .. .. 0C ..... ..
  001 ... .. .. .. ... .. .. .. ..... .. | OFF .. .. .. C0740 ..
  002 ... .. .. .. E-2 02 40 03 ..... .. | ^^^ .. .. .. ..... ..
  003 ... .. .. .. ... .. .. .. ..... .. | ... .. .. .. B2000 05

pattern 1 "Wide" 3
  000 C--1 .. .. .. ... .. .. .. T129.99987 .. | G-9  02 01 17 P007F ..
  001 .... .. .. .. ... .. .. .. .......... .. | C#-1 .. .. .. R0006 00
  002 .... 02 .. .. ... .. .. .. L0030      02 | .... .. .. .. ..... ..
"""


def rich_song() -> Song:
    """Every kind of cell: notes at both MIDI ends, OFF, cut, delays, all effects, a loop."""
    intro = Pattern(4, "Intro")
    intro.set_note(0, 0, 0, NoteCell(36, 1, 0x7F))
    intro.set_effect(0, 0, 0, EffectCell("T", 124.0))
    intro.set_note(1, 0, 0, NoteCell(60, delay=12))
    intro.set_note(1, 1, 0, NoteCell(OFF))
    intro.set_effect(1, 1, 0, EffectCell("C", 0x0740))
    intro.set_note(0, 2, 1, NoteCell(40, 2, 0x40, 3))
    intro.set_note(1, 2, 0, NoteCell(CUT))
    intro.set_effect(1, 3, 0, EffectCell("B", 0x2000, 5))
    wide = Pattern(3, "Wide")
    wide.set_note(0, 0, 0, NoteCell(0))
    wide.set_effect(0, 0, 0, EffectCell("T", 129.99987))
    wide.set_note(1, 0, 0, NoteCell(127, 2, 1, 23))
    wide.set_effect(1, 0, 0, EffectCell("P", 0x7F))
    wide.set_note(1, 1, 0, NoteCell(1))
    wide.set_effect(1, 1, 0, EffectCell("R", 6, 0))
    wide.set_note(0, 2, 0, NoteCell(instrument=2))
    wide.set_effect(0, 2, 0, EffectCell("L", 0x30, 2))
    return Song(
        title="Night Bus",
        bpm=124,
        swing=55,
        instruments={2: "bass", 1: "drums"},
        tracks=[
            Track("Drums", instrument=1, channel=10, volume_db=-1.5, note_columns=2),
            Track("Piano", TrackKind.MIDI, port="FLUID Synth", pan=-0.25),
        ],
        patterns={1: wide, 0: intro},
        order=[0, 1, 1, 0],
        loop=(1, 2),
    )


# --- writing and round trips ------------------------------------------------------------------


def test_rich_song_writes_the_canonical_text() -> None:
    assert dumps(rich_song()) == NIGHT_BUS


def test_canonical_text_round_trips_byte_for_byte() -> None:
    assert dumps(loads(NIGHT_BUS)) == NIGHT_BUS


def test_rich_song_round_trips_at_the_model_level() -> None:
    song = loads(dumps(rich_song()))
    assert loads(dumps(song)) == song
    assert song.patterns[1].data[0][0].effects[0] == EffectCell("T", 129.99987)
    assert song.patterns[0].data[1][0].notes == [NoteCell(60, delay=12)]
    assert song.tracks[1].port == "FLUID Synth"
    assert song.loop == (1, 2)


def test_reader_fills_rows_to_the_column_counts_and_stays_sparse() -> None:
    song = loads(NIGHT_BUS)
    drums = song.patterns[0].data[0]
    assert sorted(drums) == [0, 2]  # rows 1 and 3 are empty for the drums
    assert drums[0] == TrackRow([NoteCell(36, 1, 127), None], [EffectCell("T", 124.0)])
    assert isinstance(song.patterns[0].data[1][1].effects[0].value, int)


@pytest.mark.parametrize(
    ("value", "text"),
    [(124.0, "124"), (124, "124"), (92.5, "92.5"), (129.99987, "129.99987"), (1.1, "1.1")],
)
def test_numbers_are_spelled_exactly(value: float, text: str) -> None:
    assert f"\nbpm {text}\n" in dumps(Song(bpm=value))
    assert loads(dumps(Song(bpm=value))).bpm == value


def test_tiny_numbers_round_trip_in_exponent_form() -> None:
    song = Song(tracks=[Track("t", pan=1e-07, volume_db=-0.0)])
    text = dumps(song)
    assert "  pan 1e-07\n" in text and "  volume 0\n" in text
    assert loads(text).tracks[0].pan == 1e-07


def test_empty_song_and_empty_order() -> None:
    text = dumps(Song())
    assert text.endswith("time-signature 4/4\norder\n")
    assert dumps(loads(text)) == text


def test_strings_escape_quotes_and_backslashes() -> None:
    song = Song(title='say "hi" \\ bye ünïcode', tracks=[Track('a "b"', port="p\\q")])
    text = dumps(song)
    assert 'title "say \\"hi\\" \\\\ bye ünïcode"' in text
    back = loads(text)
    assert (back.title, back.tracks[0].name, back.tracks[0].port) == (
        song.title,
        'a "b"',
        "p\\q",
    )


@pytest.mark.parametrize("title", ["two\nlines", "tab\there", "bell\a", "nel\x85", "\u2028"])
def test_writer_rejects_control_characters_in_strings(title: str) -> None:
    with pytest.raises(ValueError, match="title holds"):
        dumps(Song(title=title))


def test_missing_and_none_cells_are_written_empty() -> None:
    pattern = Pattern(2)
    pattern.data[0] = {
        0: TrackRow(notes=[None, NoteCell(62)], effects=[]),
        1: TrackRow(notes=[NoteCell()], effects=[None]),  # empty: reads back as no row
    }
    song = Song(tracks=[Track("t", note_columns=3, effect_columns=1)], patterns={0: pattern})
    text = dumps(song)
    assert "  000 ... .. .. .. D-4 .. .. .. ... .. .. .. ..... ..\n" in text
    assert "  001 ... .. .. .. ... .. .. .. ... .. .. .. ..... ..\n" in text
    back = loads(text).patterns[0].data[0]
    assert back == {0: TrackRow([None, NoteCell(62), None], [None])}


def test_long_row_numbers_pad_to_the_widest() -> None:
    song = Song(tracks=[Track("t")], patterns={0: Pattern(1001)})
    lines = dumps(song).splitlines()
    assert lines[-1].startswith("  1000 ") and lines[-1001].startswith("  0000 ")


def test_wide_fields_widen_only_their_own_column_and_pattern() -> None:
    lines = NIGHT_BUS.splitlines()
    assert "  000 C-2 01 7F .." in lines[lines.index('pattern 0 "Intro" 4') + 1]
    row = lines[lines.index('pattern 1 "Wide" 3') + 2]
    assert row == "  001 .... .. .. .. ... .. .. .. .......... .. | C#-1 .. .. .. R0006 00"


def test_save_and_load_a_file(tmp_path: Path) -> None:
    path = tmp_path / "night.song"
    save_song(rich_song(), path)
    assert path.read_bytes() == NIGHT_BUS.encode("utf-8")
    assert dumps(load_song(path)) == NIGHT_BUS


def test_reader_is_lenient_about_spacing_order_case_and_line_ends() -> None:
    text = NIGHT_BUS.replace(
        "  000 C-2 01 7F .. ... .. .. .. T124  .. | C-4 .. .. 0C ..... ..\n"
        "  001 ... .. .. .. ... .. .. .. ..... .. | OFF .. .. .. C0740 ..\n",
        "  001 ... .. .. .. ... . . ..   ..... .. |OFF .. .. .. c0740 ..\n"
        "\t0 c-2 01 7f .. ... .. .. .. t124 ..|Db4 .. .. 0c . .\n",
    ).replace("\n", "\r\n")
    text = "\ufeff" + text.replace("bpm 124", "bpm +1.24e2").replace("swing 55", "swing   055")
    expected = NIGHT_BUS.replace("C-4 .. .. 0C", "C#4 .. .. 0C")
    assert dumps(loads(text)) == expected


# --- property tests ---------------------------------------------------------------------------

NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12
)  # any one-line text, quotes and backslashes included
PRESETS = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)


def _effect(draw: st.DrawFn, ticks: int) -> EffectCell:
    command = draw(st.sampled_from(sorted(EFFECTS)))
    value: float
    if command == "T":
        value = draw(st.floats(1, 999) | st.integers(1, 999).map(float))
    elif command == "C":
        value = draw(st.integers(0, 127)) * 256 + draw(st.integers(0, 127))
    else:
        ranges = {
            "B": (0, 0x3FFF),
            "P": (0, 127),
            "A": (0, 127),
            "R": (1, 0xFFFF),
            "L": (1, 0xFFFF),
        }
        lowest, highest = ranges[command]
        value = draw(st.integers(lowest, highest))
    return EffectCell(command, value, draw(st.none() | st.integers(0, ticks - 1)))


def _note(draw: st.DrawFn, ticks: int, instruments: list[int]) -> NoteCell | None:
    if draw(st.booleans()):
        return None
    return NoteCell(
        draw(st.none() | st.sampled_from([OFF, CUT]) | st.integers(0, 127)),
        draw(st.none() | st.sampled_from(instruments)) if instruments else None,
        draw(st.none() | st.integers(1, 127)),
        draw(st.none() | st.integers(0, ticks - 1)),
    )


def _pattern(draw: st.DrawFn, song: Song) -> Pattern:
    pattern = Pattern(draw(st.integers(1, 24)), draw(NAMES))
    instruments = sorted(song.instruments)
    for index, track in enumerate(song.tracks):
        for row in draw(st.sets(st.integers(0, pattern.length - 1), max_size=6)):
            notes = [
                _note(draw, song.ticks_per_line, instruments)
                for _ in range(draw(st.integers(0, track.note_columns)))
            ]
            effects = [
                draw(st.none()) if draw(st.booleans()) else _effect(draw, song.ticks_per_line)
                for _ in range(draw(st.integers(0, track.effect_columns)))
            ]
            pattern.data.setdefault(index, {})[row] = TrackRow(notes, effects)
    return pattern


def _track(draw: st.DrawFn, instruments: list[int]) -> Track:
    notes = draw(st.integers(0, 3))
    return Track(
        draw(NAMES),
        draw(st.sampled_from(list(TrackKind))),
        draw(st.none() | st.sampled_from(instruments)) if instruments else None,
        draw(st.none() | NAMES),
        draw(st.integers(1, 16)),
        draw(st.none() | st.integers(0, 127)),
        draw(st.none() | st.integers(0, 16383)),
        draw(st.floats(-120, 24)),
        draw(st.floats(-1, 1)),
        draw(st.booleans()),
        draw(st.booleans()),
        notes,
        draw(st.integers(1 if notes == 0 else 0, 2)),
    )


@st.composite
def songs(draw: st.DrawFn) -> Song:
    song = Song(
        title=draw(NAMES),
        bpm=draw(st.floats(1, 999)),
        lines_per_beat=draw(st.integers(1, 64)),
        ticks_per_line=draw(st.integers(1, 256)),
        swing=draw(st.floats(50, 75)),
        time_signature=(draw(st.integers(1, 64)), draw(st.sampled_from([1, 2, 4, 8, 16]))),
        instruments=draw(st.dictionaries(st.integers(1, 255), PRESETS, max_size=4)),
    )
    song.tracks = [_track(draw, sorted(song.instruments)) for _ in range(draw(st.integers(0, 3)))]
    ids = draw(st.sets(st.integers(0, 9999), max_size=3))
    song.patterns = {pattern_id: _pattern(draw, song) for pattern_id in ids}
    if ids:
        song.order = draw(st.lists(st.sampled_from(sorted(ids)), max_size=6))
    if song.order and draw(st.booleans()):
        last = draw(st.integers(0, len(song.order) - 1))
        song.loop = (draw(st.integers(0, last)), last)
    return song


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_generated_songs_round_trip(song: Song) -> None:
    text = dumps(song)
    back = loads(text)
    assert dumps(back) == text
    assert loads(dumps(back)) == back


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_fails_only_with_song_format_errors(text: str) -> None:
    _load_or_format_error("tracker-song 1\n" + text)
    _load_or_format_error(text)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(NIGHT_BUS) - 1), st.integers(0, 40), st.text(max_size=4))
def test_edited_files_fail_only_with_song_format_errors(start: int, cut: int, insert: str) -> None:
    text = NIGHT_BUS[:start] + insert + NIGHT_BUS[start + cut :]
    song = _load_or_format_error(text)
    if song is not None:  # whatever loads, saves, and saves the same again
        assert dumps(loads(dumps(song))) == dumps(song)


def _load_or_format_error(text: str) -> Song | None:
    try:
        return loads(text, "fuzz.song")
    except SongFormatError as exc:
        assert "\n" not in str(exc)
        assert "cannot read this file" not in str(exc)  # the safety net caught a reader bug
        assert str(exc).startswith("fuzz.song:")
        return None


# --- malformed input --------------------------------------------------------------------------

HEAD = "tracker-song 1\nticks-per-line 24\ninstrument 1 drums\n"
ONE_TRACK = HEAD + 'track "T"\n  columns 1 1\npattern 0 "P" 4\n'

MALFORMED = [
    # (text, line, column, a piece of the message)
    ("hello\n", 1, 1, "not a tracker song"),
    ("tracker-song 2\n", 1, 14, "unsupported format version '2'"),
    ("tracker-song 1\nbpm 1000\n", 2, 5, "bpm 1000 is outside 1..999"),
    ("tracker-song 1\nbpm 0\n", 2, 5, "bpm 0 is outside 1..999"),
    ("tracker-song 1\nbpm fast\n", 2, 5, "bpm must be a number, not 'fast'"),
    ("tracker-song 1\nbpm nan\n", 2, 5, "bpm must be a number"),
    ("tracker-song 1\nbpm 120 130\n", 2, 9, "too many values"),
    ("tracker-song 1\nticks-per-line 257\n", 2, 16, "ticks-per-line 257 is outside 1..256"),
    ("tracker-song 1\nswing 80\n", 2, 7, "swing 80 is outside 50..75"),
    ("tracker-song 1\ntempo 120\n", 2, 1, "unknown keyword 'tempo'"),
    ("tracker-song 1\nbpm 120\nbpm 121\n", 3, 1, "'bpm' is given twice"),
    ("tracker-song 1\ntitle Night\n", 2, 7, "title must be in double quotes"),
    ('tracker-song 1\ntitle "Night\n', 2, 7, "unterminated string"),
    ('tracker-song 1\ntitle "a\\nb"\n', 2, 9, "unknown escape '\\n'"),
    ('tracker-song 1\ntitle "a\tb"\n', 2, 9, "control character U+0009 in a string"),
    ('tracker-song 1\ntitle "x\x00"\n', 2, 9, "control character U+0000"),
    ("tracker-song 1\ntime-signature 4/3\n", 2, 18, "time signature unit 3"),
    ("tracker-song 1\norder 0 7\n", 2, 7, "there is no pattern 0"),
    (HEAD + 'track "T"\npattern 0 "P" 1\norder 0\n', 6, 1, "'order' belongs in the header"),
    ("tracker-song 1\norder\nloop 0 0\n", 3, 8, "loop end 0 is outside an empty order list"),
    ("tracker-song 1\nloop 2 1\n", 2, 6, "loop start 2 is after loop end 1"),
    ("tracker-song 1\ninstrument 0 drums\n", 2, 12, "instrument number 0 is outside 1..255"),
    ("tracker-song 1\ninstrument 256 drums\n", 2, 12, "outside 1..255"),
    ("tracker-song 1\ninstrument 1 a/b\n", 2, 14, "preset name 'a/b'"),
    (HEAD + "instrument 1 bass\n", 4, 12, "instrument 1 is declared twice"),
    ('tracker-song 1\ntrack "T"\n  instrument 3\n', 3, 14, "instrument 3 is not declared"),
    ('tracker-song 1\ntrack "T"\n  channel 17\n', 3, 11, "channel 17 is outside 1..16"),
    ('tracker-song 1\ntrack "T"\n  pan -1.5\n', 3, 7, "pan -1.5 is outside -1..1"),
    ('tracker-song 1\ntrack "T"\n  volume 30\n', 3, 10, "volume 30 is outside -120..24"),
    ('tracker-song 1\ntrack "T"\n  colour red\n', 3, 3, "unknown track field 'colour'"),
    ('tracker-song 1\ntrack "T"\n  kind drum\n', 3, 8, "unknown track kind 'drum'"),
    ('tracker-song 1\ntrack "T"\n  mute maybe\n', 3, 8, "mute must be yes or no"),
    ('tracker-song 1\ntrack "T"\n  columns 17 1\n', 3, 11, "note columns 17 is outside 0..16"),
    ('tracker-song 1\ntrack "T"\n  columns 1 9\n', 3, 13, "effect columns 9 is outside 0..8"),
    ('tracker-song 1\ntrack "T"\n  columns 0 0\n', 3, 11, "at least one column"),
    ('tracker-song 1\ntrack "T"\n  solo no\n  solo yes\n', 4, 3, "'solo' is given twice"),
    ("tracker-song 1\n  bpm 3\n", 2, 1, "belongs under a track, the master or a pattern"),
    ('tracker-song 1\npattern 0 "A" 4\npattern 0 "B" 4\n', 3, 9, "pattern 0 is defined twice"),
    ('tracker-song 1\npattern 0 "A" 4097\n', 2, 15, "pattern length 4097 is outside 1..4096"),
    ('tracker-song 1\npattern 0 "A" 0\n', 2, 15, "pattern length 0"),
    ('tracker-song 1\npattern 0 "A"\n', 2, 14, "missing value"),
    ('tracker-song 1\npattern 0 "A" 4\ntrack "T"\n', 3, 1, "tracks must come before"),
    (ONE_TRACK + "  000 H-4 .. .. .. ..... ..\n", 7, 7, "unknown note 'H-4'"),
    (ONE_TRACK + "  000 G#9 .. .. .. ..... ..\n", 7, 7, "outside the MIDI range"),
    (ONE_TRACK + "  000 C-4 .. 80 .. ..... ..\n", 7, 14, "velocity 80 is outside 01..7F"),
    (ONE_TRACK + "  000 C-4 .. 00 .. ..... ..\n", 7, 14, "velocity 00 is outside 01..7F"),
    (ONE_TRACK + "  000 C-4 .. .. 18 ..... ..\n", 7, 17, "delay 18 (24 ticks)"),
    (ONE_TRACK + "  000 C-4 .. .. .. ..... 1G\n", 7, 26, "delay must be two hex digits"),
    (ONE_TRACK + "  000 C-4 02 .. .. ..... ..\n", 7, 11, "instrument 02 (2) is not declared"),
    (ONE_TRACK + "  000 C-4 00 .. .. ..... ..\n", 7, 11, "instrument 00 is outside 01..FF"),
    (ONE_TRACK + "  000 C-4 .. .. .. ..... ..\n  000 ... .. .. .. ..... ..\n", 8, 3, "twice"),
    (ONE_TRACK + "  004 C-4 .. .. .. ..... ..\n", 7, 3, "row 4 is past the end of pattern 0"),
    (ONE_TRACK + "  kind midi\n", 7, 3, "expected a row number, found 'kind'"),
    (ONE_TRACK + "  000 C-4 .. .. .. .....\n", 7, 25, "1 effect column: 6 fields, found 5"),
    (ONE_TRACK + "  000 C-4 .. .. .. ..... .. ..\n", 7, 29, "found 7"),
    (ONE_TRACK + "  000 C-4 .. .. .. ..... .. | C-4\n", 7, 29, "too many '|'"),
    (ONE_TRACK + "  000 C-4 .. .. .. X0000 ..\n", 7, 20, "unknown effect 'X0000'"),
    (ONE_TRACK + "  000 C-4 .. .. .. C8000 ..\n", 7, 20, "controller number 80"),
    (ONE_TRACK + "  000 C-4 .. .. .. C0780 ..\n", 7, 20, "controller value 80"),
    (ONE_TRACK + "  000 C-4 .. .. .. B4000 ..\n", 7, 20, "effect B value 4000"),
    (ONE_TRACK + "  000 C-4 .. .. .. P0080 ..\n", 7, 20, "effect P value 0080"),
    (ONE_TRACK + "  000 C-4 .. .. .. R0000 ..\n", 7, 20, "effect R value 0000"),
    (ONE_TRACK + "  000 C-4 .. .. .. L0000 ..\n", 7, 20, "effect L value 0000"),
    (ONE_TRACK + "  000 C-4 .. .. .. T1000 ..\n", 7, 20, "tempo 1000 is outside 1..999"),
    (ONE_TRACK + "  000 C-4 .. .. .. Tfast ..\n", 7, 20, "tempo 'fast' is not a number"),
    (ONE_TRACK + "  000 C-4 .. .. .. ..... 01\n", 7, 26, "an effect delay needs an effect"),
    ('tracker-song 1\npattern 0 "A" 1\n  000 C-4\n', 3, 7, "no tracks"),
    ("tracker-song 1\nbpm 120 \x07\n", 2, 9, "control character U+0007 is not allowed"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), MALFORMED)
def test_malformed_input_is_located(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(SongFormatError) as caught:
        loads(text, "demo.song")
    error = caught.value
    assert message in error.reason
    assert (error.line, error.column) == (line, column)
    assert str(error) == f"demo.song:{line}:{column}: {error.reason}"
    assert "\n" not in str(error)


def test_the_first_of_several_late_problems_is_reported() -> None:
    text = 'tracker-song 1\norder 0 5\ntrack "T"\n  instrument 9\npattern 0 "" 1\n'
    with pytest.raises(SongFormatError, match=r"^<string>:2:9: .*there is no pattern 5$"):
        loads(text)
    with pytest.raises(SongFormatError, match=r"^<string>:4:14: instrument 9 is not declared"):
        loads(text.replace("order 0 5", "order 0"))


def test_message_format_matches_the_example() -> None:
    with pytest.raises(SongFormatError) as caught:
        loads(ONE_TRACK + "  000 H-4 .. .. .. ..... ..\n", "demo.song")
    assert str(caught.value) == "demo.song:7:7: unknown note 'H-4'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("\n", "not a tracker song"),
        ("\x00\x01\x02garbage\xff", "control character"),
        ("tracker-song", "not a tracker song"),
        ("tracker-song 1\ntitle", "missing value"),
        ('tracker-song 1\ntitle "Ni', "unterminated string"),
        ("\ud800", r"lone surrogate U\+D800"),
    ],
)
def test_garbage_and_empty_input(text: str, message: str) -> None:
    with pytest.raises(SongFormatError, match=message):
        loads(text)


def test_every_truncation_of_a_song_loads_or_fails_cleanly() -> None:
    outcomes = {_load_or_format_error(NIGHT_BUS[:end]) is None for end in range(len(NIGHT_BUS))}
    assert outcomes == {True, False}


def test_a_row_cut_short_is_an_error() -> None:
    with pytest.raises(
        SongFormatError, match=r":38:21: row has 1 track segment, the song has 2 tracks"
    ):
        loads(NIGHT_BUS[: NIGHT_BUS.index("  002 ... .. .. .. E-2") + 20])


def test_invalid_utf8_names_the_file_and_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.song"
    path.write_bytes(b'tracker-song 1\ntitle "caf\xe9"\n')
    with pytest.raises(SongFormatError) as caught:
        load_song(path)
    assert str(caught.value).startswith(f"{path}:2:11: not UTF-8")


def test_random_bytes_fail_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "noise.song"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(SongFormatError, match=str(path)):
        load_song(path)


@pytest.mark.parametrize("name", ["missing.song", "", "dir"])
def test_unreadable_files_name_the_file(tmp_path: Path, name: str) -> None:
    (tmp_path / "dir").mkdir()
    path = tmp_path / name
    with pytest.raises(SongFormatError) as caught:
        load_song(path)
    assert caught.value.path == str(path) and caught.value.line is None
    assert "cannot read the file" in str(caught.value)


def test_a_path_with_a_nul_byte_is_a_format_error() -> None:
    with pytest.raises(SongFormatError, match="cannot read the file"):
        load_song("bad\x00name.song")


# --- size limits ------------------------------------------------------------------------------


def test_a_huge_line_is_rejected_at_once() -> None:
    text = 'tracker-song 1\ntitle "' + "x" * 200_000 + '"\n' + "bpm 120\n" * 100_000
    with pytest.raises(SongFormatError) as caught:
        loads(text)
    # Refused on its own line, before any of it is tokenized or the lines after it are read.
    assert (caught.value.line, caught.value.column) == (2, 100_001)


def test_a_file_over_64_mib_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.song"
    with open(path, "wb") as file:
        file.truncate(64 * 1024 * 1024 + 1)  # sparse: costs no disk
    with pytest.raises(SongFormatError, match="larger than 64 MiB"):
        load_song(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tracker-song 1\n" + 'track "t"\n' * 257, "more than 256 tracks"),
        ("tracker-song 1\n" + "".join(f'pattern {i} "" 1\n' for i in range(4097)), "4096"),
        ("tracker-song 1\norder" + " 0" * 10_001 + "\n", "more than 10000 order entries"),
        ('tracker-song 1\npattern 10000 "" 1\n', "pattern id 10000 is outside 0..9999"),
        ("tracker-song 1\nbpm " + "9" * 5000 + "\n", "bpm must be a number"),
        ('tracker-song 1\ntitle "' + "x" * 1001 + '"\n', "longer than 1000 characters"),
        (
            'tracker-song 1\ntrack "t"\n  columns 16 8\n'
            + "".join(f'pattern {i} "" 4096\n' for i in range(60)),
            "64 MiB",
        ),
    ],
)
def test_size_limits(text: str, message: str) -> None:
    with pytest.raises(SongFormatError, match=message):
        loads(text)


# --- the writer refuses what the reader would refuse ------------------------------------------


def _with_cell(cell: NoteCell | EffectCell) -> Song:
    pattern = Pattern(1)
    if isinstance(cell, NoteCell):
        pattern.set_note(0, 0, 0, cell)
    else:
        pattern.set_effect(0, 0, 0, cell)
    return Song(instruments={1: "a"}, tracks=[Track("t")], patterns={0: pattern})


@pytest.mark.parametrize(
    ("song", "message"),
    [
        (Song(bpm=0.5), "bpm 0.5 is outside"),
        (Song(bpm=float("nan")), "bpm nan"),
        (Song(swing=49), "swing 49"),
        (Song(order=[3]), "missing pattern 3"),
        (Song(loop=(0, 0)), "empty order list"),
        (Song(instruments={1: "bad name"}), "preset name"),
        (Song(tracks=[Track("t", instrument=2)]), "instrument 2 is not declared"),
        (Song(tracks=[Track("t", note_columns=0, effect_columns=0)]), "no columns"),
        (_with_cell(NoteCell(128)), "note 128"),
        (_with_cell(NoteCell(60, velocity=0)), "velocity 00"),
        (_with_cell(NoteCell(60, delay=24)), "delay 18 is outside 00..17"),
        (_with_cell(NoteCell(60, instrument=3)), "instrument 3 is not declared"),
        (_with_cell(EffectCell("X", 1)), "unknown effect command 'X'"),
        (_with_cell(EffectCell("C", 1.5)), "whole number"),
        (_with_cell(EffectCell("T", 1000.0)), "tempo 1000"),
    ],
)
def test_writer_rejects_songs_the_reader_would_reject(song: Song, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dumps(song)


def test_writer_rejects_data_it_could_not_place() -> None:
    song = _with_cell(NoteCell(60))
    song.patterns[0].set_note(0, 5, 0, NoteCell(61))
    with pytest.raises(ValueError, match="row 5"):
        dumps(song)
    song = _with_cell(NoteCell(60))
    song.patterns[0].set_note(0, 0, 1, NoteCell(61))
    with pytest.raises(ValueError, match="beyond the track's 1 note columns"):
        dumps(song)


# --- atomic saving ----------------------------------------------------------------------------


def _assert_untouched(folder: Path, path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left


def test_a_failed_temporary_file_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    # What a read-only directory does for a normal user, also when the tests run as root.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    path = tmp_path / "song.song"
    path.write_text("old")
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(TrackerError, match=r"cannot write .*song\.song: Permission denied"):
        save_song(rich_song(), path)
    _assert_untouched(tmp_path, path, b"old")


def test_a_write_that_fails_halfway_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    real_write = pathlib.Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:
        real_write(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    path = tmp_path / "song.song"
    path.write_text("old")
    monkeypatch.setattr(pathlib.Path, "write_bytes", disk_full)
    with pytest.raises(TrackerError, match=r"cannot write .*song\.song: No space"):
        save_song(rich_song(), path)
    monkeypatch.undo()
    _assert_untouched(tmp_path, path, b"old")


def test_a_failed_rename_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise OSError(30, "Read-only file system")

    path = tmp_path / "song.song"
    path.write_text("old")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(TrackerError, match=r"cannot write .*song\.song: Read-only"):
        save_song(rich_song(), path)
    monkeypatch.undo()
    _assert_untouched(tmp_path, path, b"old")


def test_an_invalid_song_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "song.song"
    path.write_text("old")
    with pytest.raises(ValueError):
        save_song(Song(title="a\nb"), path)
    _assert_untouched(tmp_path, path, b"old")


def test_saving_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "song.song"
    path.write_text("old")
    path.chmod(0o640)
    save_song(rich_song(), path)
    assert path.stat().st_mode & 0o777 == 0o640
