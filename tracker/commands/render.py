"""`tracker render` / `tracker bounce`: a song, pattern or track to WAV, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time

from tracker.commands.progress import ProgressBar
from tracker.commands.songs import instrument_dirs, open_song, refuse_overwrite, song_folder
from tracker.model.errors import SongFormatError, TrackerError
from tracker.render.offline import OfflineRender, RenderJob, render_to_wav


def run_render(args: argparse.Namespace) -> int:
    song, path = open_song(args.song)
    track = None
    if args.track is not None:
        try:
            track = song.track_index(args.track)
        except KeyError as exc:
            raise TrackerError(f"{path}: {exc.args[0]}") from None
    refuse_overwrite(args.output, path, "song")
    if not song.order and args.pattern is None:
        raise TrackerError(f"{path}: nothing to render: the order list is empty")
    job = RenderJob(
        song,
        rate=args.rate,
        pattern=args.pattern,
        track=track,
        search_dirs=instrument_dirs(path),
        song_dir=song_folder(path),
    )
    try:
        render = OfflineRender(job, with_stems=args.stems is not None)
    except SongFormatError:
        raise  # already names its file (a preset, a sample)
    except TrackerError as exc:
        raise TrackerError(f"{path}: {exc}") from None
    bar = ProgressBar(sys.stderr, label=args.output.name)
    started = time.perf_counter()
    result = render_to_wav(render, args.output, args.bits, args.stems, progress=bar)
    bar.finish()
    seconds = result.frames / args.rate
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.output} ({seconds:.2f} s at {args.rate} Hz, {args.bits}-bit,"
        f" {seconds / max(elapsed, 1e-9):.0f}x realtime)",
        file=sys.stderr,
    )
    if result.clipped:
        print(f"tracker: warning: {result.clipped} samples clipped", file=sys.stderr)
    return 0
