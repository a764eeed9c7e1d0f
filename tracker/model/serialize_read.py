"""The text of a song file → Song, every failure a SongFormatError at a line and column.

This module walks the lines; serialize_statements reads unindented statements and track fields,
serialize_rows the row lines of patterns. Checks that need the whole song (order and loop,
declared instruments) wait for the end and are reported at the line that names the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from tracker.model.errors import SongFormatError
from tracker.model.serialize_common import (
    FORBIDDEN_IN_LINE,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    RuleError,
    check_int,
    describe_char,
    show,
)
from tracker.model.serialize_lex import Token, lex
from tracker.model.serialize_mixing import check_names
from tracker.model.serialize_rows import PatternBlock, read_row
from tracker.model.serialize_statements import (
    MasterBlock,
    TrackBlock,
    read_master,
    read_statement,
    read_track_field,
)
from tracker.model.song import Song, Track, TrackKind

_MAGIC_LINE = re.compile(r"tracker-song[ \t]+([^ \t]+)[ \t]*")
_WHOLE = re.compile(r"[-+]?[0-9]{1,9}")

Problem = tuple[int, int, str]  # line, column, message


class SongReader:
    """Reads one song text; call `read` once."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.song = Song()
        self.line_no = 0
        self.line = ""
        self.block: TrackBlock | MasterBlock | PatternBlock | None = None
        self.master_seen = False
        # (name, kind it must have, line, column) of every track name a track refers to
        self.name_refs: list[tuple[str, TrackKind, int, int]] = []
        self.outputs: list[tuple[Track, int, int]] = []  # tracks with an output, where
        self.senders: list[tuple[Track, int, int]] = []  # tracks with a send, where
        self.in_header = True
        self.seen_keys: set[str] = set()
        self.pattern_lines: dict[int, int] = {}  # pattern id → line of its heading
        self.pattern_chars = 0  # a lower bound on the size of the patterns written out
        self.instrument_uses: dict[int, Problem] = {}  # first use of each instrument number
        self.order_refs: list[tuple[int, int, int]] = []  # (pattern id, line, column)
        self.loop_at: tuple[int, int] | None = None  # line and column of the loop's end

    def read(self, text: str) -> Song:
        if len(text) > MAX_FILE_BYTES:
            raise SongFormatError(self.path, "file is larger than 64 MiB")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()  # the newline that ends the last line
        if not lines:
            raise SongFormatError(self.path, "empty file; a song starts with 'tracker-song 1'", 1)
        for self.line_no, line in enumerate(lines, 1):
            self._line(line)
        self._check_references()
        return self.song

    # --- errors --------------------------------------------------------------------------------

    def error(self, message: str, column: int | None = None) -> SongFormatError:
        """An error at the current line."""
        return SongFormatError(self.path, message, self.line_no, column)

    def fail(self, message: str, column: int | None = None) -> NoReturn:
        raise self.error(message, column)

    @contextmanager
    def at(self, column: int) -> Iterator[None]:
        """Report a RuleError raised inside as an error at `column` of the current line."""
        try:
            yield
        except RuleError as exc:
            raise self.error(str(exc), column) from None

    # --- tokens --------------------------------------------------------------------------------

    def expect(self, tokens: list[Token], count: int, usage: str) -> None:
        """Fail unless the statement has exactly `count` tokens."""
        if len(tokens) > count:
            self.fail(f"too many values; expected '{usage}'", tokens[count].column)
        if len(tokens) < count:
            self.fail(f"missing value; expected '{usage}'", len(self.line) + 1)

    def word(self, token: Token, what: str) -> str:
        if token.quoted:
            self.fail(f"{what} is not written in quotes", token.column)
        return token.text

    def string(self, token: Token, what: str) -> str:
        if not token.quoted:
            self.fail(f'{what} must be in double quotes, like "{token.text[:20]}"', token.column)
        return token.text

    def whole(self, token: Token, lowest: int, highest: int, what: str) -> int:
        text = self.word(token, what)
        if not _WHOLE.fullmatch(text):
            self.fail(f"{what} must be a whole number, not {show(text)}", token.column)
        with self.at(token.column):
            return check_int(int(text), lowest, highest, what)

    def use_instrument(self, number: int, column: int, spelled: str) -> None:
        """Note a use of an instrument number, checked against the declarations at the end."""
        if number not in self.instrument_uses:
            message = f"instrument {spelled} is not declared (add 'instrument {number} PRESET')"
            self.instrument_uses[number] = (self.line_no, column, message)

    # --- lines ---------------------------------------------------------------------------------

    def _line(self, raw: str) -> None:
        line = raw[:-1] if raw.endswith("\r") else raw
        if self.line_no == 1 and line.startswith("\ufeff"):
            line = line[1:]  # a byte order mark some editors add
        if len(line) > MAX_LINE_CHARS:
            self.fail(f"line is longer than {MAX_LINE_CHARS} characters", MAX_LINE_CHARS + 1)
        bad = FORBIDDEN_IN_LINE.search(line)
        if bad:
            self.fail(f"{describe_char(bad.group())} is not allowed", bad.start() + 1)
        self.line = line
        if self.line_no == 1:
            self._magic(line)
        elif not line.strip(" \t"):
            return
        elif line[0] in " \t":
            self._indented(line)
        else:
            read_statement(self, lex(line, self.fail))

    def _magic(self, line: str) -> None:
        match = _MAGIC_LINE.fullmatch(line)
        if match is None:
            self.fail("not a tracker song: the first line must be 'tracker-song 1'", 1)
        if match.group(1) != "1":
            message = f"unsupported format version {show(match.group(1))} (this program reads 1)"
            self.fail(message, match.start(1) + 1)

    def _indented(self, line: str) -> None:
        if isinstance(self.block, PatternBlock):
            read_row(self, self.block, line)
        elif isinstance(self.block, TrackBlock):
            read_track_field(self, self.block, lex(line, self.fail))
        elif isinstance(self.block, MasterBlock):
            read_master(self, self.block, lex(line, self.fail))
        else:
            self.fail("an indented line belongs under a track, the master or a pattern", 1)

    # --- whole-song checks ---------------------------------------------------------------------

    def _check_references(self) -> None:
        song = self.song
        problems = [use for n, use in self.instrument_uses.items() if n not in song.instruments]
        problems += check_names(song, self.name_refs, self.outputs, self.senders)
        for position, (pattern_id, line, column) in enumerate(self.order_refs):
            if pattern_id not in song.patterns:
                message = f"order position {position}: there is no pattern {pattern_id}"
                problems.append((line, column, message))
        if song.loop is not None and self.loop_at is not None and song.loop[1] >= len(song.order):
            count = len(song.order)
            entries = "an empty order list" if count == 0 else f"order positions 0..{count - 1}"
            problems.append((*self.loop_at, f"loop end {song.loop[1]} is outside {entries}"))
        if problems:
            line, column, message = min(problems)
            raise SongFormatError(self.path, message, line, column)
