"""Splitting a statement line of a song file into words and double-quoted strings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from tracker.model.serialize_common import FORBIDDEN_IN_STRING, MAX_STRING_CHARS, describe_char

_TOKEN = re.compile(r'(?P<string>"(?:[^"\\]|\\.)*")|(?P<open>")|(?P<word>[^ \t"]+)')
_ESCAPE = re.compile(r"\\(.)")

Fail = Callable[[str, int], NoReturn]


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # a string's text without its quotes and escapes
    column: int  # 1-based, where the token starts
    quoted: bool = False


def lex(line: str, fail: Fail) -> list[Token]:
    """Split `line` into tokens; `fail(message, column)` reports a malformed string."""
    tokens = []
    for match in _TOKEN.finditer(line):
        column = match.start() + 1
        if match.lastgroup == "open":
            fail("unterminated string (no closing '\"')", column)
        if match.lastgroup == "string":
            tokens.append(Token(_unescape(match.group()[1:-1], column + 1, fail), column, True))
        else:
            tokens.append(Token(match.group(), column))
    return tokens


def _unescape(body: str, column: int, fail: Fail) -> str:
    bad = FORBIDDEN_IN_STRING.search(body)
    if bad:
        fail(f"{describe_char(bad.group())} in a string", column + bad.start())
    for escape in _ESCAPE.finditer(body):
        if escape.group(1) not in '"\\':
            message = f"unknown escape '\\{escape.group(1)}' (only \\\" and \\\\ are allowed)"
            fail(message, column + escape.start())
    text = _ESCAPE.sub(r"\1", body)
    if len(text) > MAX_STRING_CHARS:
        fail(f"string is longer than {MAX_STRING_CHARS} characters", column - 1)
    return text
