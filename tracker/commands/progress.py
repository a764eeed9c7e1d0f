"""A progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    WIDTH = 30
    INTERVAL = 0.1  # seconds between redraws: drawing must not slow the render

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.enabled = stream.isatty()
        self._last = 0.0

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.INTERVAL and fraction < 1.0:
            return
        self._last = now
        filled = int(self.WIDTH * fraction)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}%")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
