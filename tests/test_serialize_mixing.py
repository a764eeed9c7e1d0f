"""The song file's mixing lines: outputs, sends, effect chains, clips, frozen renders, master."""

from __future__ import annotations

import pytest

from tracker.model.errors import SongFormatError
from tracker.model.serialize import dumps, loads
from tracker.model.song import Clip, EffectSpec, Master, Song, Track, TrackKind

MIXED = """tracker-song 1
title "Mixed"
bpm 120
lines-per-beat 4
ticks-per-line 24
swing 50
time-signature 4/4
order 0

track "Synths"
  kind group
  instrument none
  channel 1
  volume -2
  pan 0
  mute no
  solo no
  columns 1 1

track "Pad"
  kind instrument
  instrument none
  channel 1
  volume 0
  pan 0
  mute no
  solo no
  columns 1 1
  output "Synths"
  send "Room" -6
  effect filter mode=lowpass cutoff=800 q=0.7
  effect delay time=375 feedback=0.4
  frozen "audio/Pad.freeze.wav"

track "Vox"
  kind audio
  instrument none
  channel 1
  volume 0
  pan 0
  mute no
  solo no
  columns 1 1
  send "Room" -12.5
  clip 0 "audio/vox take 1.wav"
  clip 384 "audio/vox.wav"

track "Room"
  kind return
  instrument none
  channel 1
  volume 0
  pan 0
  mute no
  solo no
  columns 1 1
  effect reverb size=0.8

master
  volume -1
  effect limiter ceiling=-0.3

pattern 0 "" 1
  000 ... .. .. .. ..... .. | ... .. .. .. ..... .. | ... .. .. .. ..... .. | ... .. .. .. ..... ..
"""


def test_the_mixing_lines_read_into_the_song_and_write_back_byte_for_byte() -> None:
    song = loads(MIXED)
    synths, pad, vox, room = song.tracks
    assert synths.kind is TrackKind.GROUP and room.kind is TrackKind.RETURN
    assert pad.output == "Synths" and pad.sends == {"Room": -6.0}
    assert pad.effects == [
        EffectSpec("filter", {"mode": "lowpass", "cutoff": 800.0, "q": 0.7}),
        EffectSpec("delay", {"time": 375.0, "feedback": 0.4}),
    ]
    assert pad.frozen == "audio/Pad.freeze.wav" and not pad.plays_notes
    assert pad.audio_clips() == [Clip(0, "audio/Pad.freeze.wav")]
    assert vox.clips == [Clip(0, "audio/vox take 1.wav"), Clip(384, "audio/vox.wav")]
    assert song.master == Master(-1.0, [EffectSpec("limiter", {"ceiling": -0.3})])
    assert dumps(song) == MIXED


def test_a_song_without_mixing_writes_no_mixing_lines() -> None:
    text = dumps(Song(tracks=[Track("A")], order=[]))
    for word in ("output", "send", "effect", "clip", "frozen", "master"):
        assert f"\n  {word} " not in text and f"\n{word}" not in text


def _with(field: str) -> str:
    """MIXED with one more line under the Pad track."""
    return MIXED.replace(
        '  frozen "audio/Pad.freeze.wav"\n', f'  frozen "audio/Pad.freeze.wav"\n{field}\n'
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (MIXED.replace('output "Synths"', 'output "Room"'), 29, "'Room' is not a group track"),
        (MIXED.replace('send "Room" -6', 'send "Pad" -6'), 30, "'Pad' is not a return track"),
        (MIXED.replace('send "Room" -6', 'send "Room" loud'), 30, "send level must be a number"),
        (MIXED.replace('send "Room" -6', 'send "Room" 40'), 30, "outside -120..24"),
        (_with('  send "Room" -3'), 34, "a second send to 'Room'"),
        (_with("  effect delay time"), 34, "written NAME=VALUE"),
        (_with("  effect delay time=1 time=2"), 34, "given twice"),
        (_with("  effect"), 34, "expected 'effect KIND"),
        (_with('  frozen "x.wav"'), 34, "'frozen' is given twice"),
        (MIXED.replace('"audio/Pad.freeze.wav"', '"/etc/passwd"'), 33, "must be relative"),
        (MIXED.replace('"audio/Pad.freeze.wav"', '"../../x.wav"'), 33, "'..' parts"),
        (MIXED.replace('clip 384 "audio/vox.wav"', 'clip -1 "audio/vox.wav"'), 46, "clip tick"),
        (
            MIXED.replace("  volume -1\n  effect", "  volume -1\n  volume 2\n  effect"),
            61,
            "given twice",
        ),
        (MIXED.replace("  volume -1\n", "  pan 1\n"), 60, "unknown master field"),
        (
            MIXED.replace('"Synths"\n  kind group', '"Synths"\n  kind group\n  output "Synths"'),
            12,
            "plays into itself",
        ),
    ],
)
def test_bad_mixing_lines_are_one_located_error(text: str, line: int, message: str) -> None:
    with pytest.raises(SongFormatError) as caught:
        loads(text, "mixed.song")
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"mixed.song:{line}:")
    assert "\n" not in str(caught.value)


def test_the_writer_refuses_what_the_reader_would() -> None:
    song = loads(MIXED)
    song.tracks[1].output = "Nowhere"
    with pytest.raises(ValueError, match="not a group track"):
        dumps(song)
    song = loads(MIXED)
    song.tracks[1].frozen = "../outside.wav"
    with pytest.raises(ValueError, match=r"'\.\.' parts"):
        dumps(song)


def test_solo_is_in_place_groups_and_returns_pass_a_soloed_track() -> None:
    song = loads(MIXED)
    song.tracks[1].solo = True  # Pad, in the group Synths, sending to Room
    assert song.audible_tracks() == [0, 1, 3]
    song.tracks[0].mute = True  # a muted group silences its children even when they are soloed
    assert song.audible_tracks() == [1, 3]
