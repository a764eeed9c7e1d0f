"""`tracker record`: play one track over MIDI to a hardware synth and record what comes back on
the audio interface's inputs — the take, aligned to the song, in a WAV file.

The round trip (MIDI out, the synth, the audio input) is measured with a test note the first
time a device and port meet, stored (live/latency_store.py), and taken off the take: sample 0 of
the take is the moment the song starts, as if the synth answered at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from tracker.atomic import atomic_path
from tracker.commands.play import stop_on_signals
from tracker.commands.songs import instrument_dirs, open_song, refuse_overwrite, song_folder
from tracker.dsp.onsets import first_onset_after
from tracker.engine.timeline import length_seconds
from tracker.live.midi_out import MidiSetup, Route
from tracker.midi.ports import resolve_api
from tracker.model.errors import TrackerError
from tracker.model.events import NoteOff, NoteOn
from tracker.model.song import Song, TrackKind

if TYPE_CHECKING:
    from tracker.audio.input import InputRecorder
    from tracker.live.transport import Transport

RATE = 48000
BLOCK = 512
TEST_PITCH = 60
TEST_VELOCITY = 110
TEST_SECONDS = 0.6  # listening for a test note: a round trip longer than this is no synth
TEST_NOTES = 5
STEP = 256  # frames between the points of the input clock's map
LEAD_SECONDS = 0.1  # a message is due this far ahead of the moment it is queued


def solo_track(song: Song, index: int) -> Song:
    """Only `index` plays (and through MIDI): the take holds that part and nothing else."""
    tracks = [
        dataclasses.replace(track, solo=i == index, mute=i != index)
        for i, track in enumerate(song.tracks)
    ]
    return dataclasses.replace(song, tracks=tracks)


@dataclasses.dataclass(frozen=True, slots=True)
class Take:
    """How to record one MIDI track's synth back (the `tracker record` options)."""

    channels: list[int]  # input channels, 1-based
    device: str | None = None  # input device: name or part of it
    midi_api: str | None = None
    tail: float = 2.0  # seconds recorded after the song's end
    preroll: float = 1.0  # seconds before measuring
    remeasure: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Take:
        """The options `tracker record` and `tracker freeze` (of a MIDI track) share."""
        from tracker.audio.input import parse_channels

        return cls(
            parse_channels(args.input),
            args.audio_device,
            args.midi_api,
            args.tail,
            args.preroll,
            args.remeasure,
        )


def run_record(args: argparse.Namespace) -> int:
    song, path = open_song(args.song)
    refuse_overwrite(args.output, path, "song")
    index = midi_track(song, args.track)
    return 130 if record_track(song, path, index, Take.from_args(args), args.output) else 0


def record_track(song: Song, path: Path, index: int, take: Take, output: Path) -> bool:
    """Play track `index` to its synth and write what comes back, aligned, to `output`
    (32-bit float). Returns True when stopped early (ctrl-c, SIGTERM): what was recorded is
    written all the same.

    Raises:
        TrackerError: no such input or port, the test note never came back, …
    """
    from tracker.audio.input import InputRecorder
    from tracker.audio.sinks import ClockSink
    from tracker.live.latency_store import LatencyStore
    from tracker.live.transport import Transport

    track = song.tracks[index]
    api = resolve_api(take.midi_api)
    setup = MidiSetup(api, {index: Route(track.port or "", track.channel)})
    song = solo_track(song, index)
    seconds = length_seconds(song) + take.tail
    recorder = InputRecorder(RATE, take.channels, take.device, seconds + take.preroll + 10)
    with stop_on_signals() as stop:
        transport = Transport(
            song,
            rate=RATE,
            block=BLOCK,
            output=ClockSink(RATE, BLOCK, "recording"),
            search_dirs=instrument_dirs(path),
            song_dir=song_folder(path),
            midi=setup,
        )
        try:
            midi = transport.midi
            assert midi is not None
            port = midi.port_names()[0]
            recorder.start()
            inputs = ",".join(str(c) for c in take.channels)
            _say(f"recording {recorder.device.name} input {inputs}, {track.name!r} to {port}")
            stop.wait(take.preroll)  # time to wire things up, and for the input to settle
            store = LatencyStore()
            latency = None if take.remeasure else store.get(recorder.device.name, port)
            if latency is None and not stop.is_set():
                latency = _measure(transport, recorder, index)
                store.put(recorder.device.name, port, latency)
                _say(f"measured round trip {latency * 1000:.1f} ms (stored)")
            elif latency is not None:
                _say(f"round trip {latency * 1000:.1f} ms (stored; --remeasure measures again)")
            if stop.is_set():
                raise TrackerError("interrupted before the take began; nothing written")
            transport.play()
            started = _wait_for_start(transport)
            while transport.playing and not stop.is_set():
                stop.wait(0.05)
            stop.wait(take.tail)
            transport.stop()
            time.sleep(0.25)
        finally:
            recording = recorder.stop()
            transport.close()
    assert latency is not None
    audio, strayed = _aligned(recording, recorder, started + round(latency * 1e9), seconds)
    if strayed >= 0.5:
        _say(
            f"the input's clock strayed {strayed / RATE * 1000:.1f} ms from the song's: "
            "the take follows the input's clock"
        )
    with atomic_path(output) as tmp:
        sf.write(tmp, audio, RATE, subtype="FLOAT", format="WAV")
    note = " (stopped early)" if stop.is_set() else ""
    _say(f"wrote {output}: {len(audio) / RATE:.2f} s, {audio.shape[1]} channel(s){note}")
    return stop.is_set()


def midi_track(song: Song, name: str) -> int:
    """The index of the MIDI track called `name` (or the unique start of it).

    Raises:
        TrackerError: no such track, or it sends no MIDI.
    """
    try:
        index = song.track_index(name)
    except KeyError as exc:
        raise TrackerError(str(exc.args[0])) from None
    track = song.tracks[index]
    if track.kind is not TrackKind.MIDI or not track.port:
        raise TrackerError(
            f"track {track.name!r} sends no MIDI: give it `kind midi` and the synth's `port`"
        )
    return index


def _measure(transport: Transport, recorder: InputRecorder, track: int) -> float:
    """Send test notes and find them in the input: the median seconds from send to onset.

    MIDI and audio both move in whole periods of the audio system, so one note's round trip
    is off by up to a period either way; the median of a few is the steady part.
    """
    trips = sorted(_round_trip(transport, recorder, track) for _ in range(TEST_NOTES))
    return trips[len(trips) // 2]


def _round_trip(transport: Transport, recorder: InputRecorder, track: int) -> float:
    midi = transport.midi
    assert midi is not None
    clock = midi.clock
    frame = clock.frame_at(time.perf_counter_ns() + round(LEAD_SECONDS * 1e9))
    if frame is None:
        raise TrackerError("the output clock has not started; cannot measure the round trip")
    frame = int(frame) + 1
    sent = clock.ns_at(frame)
    from_frame = recorder.frames_recorded
    midi.event(frame, NoteOn(0, track, TEST_PITCH, TEST_VELOCITY))
    midi.event(frame + RATE // 5, NoteOff(0, track, TEST_PITCH))
    time.sleep(LEAD_SECONDS + TEST_SECONDS)
    onset = first_onset_after(recorder.peek(), recorder.rate, from_frame)
    if onset is None:
        inputs = ",".join(str(c) for c in recorder.channels)
        raise TrackerError(
            f"the test note never came back on input {inputs} of {recorder.device.name}: "
            "is the synth's audio connected?"
        )
    return (recorder.time_ns_of_frame(onset) - sent) / 1e9


def _wait_for_start(transport: Transport) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        started = transport.start_ns()
        if started is not None:
            return int(started)
        time.sleep(0.005)
    raise TrackerError("playing did not start")


def _aligned(
    recording: np.ndarray, recorder: InputRecorder, heard_ns: int, seconds: float
) -> tuple[np.ndarray, float]:
    """The recording on the song's time line: sample k is what entered the input at
    `heard_ns` + k / rate. Returns it with how far the input's clock strayed (in frames).

    A sound card's clock differs from the system's by a few ppm, and then the take is the
    recording shifted by whole frames. An input that lost time (a JACK server missing its
    deadlines drops whole periods) is read through its own clock instead, so every note
    stays where it was played.
    """
    frames = round(seconds * RATE)
    grid = np.arange(0, len(recording) + STEP, STEP)
    grid[-1] = max(len(recording) - 1, 0)
    times = np.array([recorder.time_ns_of_frame(int(g)) for g in grid], dtype=np.float64)
    wanted = heard_ns + np.arange(frames) * (1e9 / RATE)
    where = np.interp(wanted, times, grid.astype(np.float64), left=-1.0, right=-1.0)
    start = where[0]
    inside = where >= 0
    drift = where - (start + np.arange(frames))
    strayed = float(np.max(np.abs(drift[inside]))) if inside.any() else 0.0
    take = np.zeros((frames, recording.shape[1]), dtype=np.float32)
    if strayed < 0.5:
        first = round(start)
        piece = recording[max(first, 0) : max(first, 0) + frames]
        take[max(-first, 0) : max(-first, 0) + len(piece)] = piece[: frames - max(-first, 0)]
        return take, strayed
    positions = np.arange(len(recording), dtype=np.float64)
    for channel in range(recording.shape[1]):
        take[inside, channel] = np.interp(where[inside], positions, recording[:, channel])
    return take, strayed


def _say(text: str) -> None:
    print(f"tracker: {text}", file=sys.stderr, flush=True)
