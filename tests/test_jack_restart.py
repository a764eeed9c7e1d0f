"""The JACK server dies while the app plays, and comes back: the app keeps running, says what
happened, starts a new audio engine, and plays again once the server is there (real parts:
a dummy-driver jackd, the app's audio engine in its own process)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.jack import free_server_name, jack_ports, require_program, server_env, start_jackd
from tests.test_ui_audio import notices
from tracker.paths import demo_song, song_folder
from tracker.session.document import Document
from tracker.ui.app import TrackerApp


async def wait_until(pilot, condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.2)
    return False


async def test_the_app_plays_again_after_the_jack_server_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("jack_lsp")
    env = server_env(free_server_name())
    for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
        monkeypatch.setenv(key, env[key])  # the audio engine's process inherits them
    log = tmp_path / "jackd.log"
    server = start_jackd(env, log, 256)
    song = tmp_path / "night.song"
    shutil.copy(demo_song(), song)

    def engine(document: Document):  # type: ignore[no-untyped-def]
        from tracker.live.remote import RemoteTransport

        return RemoteTransport(document.song, song_dir=song_folder(song))

    app = TrackerApp(Document.open(song), transport_factory=engine, autosave_seconds=0)

    def heard() -> bool:
        transport = app.transport
        return transport is not None and transport.status().audio_ok

    try:
        async with app.run_test(size=(160, 48)) as pilot:
            assert await wait_until(pilot, heard, 90), app.transport and app.transport.status()
            assert "JACK" in app.transport.status().audio  # type: ignore[union-attr]
            await pilot.press("space")
            await pilot.pause(0.5)

            server.kill()  # as a crash would: no goodbye to its clients
            server.wait()
            assert await wait_until(pilot, lambda: "audio lost" in notices(app), 15), notices(app)
            assert app.is_running

            server = start_jackd(env, log, 256)
            assert await wait_until(pilot, heard, 90), app.transport and app.transport.status()
            await pilot.press("space")
            assert await wait_until(pilot, lambda: app.transport.status().playing, 10)  # type: ignore[union-attr]
            assert any(p.startswith("PortAudio") for p in jack_ports(env))  # wired in again
    finally:
        server.terminate()
        server.wait()
