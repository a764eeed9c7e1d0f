"""Live playback: the transport the UI drives, the engine thread that renders ahead."""

from __future__ import annotations

from tracker.live.transport import Transport, TransportStatus

__all__ = ["Transport", "TransportStatus"]
