"""Instrument presets by name: find `NAME.preset`, load it with its kind's module, cache it.

Search order: the given search dirs (a song's own folder, say), then the shipped instruments.
Each kind's module exposes `load(preset, rate) -> InstrumentFactory`; modules are imported only
when a preset of their kind is first loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from tracker.dsp.audio_clips import load_clip
from tracker.dsp.instrument import Instrument
from tracker.dsp.presets import PresetFile, parse_preset
from tracker.model.errors import TrackerError
from tracker.paths import inside, instruments_dir

LOADERS = {
    "synth": "tracker.dsp.synth",
    "sampler": "tracker.dsp.sampler",
    "drumkit": "tracker.dsp.drumkit",
}


class InstrumentFactory(Protocol):
    """What a kind's `load` returns: a validated preset that makes independent instances."""

    def create(self) -> Instrument: ...


class InstrumentLibrary:
    """Presets by name for one sample rate; each is parsed and loaded once."""

    def __init__(
        self, rate: int, search_dirs: Sequence[Path] = (), song_dir: Path | None = None
    ) -> None:
        """`song_dir` is the song's folder, where its audio clips' paths start."""
        self.rate = rate
        self.dirs = [Path(d) for d in search_dirs] + [instruments_dir()]
        self.song_dir = song_dir
        self._factories: dict[str, InstrumentFactory] = {}
        self._clips: dict[str, np.ndarray] = {}

    def available(self) -> list[str]:
        """Every preset name the search dirs hold, sorted."""
        names = set()
        for folder in self.dirs:
            if folder.is_dir():
                names.update(p.stem for p in folder.glob("*.preset"))
        return sorted(names)

    def path(self, name: str) -> Path:
        """Where preset `name` lives (the first search dir that has it).

        Raises:
            TrackerError: no such preset, or it is a symlink leading out of the search dirs.
        """
        # A name is a file stem, never a path: "../x" must not reach outside the folders,
        # nor may a symlink there (a song's folder is as foreign as its file).
        if name and "/" not in name and "\\" not in name and name not in (".", ".."):
            for folder in self.dirs:
                candidate = folder / f"{name}.preset"
                if candidate.is_file():
                    inside(folder, candidate.name, also=self.dirs, what="preset")
                    return candidate
        available = ", ".join(self.available()) or "none"
        raise TrackerError(f"unknown instrument preset {name!r} (available: {available})")

    def factory(self, name: str) -> InstrumentFactory:
        """The loaded preset `name`, cached.

        Raises:
            TrackerError: unknown name; SongFormatError (a TrackerError) for a bad preset file.
        """
        found = self._factories.get(name)
        if found is None:
            found = self._load(parse_preset(self.path(name)))
            self._factories[name] = found
        return found

    def create(self, name: str) -> Instrument:
        """A new instance of preset `name` with its own voices."""
        return self.factory(name).create()

    def clip(self, relative: str) -> np.ndarray:
        """The audio of clip file `relative` (a song's path, inside its folder), cached.

        Raises:
            TrackerError: no song folder; the file is missing or unreadable, or its real path
                (symlinks followed) leaves the song's folder and the shipped instruments/
                (named, one line).
        """
        found = self._clips.get(relative)
        if found is None:
            if self.song_dir is None:
                raise TrackerError(
                    f"audio file {relative!r}: the song has no folder (save it first)"
                )
            path = inside(self.song_dir, relative, also=[instruments_dir()], what="audio file")
            found = load_clip(path, self.rate)
            self._clips[relative] = found
        return found

    def _load(self, preset: PresetFile) -> InstrumentFactory:
        module_name = LOADERS[preset.kind]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise preset.error(f"{preset.kind} instruments are not available yet") from None
        factory: InstrumentFactory = module.load(preset, self.rate)
        return factory
