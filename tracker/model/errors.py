"""The one error type the command line turns into a one-line message and exit code 2."""

from __future__ import annotations

from pathlib import Path


class TrackerError(Exception):
    """Bad input or a failed operation, with a message fit to show a user on one line."""


class SongFormatError(TrackerError):
    """A song, preset or MIDI file that cannot be read, located by file, line and column."""

    def __init__(
        self, path: str | Path, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = self.path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")
