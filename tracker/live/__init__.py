"""Live playback: the transport the UI drives, the engine thread that renders ahead.

`Transport` is the engine in the caller's process (tests, benches, `tracker play`);
`RemoteTransport` runs it in a process of its own (the app: the UI's garbage collections and
GIL never reach the audio callback). Imported lazily: the app imports this package at start-up
and must not pay for numba and the instruments before its first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.live.remote import RemoteTransport
    from tracker.live.status import TransportStatus
    from tracker.live.transport import Transport

__all__ = ["RemoteTransport", "Transport", "TransportStatus"]

_HOMES = {
    "RemoteTransport": "tracker.live.remote",
    "Transport": "tracker.live.transport",
    "TransportStatus": "tracker.live.status",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
