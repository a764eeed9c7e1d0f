"""Reading and writing song files: a plain-text format, schema version 1 (docs/FORMAT.md).

`dumps` writes the canonical text and `loads` reads it back; for any song S the model can hold,
`dumps(loads(dumps(S))) == dumps(S)`. Every failure to read is a SongFormatError located by file,
line and column; no other exception escapes `loads` or `load_song`.
"""

from __future__ import annotations

from pathlib import Path

from tracker.atomic import write_bytes_atomic
from tracker.model.errors import SongFormatError
from tracker.model.serialize_common import MAX_FILE_BYTES
from tracker.model.serialize_read import SongReader
from tracker.model.serialize_write import dumps
from tracker.model.song import Song

__all__ = ["SongFormatError", "dumps", "load_song", "loads", "save_song"]


def loads(text: str, path: str | Path = "<string>") -> Song:
    """Parse the text of a song file.

    Args:
        text: the whole file.
        path: the file name to put in error messages.

    Raises:
        SongFormatError: the text is not a valid song file (and only that).
        TypeError: `text` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"loads() wants str, not {type(text).__name__}")
    reader = SongReader(str(path))
    try:
        return reader.read(text)
    except SongFormatError:
        raise
    except Exception as exc:
        # A bug in the reader must still reach the user as one line about their file.
        message = f"cannot read this file ({type(exc).__name__}: {exc})".replace("\n", " ")
        raise SongFormatError(path, message, reader.line_no or None) from exc


def load_song(path: str | Path) -> Song:
    """Read a song file.

    Raises:
        SongFormatError: the file is missing, unreadable, not UTF-8, too big or not a valid song.
    """
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SongFormatError(path, f"cannot read the file: {reason}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise SongFormatError(path, "file is larger than 64 MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, data, exc) from None
    return loads(text, path)


def _decode_error(path: str | Path, data: bytes, exc: UnicodeDecodeError) -> SongFormatError:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
    message = f"not UTF-8 text (byte 0x{data[exc.start]:02X} cannot start or continue a character)"
    return SongFormatError(path, message, line, column)


def save_song(song: Song, path: str | Path) -> None:
    """Write `song` to `path` atomically: a crash leaves the old file or the new one, whole.

    Raises:
        ValueError: the song breaks a rule of the format; nothing is written.
        TrackerError: the file cannot be written; the old file is left as it was.
    """
    write_bytes_atomic(path, dumps(song).encode("utf-8"))
