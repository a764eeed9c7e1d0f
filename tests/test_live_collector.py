"""Full garbage collections wait while the song plays (they hold the GIL for tens of ms)."""

from __future__ import annotations

import gc

from tracker.live.collector import SUSPENDED, CollectorGuard


def test_full_collections_are_suspended_while_playing_and_caught_up_after():
    before = gc.get_threshold()
    guard = CollectorGuard()
    try:
        guard.playing()
        guard.playing()  # twice is harmless: the saved thresholds stay the original ones
        assert gc.get_threshold() == (before[0], before[1], SUSPENDED)
        collections = gc.get_stats()[2]["collections"]
        guard.stopped()
        assert gc.get_threshold() == before
        assert gc.get_stats()[2]["collections"] == collections + 1  # caught up at once
        assert not guard.suspended
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
