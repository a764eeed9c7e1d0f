"""Live playback: the transport the UI drives, the engine thread that renders ahead.

`Transport` is imported lazily: the app imports this package at start-up (for the collector
guard) and must not pay for numba and the instruments before its first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.live.transport import Transport, TransportStatus

__all__ = ["Transport", "TransportStatus"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tracker.live import transport

        return getattr(transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
