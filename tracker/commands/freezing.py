"""`tracker freeze | unfreeze | flatten | resample`: MIDI to audio, saved into the song.

Each renders what it needs beside the song (audio/), then saves the song atomically: a
failure leaves the song file as it was.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tracker.commands.progress import ProgressBar
from tracker.commands.songs import instrument_dirs, song_folder
from tracker.model import freezing
from tracker.model.errors import SongFormatError, TrackerError
from tracker.model.serialize import load_song, save_song
from tracker.model.song import Song, TrackKind
from tracker.paths import MIDI_SUFFIXES


def _open(path: Path) -> Song:
    if path.suffix.lower() in MIDI_SUFFIXES:
        raise TrackerError(f"{path}: a MIDI file has no audio folder: import it into a song first")
    return load_song(path)


def _track(song: Song, path: Path, name: str) -> int:
    try:
        return song.track_index(name)
    except KeyError as exc:
        raise TrackerError(f"{path}: {exc.args[0]}") from None


def _located(path: Path, exc: TrackerError) -> TrackerError:
    if isinstance(exc, SongFormatError) or str(exc).startswith(str(path)):
        return exc
    return TrackerError(f"{path}: {exc}")


def _save(song: Song, path: Path) -> None:
    try:
        save_song(song, path)
    except ValueError as exc:
        raise TrackerError(f"{path}: {exc}") from None


def run_freeze(args: argparse.Namespace) -> int:
    from tracker.render.freeze import freeze_tracks

    song = _open(args.song)
    if args.all:
        indices = [
            i
            for i, t in enumerate(song.tracks)
            if t.kind is TrackKind.INSTRUMENT and t.frozen is None
        ]
        if not indices:
            raise TrackerError(f"{args.song}: no instrument track left to freeze")
    else:
        indices = list(dict.fromkeys(_track(song, args.song, name) for name in args.track))
    midi = [i for i in indices if song.tracks[i].kind is TrackKind.MIDI]
    if midi:
        if len(indices) > 1:
            raise TrackerError(f"{args.song}: a MIDI track freezes alone (it is recorded)")
        return _freeze_recorded(song, args, midi[0])
    if args.input is not None:
        raise TrackerError(f"{args.song}: --input is for freezing a MIDI track")
    names = ", ".join(song.tracks[i].name for i in indices)
    bar = ProgressBar(sys.stderr, label=f"freeze {names}")
    try:
        paths = freeze_tracks(
            song, indices, song_folder(args.song), instrument_dirs(args.song), progress=bar
        )
    except TrackerError as exc:
        raise _located(args.song, exc) from None
    bar.finish()
    for index, relative in zip(indices, paths, strict=True):
        freezing.freeze(song, index, relative)
        print(f"froze {song.tracks[index].name!r} to {relative}", file=sys.stderr)
    _save(song, args.song)
    return 0


def _freeze_recorded(song: Song, args: argparse.Namespace, index: int) -> int:
    """Freeze a MIDI track in real time: play it to its synth and record the synth's audio
    back (`tracker record`'s way, latency taken off) as the track's frozen audio."""
    from tracker.commands.record import Take, record_track

    try:
        freezing.check_freezable(song, index, recorded=args.input is not None)
    except TrackerError as exc:
        raise _located(args.song, exc) from None
    from tracker.render.freeze import audio_target, exists_in

    relative = freezing.freeze_path(song, index, exists_in(song_folder(args.song)))
    try:
        target = audio_target(song_folder(args.song), relative)
    except TrackerError as exc:
        raise _located(args.song, exc) from None
    if record_track(song, args.song, index, Take.from_args(args), target):
        target.unlink(missing_ok=True)  # a partial take is no freeze; the song is unchanged
        print(f"tracker: stopped: {song.tracks[index].name!r} is not frozen", file=sys.stderr)
        return 130
    freezing.freeze(song, index, relative)
    _save(song, args.song)
    print(f"froze {song.tracks[index].name!r} to {relative} (recorded)", file=sys.stderr)
    return 0


def run_unfreeze(args: argparse.Namespace) -> int:
    return _change_track(args, lambda song, index: freezing.unfreeze(song, index), "unfroze {}")


def run_flatten(args: argparse.Namespace) -> int:
    from tracker.render.freeze import readable_in

    readable = readable_in(song_folder(args.song))
    return _change_track(
        args,
        lambda song, index: freezing.flatten(song, index, readable),
        "flattened {} into an audio track",
    )


def _change_track(args: argparse.Namespace, change: Callable[[Song, int], None], done: str) -> int:
    """Open the song, change its track `args.track`, save it atomically, say what was done."""
    song = _open(args.song)
    index = _track(song, args.song, args.track)
    try:
        change(song, index)
    except TrackerError as exc:
        raise _located(args.song, exc) from None
    _save(song, args.song)
    print(done.format(repr(song.tracks[index].name)), file=sys.stderr)
    return 0


def run_resample(args: argparse.Namespace) -> int:
    from tracker.render.freeze import resample

    song = _open(args.song)
    source = None if args.source is None else _track(song, args.song, args.source)
    name = freezing.unique_track_name(song, args.name)
    bar = ProgressBar(sys.stderr, label=f"resample into {name}")
    try:
        relative = resample(
            song, name, song_folder(args.song), source, instrument_dirs(args.song), progress=bar
        )
    except TrackerError as exc:
        raise _located(args.song, exc) from None
    bar.finish()
    freezing.add_resample(song, name, relative)
    _save(song, args.song)
    what = "the master" if source is None else repr(song.tracks[source].name)
    print(
        f"resampled {what} into track {name!r} ({relative}); it is muted: unmute it and mute"
        " what it replaces",
        file=sys.stderr,
    )
    return 0
