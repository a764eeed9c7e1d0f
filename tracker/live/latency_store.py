"""The measured round trip (MIDI out → synth → audio in) per audio device and MIDI port.

`tracker record` measures it with a test note and compensates it in the take; storing it lets
the next take start without measuring again. The file is small JSON:

    {"version": 1, "latencies": {"<audio device>": {"<midi port>":
        {"seconds": 0.0123, "measured": "2025-01-31T12:00:00+00:00"}}}}

Where: `$TRACKER_STATE_DIR/latency.json` if that is set, else
`$XDG_STATE_HOME/tracker/latency.json`, else `~/.local/state/tracker/latency.json`.

A file that cannot be read or is not this JSON is treated as empty: `get` answers None and
leaves it alone. The next `put` sets it aside as `latency.json~` (`latency.json~1`, … if that
exists: an earlier one is never overwritten) and `set_aside` names it, so nothing is deleted
unseen and the caller can say where it went. Writes replace the file atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.atomic import atomic_path
from tracker.model.errors import TrackerError

FILE_NAME = "latency.json"
VERSION = 1


def default_path() -> Path:
    """Where the latencies live (see the module docstring); read from the environment now."""
    folder = os.environ.get("TRACKER_STATE_DIR")
    if folder:
        return Path(folder).expanduser() / FILE_NAME
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tracker" / FILE_NAME


class LatencyStore:
    """Stored round-trip latencies in seconds, keyed by (audio device, MIDI port) names."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.set_aside: Path | None = None  # where put() moved an unreadable file, if it did

    def get(self, audio_device: str, midi_port: str) -> float | None:
        """The stored latency, or None: never measured, or the file is unreadable."""
        latencies = _load(self.path)
        if latencies is None:
            return None
        entry = latencies.get(audio_device, {}).get(midi_port)
        seconds = entry.get("seconds") if isinstance(entry, dict) else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return float(seconds) if math.isfinite(seconds) else None
        return None

    def put(self, audio_device: str, midi_port: str, seconds: float) -> None:
        """Store `seconds` for the pair, keeping every other entry.

        Raises:
            TrackerError: the folder or file cannot be written (one line; a caller that can
                carry on without storing should show it as a warning).
        """
        if not math.isfinite(seconds):
            raise ValueError(f"latency must be a finite number of seconds, not {seconds}")
        latencies = _load(self.path)
        if latencies is None:
            latencies = {}
            if self.path.exists():
                self.set_aside = _set_aside(self.path)
        latencies.setdefault(audio_device, {})[midi_port] = {
            "seconds": float(seconds),
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        text = json.dumps({"version": VERSION, "latencies": latencies}, indent=2) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackerError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        with atomic_path(self.path) as tmp:
            tmp.write_text(text, encoding="utf-8")


def _load(path: Path) -> dict[str, dict[str, Any]] | None:
    """The latencies in `path`: {} when there is no file, None when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    latencies = data.get("latencies")
    if not isinstance(latencies, dict) or not all(isinstance(v, dict) for v in latencies.values()):
        return None
    return latencies


def _set_aside(path: Path) -> Path | None:
    """Rename `path` to the first free `<name>~`, `<name>~1`, …; None if it cannot be moved
    (the write that follows then fails and says why)."""
    for number in range(1000):
        spare = path.with_name(f"{path.name}~{number or ''}")
        if spare.exists():
            continue
        with contextlib.suppress(OSError):
            os.rename(path, spare)
            return spare
        return None
    return None
