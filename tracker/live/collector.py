"""Keep Python's full garbage collections out of playback.

The audio callback needs the GIL for its copy out of the ring. A full (generation 2)
collection holds the GIL while it walks every tracked object: with a Textual UI alive that was
80–110 ms, far past a 10.7 ms audio period, and each one was a device under-run. So: freeze what
exists once the app is up (frozen objects are never walked), suspend full collections while
the song plays, and catch up once it has stopped. Young-generation collections (under 10 ms
here) go on as usual, so memory use stays bounded by what playback itself allocates.
"""

from __future__ import annotations

import gc

# A full collection runs after this many middle-generation ones: effectively never.
SUSPENDED = 1_000_000


def settle() -> None:
    """Collect now and freeze what survives (a moment when nothing plays)."""
    gc.collect()
    gc.freeze()


class CollectorGuard:
    """Suspends full collections between `playing()` and `stopped()`."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    @property
    def suspended(self) -> bool:
        return self._saved is not None

    def playing(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(self._saved[0], self._saved[1], SUSPENDED)

    def stopped(self) -> None:
        """Restore the thresholds and catch up (call it when a pause is harmless)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            settle()


def suspend_until_exit() -> None:
    """For a process that plays until it ends (`tracker play`): collect and freeze now, then no
    full collections at all."""
    settle()
    CollectorGuard().playing()
