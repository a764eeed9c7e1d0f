"""The mixing part of a song file: where a track plays into (`output`), its sends, its effect
chain, its audio clips and frozen render, and the `master` block.

    track "Pad"
      …
      output "Synths"
      send "Reverb" -6
      effect filter mode=lowpass cutoff=800
      effect delay time=375 feedback=0.4
      frozen "audio/Pad.freeze.wav"

    master
      volume -1
      effect limiter ceiling=-0.3

Every line here is written only when it says something (no output, no sends, …), so songs that
use none of it read and write exactly as before. Effect parameters are read as numbers where
they look like numbers, else as words; which kinds and parameters exist is dsp/effects' to
check, when a renderer is built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tracker.model.routing import RETURN_OUTPUT, RETURN_SEND, group_cycles, reference_problem
from tracker.model.serialize_common import (
    MAX_STRING_CHARS,
    RuleError,
    check_float,
    check_int,
    format_number,
    parse_number,
    quote,
    show,
)
from tracker.model.serialize_lex import Token
from tracker.model.song import Clip, EffectSpec, Master, Song, Track, TrackKind

if TYPE_CHECKING:
    from tracker.model.serialize_read import SongReader

MAX_EFFECTS = 16  # per chain
MAX_CLIPS = 1024  # per track
MAX_SENDS = 64  # per track
MAX_CLIP_TICK = 10**12
PARAM_RANGE = (-1e9, 1e9)  # an effect parameter's number; dsp/effects narrows it per parameter
LEVEL_RANGE = (-120.0, 24.0)  # dB, sends and the master as for track volumes
REPEATABLE = ("send", "effect", "clip")  # track fields that may come more than once
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PARAM_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


# --- reading -------------------------------------------------------------------------------


def read_output(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, 'output "GROUP"')
    track.output = reader.string(tokens[1], "output")
    reader.name_refs.append((track.output, TrackKind.GROUP, reader.line_no, tokens[1].column))
    reader.outputs.append((track, reader.line_no, tokens[0].column))


def read_send(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 3, 'send "RETURN" DB')
    name = reader.string(tokens[1], "send target")
    if name in track.sends:
        reader.fail(f"a second send to {show(name)}", tokens[1].column)
    reader.senders.append((track, reader.line_no, tokens[0].column))
    if len(track.sends) == MAX_SENDS:
        reader.fail(f"more than {MAX_SENDS} sends", tokens[0].column)
    track.sends[name] = _level(reader, tokens[2], "send level")
    reader.name_refs.append((name, TrackKind.RETURN, reader.line_no, tokens[1].column))


def read_effect(reader: SongReader, effects: list[EffectSpec], tokens: list[Token]) -> None:
    if len(tokens) < 2:
        reader.fail("missing value; expected 'effect KIND NAME=VALUE…'", len(reader.line) + 1)
    if len(effects) == MAX_EFFECTS:
        reader.fail(f"more than {MAX_EFFECTS} effects in one chain", tokens[0].column)
    kind = reader.word(tokens[1], "effect kind")
    if not _NAME.fullmatch(kind):
        reader.fail(f"effect kind {show(kind)} is not a name like 'delay'", tokens[1].column)
    params: dict[str, float | str] = {}
    for token in tokens[2:]:
        name, equals, text = reader.word(token, "effect parameter").partition("=")
        if not equals or not _NAME.fullmatch(name) or not text:
            reader.fail(
                f"effect parameters are written NAME=VALUE, not {show(token.text)}", token.column
            )
        if name in params:
            reader.fail(f"parameter {show(name)} is given twice", token.column)
        number = parse_number(text)
        if number is None and not _PARAM_WORD.fullmatch(text):
            reader.fail(f"{name} must be a number or a word, not {show(text)}", token.column)
        if number is not None:
            with reader.at(token.column):  # what the writer would refuse to write back
                number = check_float(number, *PARAM_RANGE, name)
        params[name] = text if number is None else number
    effects.append(EffectSpec(kind, params))


def read_track_effect(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    read_effect(reader, track.effects, tokens)


def read_clip(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 3, 'clip TICK "PATH"')
    if len(track.clips) == MAX_CLIPS:
        reader.fail(f"more than {MAX_CLIPS} clips on one track", tokens[0].column)
    tick = reader.whole(tokens[1], 0, 10**9, "clip tick")
    track.clips.append(Clip(tick, _path(reader, tokens[2], "clip path")))


def read_frozen(reader: SongReader, track: Track, tokens: list[Token]) -> None:
    reader.expect(tokens, 2, 'frozen "PATH"')
    track.frozen = _path(reader, tokens[1], "frozen path")


def read_master_field(
    reader: SongReader, master: Master, seen: set[str], tokens: list[Token]
) -> None:
    key = tokens[0]
    if key.quoted or key.text not in ("volume", "effect"):
        reader.fail(f"unknown master field {show(key.text)} (fields: volume, effect)", key.column)
    if key.text == "volume":
        if "volume" in seen:
            reader.fail("'volume' is given twice for the master", key.column)
        seen.add("volume")
        reader.expect(tokens, 2, "volume DB")
        master.volume_db = _level(reader, tokens[1], "master volume")
    else:
        read_effect(reader, master.effects, tokens)


def _level(reader: SongReader, token: Token, what: str) -> float:
    value = parse_number(reader.word(token, what))
    if value is None:
        reader.fail(f"{what} must be a number of dB, not {show(token.text)}", token.column)
    with reader.at(token.column):
        return check_float(value, *LEVEL_RANGE, what)


def _path(reader: SongReader, token: Token, what: str) -> str:
    """A path inside the song's folder: relative, '/'-separated, never climbing out of it.

    A song file is data that may come from anyone; it must not point us at files elsewhere.
    """
    path = reader.string(token, what)
    with reader.at(token.column):
        check_relative_path(path, what)
    return path


def check_relative_path(path: str, what: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or ":" in parts[0]:
        raise RuleError(f"{what} {path!r} must be relative to the song's folder, with '/'")
    if any(part in ("", ".", "..") for part in parts):
        raise RuleError(f"{what} {path!r} may not hold empty, '.' or '..' parts")
    if len(path) > MAX_STRING_CHARS:
        raise RuleError(f"{what} is longer than {MAX_STRING_CHARS} characters")
    return path


def check_names(
    song: Song,
    refs: list[tuple[str, TrackKind, int, int]],
    outputs: list[tuple[Track, int, int]],
    senders: list[tuple[Track, int, int]],
) -> list[tuple[int, int, str]]:
    """Problems with the names tracks refer to: outputs must name groups, sends returns, and no
    group may play into itself; returns neither play into groups nor send."""
    problems = []
    for name, wanted, line, column in refs:
        message = reference_problem(song, name, wanted)
        if message is not None:
            problems.append((line, column, message))
    for track, line, column in outputs:
        if track.kind is TrackKind.RETURN:
            problems.append((line, column, RETURN_OUTPUT))
    for track, line, column in senders:
        if track.kind is TrackKind.RETURN:
            problems.append((line, column, RETURN_SEND))
    for message in group_cycles(song):
        problems.append((refs[0][2] if refs else 1, 1, message))
    return problems


# --- writing -------------------------------------------------------------------------------


def track_mixing_lines(track: Track) -> list[str]:
    lines = []
    if track.output is not None:
        lines.append(f"  output {quote(track.output, 'output')}")
    for name, level in track.sends.items():
        lines.append(f"  send {quote(name, 'send target')} {_level_text(level, 'send level')}")
    lines += [f"  {effect_text(e)}" for e in _limited(track.effects, MAX_EFFECTS, "effects")]
    for clip in _limited(track.clips, MAX_CLIPS, "clips"):
        tick = check_int(clip.tick, 0, 10**9, "clip tick")
        path = check_relative_path(clip.path, "clip path")
        lines.append(f"  clip {tick} {quote(path, 'clip path')}")
    if track.frozen is not None:
        lines.append(
            f"  frozen {quote(check_relative_path(track.frozen, 'frozen path'), 'frozen path')}"
        )
    return lines


def master_block(master: Master) -> str | None:
    """The `master` block, or None when the master is as a new song has it."""
    if master.volume_db == 0.0 and not master.effects:
        return None
    lines = ["master", f"  volume {_level_text(master.volume_db, 'master volume')}"]
    lines += [f"  {effect_text(e)}" for e in _limited(master.effects, MAX_EFFECTS, "effects")]
    return "\n".join(lines)


def effect_text(effect: EffectSpec) -> str:
    if not _NAME.fullmatch(effect.kind):
        raise RuleError(f"effect kind {effect.kind!r} is not a name like 'delay'")
    words = ["effect", effect.kind]
    for name, value in effect.params.items():
        if not _NAME.fullmatch(name):
            raise RuleError(f"effect parameter name {name!r} is not a name like 'time'")
        if isinstance(value, str):
            if not _PARAM_WORD.fullmatch(value) or parse_number(value) is not None:
                raise RuleError(f"effect parameter {name}={value!r} is not a word")
            words.append(f"{name}={value}")
        else:
            words.append(f"{name}={format_number(check_float(value, *PARAM_RANGE, name))}")
    return " ".join(words)


def _level_text(value: float, what: str) -> str:
    return format_number(check_float(value, *LEVEL_RANGE, what))


def _limited(items: list, most: int, what: str) -> list:  # type: ignore[type-arg]
    if len(items) > most:
        raise RuleError(f"{len(items)} {what}; the format holds at most {most}")
    return items
