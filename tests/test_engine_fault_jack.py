"""An exception inside the audio engine while notes are held: the engine says what broke,
keeps running, and every note the synth got a note-on for gets its note-off (checked at
jack_midi_dump, a real JACK receiver)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jack import MidiDump, jack_server, unmatched_notes, wait_for
from tracker.audio.sinks import ClockSink
from tracker.live.midi_out import MidiSetup, song_routes
from tracker.live.transport import Transport
from tracker.model.song import NoteCell, Pattern, Song, Track, TrackKind


def held_notes_song(port: str) -> Song:
    """Two tracks holding chords for the whole pattern (no note-offs until its end)."""
    tracks = [Track(f"T{i}", kind=TrackKind.MIDI, port=port, channel=i + 1) for i in range(2)]
    pattern = Pattern(64)
    for track in range(2):
        for column, pitch in enumerate((48, 52, 55)):
            pattern.set_note(track, 0, column, NoteCell(pitch + 12 * track, velocity=90))
        tracks[track].note_columns = 3
    return Song(bpm=120.0, tracks=tracks, patterns={0: pattern}, order=[0])


def test_an_engine_fault_ends_every_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with jack_server(tmp_path, 256) as env:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", env["JACK_DEFAULT_SERVER"])  # for rtmidi
        dump = MidiDump(env, tmp_path, "faultdump")
        transport = None
        try:
            song = held_notes_song(dump.port)
            setup = MidiSetup("jack", song_routes(song))
            transport = Transport(song, output=ClockSink(48000, 512, "test"), midi=setup)
            transport.play()
            assert wait_for(lambda: len([m for m in dump.messages() if m.is_note_on]) == 6, 5)

            def broken(*args: object) -> None:
                raise RuntimeError("a bug in a voice")

            transport._engine.renderer.render = broken  # type: ignore[method-assign]
            assert wait_for(lambda: "engine error: a bug in a voice" in transport.status().audio, 5)
            # The note-offs leave with the next blocks, while the transport is still open
            # (closing it would end them too).
            assert wait_for(lambda: unmatched_notes(dump.messages()) == [], 5), dump.messages()
            assert not transport.status().playing
        finally:
            if transport is not None:
                transport.close()
            dump.close()
        received = dump.messages()
    assert len([m for m in received if m.is_note_on]) == 6
    assert unmatched_notes(received) == []
