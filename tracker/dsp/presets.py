"""Instrument preset files: small `key value…` text files in instruments/, beside their WAVs.

    # a comment
    type synth
    name "Acid bass"
    wave saw
    attack 0.002

This module only reads the generic shape (type, name, keyed lines with their line numbers);
each instrument validates its own keys and reports errors at the line that holds them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.errors import SongFormatError

MAX_PRESET_BYTES = 1 << 20
MAX_LINE_CHARS = 4096  # shlex takes quadratic time over one long word: a 1 MiB line is minutes
KINDS = ("synth", "sampler", "drumkit")
SHOWN_CHARS = 40  # of a word from the file in a message
SHOWN_PATH_CHARS = 200  # of a sample path: longer ones are cut, the line number finds them


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """A word from the file for a one-line message: as written when short and printable, else
    quoted with its control characters escaped and cut short (`'samples/\\x00.wav'`)."""
    if len(text) <= limit and text.isprintable():
        return text
    return quoted(text, limit)


def quoted(text: str, limit: int = SHOWN_CHARS) -> str:
    """A word from the file in quotes (repr), cut short: `'wave'`, `'99999999…'`."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass(frozen=True, slots=True)
class PresetLine:
    key: str
    args: tuple[str, ...]
    line: int


@dataclass(slots=True)
class PresetFile:
    name: str  # the file's stem: what songs call it by
    path: Path
    kind: str
    title: str
    lines: list[PresetLine] = field(default_factory=list)

    def error(self, message: str, line: int | None = None) -> SongFormatError:
        return SongFormatError(self.path, message, line)

    def get(self, key: str) -> PresetLine | None:
        """The last line with this key (a later line overrides an earlier one)."""
        found = None
        for entry in self.lines:
            if entry.key == key:
                found = entry
        return found

    def all(self, key: str) -> list[PresetLine]:
        return [entry for entry in self.lines if entry.key == key]

    def number(self, key: str, default: float, low: float, high: float) -> float:
        """A single numeric value within [low, high], or `default` when the key is absent."""
        entry = self.get(key)
        if entry is None:
            return default
        if len(entry.args) != 1:
            raise self.error(f"{key} takes one number", entry.line)
        try:
            value = float(entry.args[0])
        except ValueError:
            message = f"{key}: {quoted(entry.args[0])} is not a number"
            raise self.error(message, entry.line) from None
        if not low <= value <= high:  # also rejects nan
            message = f"{key} {shown(entry.args[0])} is outside {low:g}..{high:g}"
            raise self.error(message, entry.line)
        return value

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        """A single whole number within [low, high], or `default` when the key is absent."""
        value = self.number(key, default, low, high)
        if not float(value).is_integer():
            entry = self.get(key)
            raise self.error(f"{key} must be a whole number", entry.line if entry else None)
        return int(value)

    def choice(self, key: str, default: str, options: tuple[str, ...]) -> str:
        entry = self.get(key)
        if entry is None:
            return default
        if len(entry.args) != 1 or entry.args[0] not in options:
            raise self.error(f"{key} must be one of {', '.join(options)}", entry.line)
        return entry.args[0]

    def unknown_keys(self, known: set[str]) -> None:
        """Reject keys the instrument does not know, so typos do not pass silently."""
        for entry in self.lines:
            if entry.key not in known:
                message = f"unknown key {quoted(entry.key)} for a {self.kind} preset"
                raise self.error(message, entry.line)


def parse_preset(path: str | Path) -> PresetFile:
    """Read a preset file's generic structure.

    Raises:
        SongFormatError: unreadable file, bad quoting, missing or unknown `type`.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_PRESET_BYTES:
            raise SongFormatError(path, "preset file is larger than 1 MiB")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SongFormatError(path, f"cannot read preset: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SongFormatError(path, "preset is not UTF-8 text") from None
    lines: list[PresetLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(stripped) > MAX_LINE_CHARS:
            raise SongFormatError(path, f"line is longer than {MAX_LINE_CHARS} characters", number)
        try:
            words = shlex.split(stripped, comments=True)
        except ValueError as exc:
            raise SongFormatError(path, f"bad quoting: {exc}", number) from None
        if words:
            lines.append(PresetLine(words[0], tuple(words[1:]), number))
    kinds = [entry for entry in lines if entry.key == "type"]
    if not kinds:
        raise SongFormatError(path, f"preset has no 'type' line ({', '.join(KINDS)})")
    kind_line = kinds[-1]
    if len(kind_line.args) != 1 or kind_line.args[0] not in KINDS:
        raise SongFormatError(path, f"type must be one of {', '.join(KINDS)}", kind_line.line)
    titles = [entry for entry in lines if entry.key == "name"]
    title = " ".join(titles[-1].args) if titles else path.stem
    body = [entry for entry in lines if entry.key not in ("type", "name")]
    return PresetFile(path.stem, path, kind_line.args[0], title, body)
