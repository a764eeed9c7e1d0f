"""Level meters: the master's and each track's peak travel with the block being heard, and the
transport bar and the grid's header draw them."""

from __future__ import annotations

import numpy as np

from tests.test_live_transport import pull, transport
from tracker.model.serialize import load_song
from tracker.paths import demo_song
from tracker.ui.transport_bar import meter_text

DRUMS, PAD = 0, 3


def test_the_status_carries_the_levels_of_what_is_heard() -> None:
    song = load_song(demo_song())
    song.tracks[PAD].mute = True
    live, sink = transport(song)
    try:
        live.play()
        heard = pull(sink, 48000)
        status = live.status()
    finally:
        live.close()
    assert status.playing
    assert 0.01 < status.level <= float(np.abs(heard).max()) + 1e-6
    assert len(status.track_levels) == len(song.tracks)
    assert status.track_levels[DRUMS] > 0.01  # the kick plays on the beat
    assert status.track_levels[PAD] == 0.0  # muted


def test_the_meter_text_reads_in_db() -> None:
    assert meter_text(0.0) == "▕········▏   -∞ dB"
    assert meter_text(1.0) == "▕████████▏ +0.0 dB"
    half = meter_text(10 ** (-24 / 20))  # -24 dBFS: half of the 48 dB scale
    assert half == "▕████····▏-24.0 dB"


async def test_the_grid_header_shows_each_tracks_level(tmp_path) -> None:
    from tests.test_ui_audio import SIZE, demo_app

    app = demo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # What the status timer hands the grid 20 times a second (no transport here).
        app.grid.show_levels((1.0, 10 ** (-24 / 20), 0.0, 0.0, 0.0))
        header = app.grid.render_line(0).text.split("│")
        assert header[1].rstrip().endswith("█")  # Drums at full scale
        assert header[2].rstrip().endswith("▄")  # Bass at -24 dBFS
        assert header[3].rstrip().endswith("Keys")  # silent: no glyph but a space
