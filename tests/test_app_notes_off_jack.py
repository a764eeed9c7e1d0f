"""No hanging notes from the app: stop and quit while MIDI tracks hold notes, checked at
jack_midi_dump (an independent JACK MIDI receiver), with the engine in its own process as the
app runs it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.jack import MidiDump, jack_server, unmatched_notes
from tests.test_jack_restart import wait_until
from tracker.live.midi_out import MidiSetup, song_routes
from tracker.model.song import OFF, NoteCell, Pattern, Song, Track, TrackKind
from tracker.session.document import Document
from tracker.ui.app import TrackerApp

ROWS = 16


def held_notes_song(port: str) -> Song:
    """Two MIDI tracks whose notes last three rows of four: at any moment notes are sounding."""
    tracks = [
        Track(f"Synth {i + 1}", kind=TrackKind.MIDI, port=port, channel=i + 1) for i in range(2)
    ]
    song = Song(bpm=140.0, tracks=tracks)
    pattern = Pattern(ROWS)
    for track in range(2):
        for row in range(0, ROWS, 4):
            pattern.set_note(track, row, 0, NoteCell(48 + track * 7 + row, velocity=90))
            pattern.set_note(track, row + 3, 0, NoteCell(OFF))  # OFF a row before the next
    song.patterns[0] = pattern
    song.order = [0]
    return song


async def test_stop_and_quit_in_the_app_end_every_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with jack_server(tmp_path, 256) as env:
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            monkeypatch.setenv(key, env[key])  # the engine's process inherits them
        dump = MidiDump(env, tmp_path, "synths")
        song_path = tmp_path / "held.song"
        document = Document(held_notes_song(dump.port), song_path)
        document.save()

        def engine(doc: Document):  # type: ignore[no-untyped-def]
            from tracker.live.remote import RemoteTransport

            midi = MidiSetup("jack", song_routes(doc.song))
            return RemoteTransport(doc.song, song_dir=tmp_path, midi=midi)

        def ons() -> int:
            return sum(m.is_note_on for m in dump.messages())

        app = TrackerApp(Document.open(song_path), transport_factory=engine, autosave_seconds=0)
        try:
            async with app.run_test(size=(160, 48)) as pilot:

                def ready() -> bool:
                    transport = app.transport
                    return transport is not None and "MIDI: off" not in transport.status().midi

                assert await wait_until(pilot, ready, 60)
                await pilot.press("space")  # play
                assert await wait_until(pilot, lambda: ons() >= 3, 20), dump.messages()
                await pilot.press("space")  # stop, with a note held on each track
                await pilot.pause(1.0)
                after_stop = dump.messages()
                assert unmatched_notes(after_stop) == [], after_stop
                played = ons()
                await pilot.press("space")  # play again, then quit while notes sound
                assert await wait_until(pilot, lambda: ons() >= played + 3, 20)
                await pilot.press("ctrl+q")
                await pilot.pause(0.5)
            time.sleep(0.5)  # the engine's process ends after its last messages
        finally:
            dump.close()  # jack_midi_dump prints what it holds as it ends
    received = dump.messages()
    assert sum(m.is_note_on for m in received) >= played + 3
    assert unmatched_notes(received) == [], received
