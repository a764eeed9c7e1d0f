"""The transport in its own process: the same playback, driven over a pipe.

This machine has no sound card, so the child plays on its silent clock; the playhead still
moves at the real rate. Waits poll the status with generous deadlines (no timing asserted).
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests.builders import note, one_track_song
from tests.conftest import REPO
from tracker.live.remote import RemoteTransport, apply_delta, song_delta
from tracker.model.copying import copy_song
from tracker.model.errors import TrackerError
from tracker.model.serialize import load_song
from tracker.model.song import Pattern
from tracker.paths import demo_song


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteTransport]:
    with RemoteTransport(load_song(demo_song())) as live:
        yield live


# -- the delta an edit travels as ---------------------------------------------------------------


def test_a_whole_song_delta_rebuilds_the_song():
    song = load_song(demo_song())
    assert apply_delta(None, song_delta(song)) == copy_song(song)


def test_an_edit_sends_only_its_pattern_and_rebuilds_the_edited_song():
    song = load_song(demo_song())
    previous = apply_delta(None, song_delta(song))
    edited = copy.deepcopy(song)
    first = edited.order[0]
    edited.patterns[first].set_note(0, 3, 0, note("A-5"))
    gone = next(pid for pid in edited.patterns if pid != first)
    del edited.patterns[gone]
    edited.patterns[99] = Pattern(8)
    edited.order.append(99)
    edited.bpm = 90.0
    delta = song_delta(edited, frozenset({first, 99, gone}))
    assert set(delta.song.patterns) == {first, 99}  # not the untouched ones
    rebuilt = apply_delta(previous, delta)
    assert rebuilt == copy_song(edited)
    assert list(rebuilt.patterns) == list(edited.patterns)
    edited.patterns[first].set_note(0, 4, 0, note("C-3"))  # the delta shares nothing with it
    edited.tracks[0].mute = not edited.tracks[0].mute
    assert rebuilt != copy_song(edited)


def test_a_delta_naming_an_unknown_pattern_is_refused():
    song = load_song(demo_song())
    with pytest.raises(ValueError):
        apply_delta(None, song_delta(song, frozenset()))


# -- playing through the child ------------------------------------------------------------------


def test_the_demo_plays_edits_are_heard_and_stop_stops(remote):
    assert not remote.status().audio_ok  # no device here: the silent clock
    remote.play()
    assert remote.playing
    assert eventually(lambda: remote.status().row >= 4)
    status = remote.status()
    assert status.playing and status.voices > 0 and status.order_index == 0

    song = load_song(demo_song())
    song.patterns[song.order[0]].set_note(0, 30, 0, note("C-5"))
    song.bpm = 150.0
    remote.update(song, frozenset({song.order[0]}))
    assert eventually(lambda: remote.status().bpm == 150.0)
    row = remote.status().row
    assert eventually(lambda: remote.status().row > row)  # still playing on
    assert remote.playing

    remote.stop()
    assert not remote.playing
    assert eventually(lambda: remote.status().voices == 0)
    assert not remote.status().playing


def test_an_audition_sounds_while_stopped(remote):
    remote.stop()
    assert eventually(lambda: remote.status().voices == 0)
    remote.audition(3, 60, 100, seconds=2.0)  # the pad: long enough to be seen
    assert eventually(lambda: remote.status().voices > 0)
    assert not remote.playing


def test_a_refused_edit_shows_in_the_status_until_a_good_one(remote):
    song = load_song(demo_song())
    bad = copy.deepcopy(song)
    bad.instruments[bad.tracks[0].instrument] = "no-such-preset"
    remote.update(bad, frozenset())  # nothing raised into the UI
    assert eventually(lambda: "no-such-preset" in remote.status().audio)
    remote.update(song, frozenset())
    assert eventually(lambda: "no-such-preset" not in remote.status().audio)


def test_a_song_that_ends_stops_by_itself():
    song = one_track_song({0: note("C-4"), 1: note("OFF")}, rows=2)
    with RemoteTransport(song) as live:
        live.play()
        assert live.playing
        assert eventually(lambda: not live.playing)


def test_close_ends_the_child():
    live = RemoteTransport(one_track_song({}))
    process = live.process
    assert process.is_alive()
    live.close()
    assert not process.is_alive()
    live.close()  # twice is harmless
    live.play()  # and commands after it are ignored
    assert not live.playing


def test_a_child_that_dies_says_so_and_commands_do_not_raise():
    live = RemoteTransport(one_track_song({}))
    try:
        live.process.kill()
        live.process.join()
        assert eventually(lambda: live.status().audio.startswith("audio engine stopped: "))
        assert not live.status().audio_ok
        live.play()
        live.update(one_track_song({}))
        live.audition(0, 60)
        live.stop()
        assert not live.playing
    finally:
        live.close()


def test_a_bad_instrument_is_the_constructors_error():
    song = one_track_song({0: note("C-4")}, instrument="no-such-preset")
    with pytest.raises(TrackerError, match="unknown instrument preset 'no-such-preset'"):
        RemoteTransport(song)


def test_the_parent_loads_neither_numba_nor_sounddevice():
    code = (
        "import sys, time\n"
        "from tracker.live.remote import RemoteTransport\n"
        "from tracker.model.serialize import load_song\n"
        "from tracker.paths import demo_song\n"
        "with RemoteTransport(load_song(demo_song())) as live:\n"
        "    live.play()\n"
        "    time.sleep(0.3)\n"
        "    print(live.status().playing)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'sounddevice')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["True", "[]"], result.stdout + result.stderr
