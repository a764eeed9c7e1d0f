"""`tracker play`: play a song without the app — built-in instruments to the audio device, MIDI
tracks to their ports — until its end, `--duration`, ctrl-c or SIGTERM; then end every note."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tracker.commands.songs import instrument_dirs, open_song, song_folder
from tracker.dsp import gm
from tracker.dsp.mixer import track_preset
from tracker.live.midi_out import MidiSetup, song_routes
from tracker.midi.ports import resolve_api
from tracker.model.errors import TrackerError
from tracker.model.song import Song, TrackKind

RATE = 48000
BLOCK = 512
# After a stop the note-offs are rendered ahead like any event: wait until they have been heard.
STOP_SECONDS = 0.25


def parse_clock_port(text: str) -> tuple[str, float]:
    """`PORT` or `PORT@MS`: a clock port and its offset in ms (the part after the last @
    counts only when it is a number, so port names may hold @)."""
    name, at, offset = text.rpartition("@")
    if at and name:
        try:
            return name, float(offset)
        except ValueError:
            pass
    return text, 0.0


def every_track_to(song: Song, port: str) -> Song:
    """A copy of `song` whose every track plays through MIDI `port` on its own channel, each
    built-in instrument asking the synth for a like GM program."""
    tracks = []
    for track in song.tracks:
        program = track.program
        if program is None and track.kind is TrackKind.INSTRUMENT:
            program = gm.program_for_preset(track_preset(song, track))
        tracks.append(dataclasses.replace(track, kind=TrackKind.MIDI, port=port, program=program))
    return dataclasses.replace(song, tracks=tracks)


def midi_setup(song: Song, args: argparse.Namespace) -> MidiSetup | None:
    routes = song_routes(song)
    clock_out = dict(parse_clock_port(text) for text in args.clock_out or ())
    if not routes and not clock_out:
        return None
    virtual = frozenset([args.midi_out] if args.midi_out and args.virtual else [])
    return MidiSetup(resolve_api(args.midi_api), routes, clock_out, virtual)


def needs_audio(song: Song) -> bool:
    return any(song.tracks[i].makes_audio for i in song.audible_tracks())


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """ctrl-c and SIGTERM set the event instead of killing us mid-note."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_play(args: argparse.Namespace) -> int:
    from tracker.audio.sinks import ClockSink
    from tracker.live import collector
    from tracker.live.clock_in import ClockSync, without_tempo_effects
    from tracker.live.transport import Transport

    song, path = open_song(args.song)
    if not song.order:
        raise TrackerError(f"{path}: nothing to play: the order list is empty")
    if args.midi_out:
        song = every_track_to(song, args.midi_out)
    if args.clock_in:
        song = without_tempo_effects(song)
    setup = midi_setup(song, args)
    output = None if needs_audio(song) else ClockSink(RATE, BLOCK, "MIDI only")
    with stop_on_signals() as stop:
        transport = Transport(
            song,
            rate=RATE,
            block=BLOCK,
            device=args.audio_device,
            search_dirs=instrument_dirs(path),
            song_dir=song_folder(path),
            output=output,
            midi=setup,
        )
        sync = None
        try:
            if args.clock_in:
                sync = ClockSync(transport, song, resolve_api(args.midi_api), args.clock_in)
                print(f"tracker: following MIDI clock from {sync.source}", file=sys.stderr)
            if transport.midi is not None:
                transport.midi.on_warning = _warn
                ports = ", ".join(transport.midi.port_names())
                print(f"tracker: MIDI to {ports}", file=sys.stderr, flush=True)
            print(f"tracker: playing {path.name} ({transport.status().audio})", file=sys.stderr)
            # A full garbage collection holds the GIL for 30-100 ms, as long as the engine's
            # lead: none while playing, as in the app's engine.
            collector.suspend_until_exit()
            if sync is None:
                transport.play(loop_song=args.loop)
                _wait(transport, stop, args.duration)
            else:  # the clock's Start says when; play until told to stop
                stop.wait(args.duration)
            interrupted = stop.is_set()
            transport.stop()
            time.sleep(STOP_SECONDS)
        finally:
            if sync is not None:
                sync.close()
            transport.close()
    return 130 if interrupted else 0


def _wait(transport: object, stop: threading.Event, duration: float | None) -> None:
    started = time.monotonic()
    while not stop.is_set():
        if duration is not None and time.monotonic() - started >= duration:
            return
        if not transport.playing:  # type: ignore[attr-defined]
            return
        stop.wait(0.05)


def _warn(text: str) -> None:
    print(f"tracker: {text}", file=sys.stderr, flush=True)


def run_ports(args: argparse.Namespace) -> int:
    """`tracker ports`: MIDI outputs and inputs, and audio devices."""
    from tracker.audio.output import AudioUnavailable, list_output_devices
    from tracker.midi.ports import MidiUnavailable, PortLister

    api = resolve_api(args.midi_api)
    try:
        lister = PortLister(api)
        outputs, inputs = lister.outputs(), lister.inputs()
        lister.close()
        print(f"MIDI outputs ({api}):")
        print("\n".join(f"  {name}" for name in outputs) or "  none")
        print(f"MIDI inputs ({api}):")
        print("\n".join(f"  {name}" for name in inputs) or "  none")
    except MidiUnavailable as exc:
        print(f"MIDI ({api}): {exc}")
    try:
        devices = list_output_devices()
        print("Audio outputs:")
        print("\n".join(f"  {d.label()}{' (default)' if d.default else ''}" for d in devices))
    except AudioUnavailable as exc:
        print(f"Audio outputs: none ({exc})")
    return 0
